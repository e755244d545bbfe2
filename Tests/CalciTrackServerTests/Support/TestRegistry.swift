@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import SQLKit
import Foundation
import Testing
import VaporTesting

/// A registry for one test: in-memory SQLite by default, the PostgreSQL database named by
/// `DATABASE_URL` when set (`.ci/run` runs the suite both ways; on PostgreSQL the schema is
/// reverted and migrated again for each test, and tests run serially). Two sites (A, B) and a
/// user of each role with a bearer token. Today is fixed at 2026-11-24.
struct TestRegistry {
    let app: Application
    let tokens: [String: String]
    let siteA: UUID
    let siteB: UUID
    let file: String?

    static let today = LocalDate(iso: "2026-11-24")!
    /// The demo patients' date shift in tests (no seed date lands on another seed date with it).
    static let demoDateShift = -137
    static let users: [(name: String, role: String, sites: [String])] = [
        ("clinA", "clinician", ["A"]), ("clinB", "clinician", ["B"]), ("research", "researcher", []), ("admin", "admin", []),
    ]
    static let password = "correct horse battery"

    static var location: DatabaseLocation {
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], url.hasPrefix("postgres") { return .postgres(url) }
        return .sqliteMemory
    }

    /// Runs `body` against a fresh registry. `sqliteFile: true` uses a temporary SQLite file
    /// (for tests that edit the file as an attacker would); on PostgreSQL runs it is ignored.
    static func run(demo: Bool = false, sqliteFile: Bool = false, _ body: (TestRegistry) async throws -> Void) async throws {
        var location = location
        var file: String?
        if sqliteFile && !location.isPostgres {
            file = NSTemporaryDirectory() + "calcitrack-test-\(UUID().uuidString).sqlite"
            location = .sqliteFile(file!)
        }
        // On PostgreSQL each test gets its own schema, so suites can run in parallel.
        let schema = location.isPostgres ? "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased() : nil
        let dataDirectory = NSTemporaryDirectory() + "calcitrack-test-\(UUID().uuidString.lowercased())"
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let app = try await Application.make(.testing)
        app.logger.logLevel = .warning
        app.registryClock = FixedClock(date: Date(timeIntervalSince1970: Double(today.daysSinceEpoch) * 86_400 + 12 * 3600))
        do {
            try await configure(app, ServerSettings(database: location, demoWhenEmpty: false, migrate: false, postgresSchema: schema,
                                                    dataDirectory: dataDirectory))
            if let schema { try await (app.db as! any SQLDatabase).raw("CREATE SCHEMA \(unsafeRaw: schema)").run() }
            try await app.autoMigrate()
            if case .sqliteFile = location { try await enableWriteAheadLog(app, location) }
            if demo {
                try await DemoData.load(on: app.db, today: today, logger: app.logger)
                // One fixed de-identification shift: a random one (1-364 days) sometimes moved a
                // date onto a date the tests look for as a secret in researchers' pages.
                try await (app.db as! any SQLDatabase).raw("UPDATE patients SET date_shift_days = \(bind: demoDateShift)").run()
            }
            try await Accounts.addSite(code: "A", name: "Site A", actor: "test", on: app.db)
            try await Accounts.addSite(code: "B", name: "Site B", actor: "test", on: app.db)
            var tokens: [String: String] = [:]
            for user in users {
                try await Accounts.addUser(username: user.name, role: user.role, password: password, siteCodes: user.sites, actor: "test", bcryptCost: 4, on: app.db)
                tokens[user.name] = try await Accounts.issueToken(username: user.name, label: "test", actor: "test", on: app.db)
            }
            let siteA = try await Site.query(on: app.db).filter(\.$code == "A").first()!.id!
            let siteB = try await Site.query(on: app.db).filter(\.$code == "B").first()!.id!
            try await body(TestRegistry(app: app, tokens: tokens, siteA: siteA, siteB: siteB, file: file))
        } catch {
            if let schema { try? await (app.db as! any SQLDatabase).raw("DROP SCHEMA \(unsafeRaw: schema) CASCADE").run() }
            try? await app.asyncShutdown()
            if let file { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + s) } }
            throw error
        }
        if let schema { try await (app.db as! any SQLDatabase).raw("DROP SCHEMA \(unsafeRaw: schema) CASCADE").run() }
        try await app.asyncShutdown()
        if let file { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + s) } }
    }

    struct Reply {
        let status: HTTPStatus
        let headers: HTTPHeaders
        let text: String
        var json: JSONValue { (try? JSONParser.parse(text)) ?? .null }
        subscript(key: String) -> JSONValue? { json[key] }
        var id: String { json["id"]?.stringValue ?? "" }
        var etag: String { headers.first(name: .eTag) ?? "" }
        /// The id a FHIR write's Location names ([base]/Type/id/_history/vid).
        var locationID: String {
            let parts = (headers.first(name: .location) ?? "").split(separator: "/").map(String.init)
            guard let i = parts.lastIndex(of: "_history"), i >= 1 else { return "" }
            return parts[i - 1]
        }
        var errorFields: [String] {
            guard case .array(let errors)? = json["errors"] else { return [] }
            return errors.compactMap { $0["field"]?.stringValue }
        }
    }

    /// One request as `user` (nil = anonymous), with a JSON body (or another, when `headers` names its Content-Type).
    @discardableResult
    func send(_ method: HTTPMethod, _ path: String, as user: String?, json: String? = nil, headers extra: HTTPHeaders = [:]) async throws -> Reply {
        var headers = extra
        if let user { headers.bearerAuthorization = BearerAuthorization(token: tokens[user]!) }
        if json != nil, headers.contentType == nil { headers.contentType = .json }
        let response = try await app.testing().sendRequest(method, path, headers: headers, body: json.map { ByteBuffer(string: $0) }) { req in
            req.url = URI(string: path)
        }
        return Reply(status: response.status, headers: response.headers, text: response.body.string)
    }

    /// Creates a patient at site A (or B) as that site's clinician; returns its id.
    func createPatient(site: String = "A", mrn: String = "MRN-1", extra: String = "") async throws -> String {
        let siteID = (site == "A" ? siteA : siteB).uuidString
        let reply = try await send(.POST, "/api/v1/patients", as: site == "A" ? "clinA" : "clinB", json: """
            {"siteId": "\(siteID)", "mrn": "\(mrn)", "familyName": "Doe", "givenName": "Jane", "sex": "female", "birthDate": "1970-05-20"\(extra)}
            """)
        #expect(reply.status == .created, "\(reply.text)")
        return reply.id
    }

    func auditCount() async throws -> Int { try await AuditEntry.query(on: app.db).count() }
}

extension TestRegistry {
    /// What an attacker with direct database access does first: switch off the append-only guard.
    func disableAuditGuard() async throws {
        let sql = app.db as! any SQLDatabase
        if sql.dialect.name == "sqlite" {
            try await sql.raw("DROP TRIGGER audit_entries_no_update").run()
            try await sql.raw("DROP TRIGGER audit_entries_no_delete").run()
        } else {
            try await sql.raw("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only").run()
        }
    }
}
