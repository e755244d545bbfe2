import ArgumentParser
import CalciTrackServer
import Foundation
import Vapor

/// `calcitrack serve`: the registry server (JSON API, health, metrics).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the registry server (creates and migrates the database on first start).")

    @OptionGroup var db: DatabaseOptions

    @ArgumentParser.Option(help: "Port to listen on.")
    var port: Int = 8080

    @ArgumentParser.Option(help: "Address to listen on (0.0.0.0 for every interface).")
    var hostname: String = "127.0.0.1"

    @ArgumentParser.Flag(help: "Load the demo patients even if the database is not empty.")
    var demo = false

    @ArgumentParser.Flag(name: .customLong("no-demo"), help: "Never load the demo patients.")
    var noDemo = false

    func run() async throws {
        let app = try await Application.make(Environment(name: "production", arguments: ["calcitrack", "serve"]))
        app.http.server.configuration.hostname = hostname
        app.http.server.configuration.port = port
        do {
            try await configure(app, ServerSettings(database: db.location, forceDemo: demo, demoWhenEmpty: !noDemo))
            if let password = try await Accounts.createDemoUserIfNoUsers(on: app.db) {
                say("First start: created the demo clinician  user: demo  password: \(password)  (shown once)")
            }
            say("CalciTrack registry on http://\(hostname):\(port)  (\(db.location); API /api/v1, OpenAPI /openapi.json)")
            say("memory allocator: \(MemoryAllocator.name)")
            try await app.execute()
            // SIGTERM or ^C: stop taking requests and let those in flight finish (Vapor's quiescing,
            // up to the server's shutdownTimeout) before the databases close. asyncShutdown alone
            // shuts the server and the databases down in no fixed order, and a request still
            // running found no database and crashed the process.
            await app.server.shutdown()
            try await app.asyncShutdown()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }
}

/// `calcitrack migrate`: runs the numbered migrations and exits.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the registry database, then exit.")
    @OptionGroup var db: DatabaseOptions

    func run() async throws {
        try await RegistryApp.with(db) { _ in print("migrations applied (\(db.location))") }
    }
}

/// Unbuffered, so the address reaches a pipe (a test harness, a log) at once.
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
