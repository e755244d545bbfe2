import Foundation

/// Where the registry lives: a SQLite file (the zero-set-up default), SQLite in memory (tests),
/// or PostgreSQL (multi-site). Chosen by `--database PATH|URL`, else `DATABASE_URL`, else
/// `./calcitrack.sqlite`.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqliteFile(String)
    case sqliteMemory
    case postgres(String)

    public static let defaultPath = "calcitrack.sqlite"

    public static func resolve(argument: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> DatabaseLocation {
        if let argument, !argument.isEmpty { return parse(argument) }
        if let url = environment["DATABASE_URL"], !url.isEmpty { return parse(url) }
        return .sqliteFile(defaultPath)
    }

    public static func parse(_ text: String) -> DatabaseLocation {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") { return .postgres(text) }
        if text == ":memory:" { return .sqliteMemory }
        if text.hasPrefix("sqlite://") { return .sqliteFile(String(text.dropFirst("sqlite://".count))) }
        return .sqliteFile(text)
    }

    public var isPostgres: Bool { if case .postgres = self { true } else { false } }

    /// For logs: the password of a URL is never printed.
    public var description: String {
        switch self {
        case .sqliteFile(let path): return "SQLite file \(path)"
        case .sqliteMemory: return "SQLite in memory"
        case .postgres(let url):
            if var c = URLComponents(string: url) { if c.password != nil { c.password = "***" }; return "PostgreSQL \(c.string ?? "")" }
            return "PostgreSQL"
        }
    }
}
