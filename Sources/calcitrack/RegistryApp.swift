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
    static func with<T>(_ options: DatabaseOptions, _ body: (Application) async throws -> T) async throws -> T {
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
