import ArgumentParser
import CalciTrackServer
import Foundation
import Vapor

/// `--database PATH|URL`, shared by every command that touches registry data.
struct DatabaseOptions: ParsableArguments {
    @ArgumentParser.Option(name: .customLong("database"),
                           help: "SQLite file path, or postgres://USER:PASS@HOST/DB. Default: $DATABASE_URL, else ./calcitrack.sqlite.")
    var database: String?

    var location: DatabaseLocation { DatabaseLocation.resolve(argument: database) }
}

/// Opens the registry (migrating it if needed) for one command, then shuts down.
enum RegistryApp {
    /// `existing`: the command only reads (export, audit verify, ...), so a SQLite file that does
    /// not exist is an error, not a new empty registry (SQLite creates the file it is asked to open).
    /// A registry error (an unknown patient or site) is printed as its message, exit status 1.
    static func with<T>(_ options: DatabaseOptions, existing: Bool = false, _ body: (Application) async throws -> T) async throws -> T {
        if existing, case .sqliteFile(let path) = options.location, !FileManager.default.fileExists(atPath: path) {
            throw fail("no registry at \(path): the SQLite file does not exist (check --database or $DATABASE_URL)")
        }
        do {
            return try await open(options, body)
        } catch let error as APIError {
            throw fail(error.reason)
        }
    }

    private static func open<T>(_ options: DatabaseOptions, _ body: (Application) async throws -> T) async throws -> T {
        let app = try await Application.make(Environment(name: "production", arguments: ["calcitrack"]))
        app.logger.logLevel = .warning
        do {
            try await configureForTools(app, options.location)
            let result = try await body(app)
            try await app.asyncShutdown()
            return result
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    /// Who runs a command, for audit entries.
    static var cliActor: String { "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? "unknown") }
}

/// Prints a failure to stderr and exits 1.
func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("calcitrack: \(message)\n".utf8))
    return ExitCode(1)
}
