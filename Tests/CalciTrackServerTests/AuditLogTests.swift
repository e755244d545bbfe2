@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import SQLKit
import Testing
import VaporTesting

/// The append-only, hash-chained audit log (issue 3 item 5).
@Suite(.serialized) struct AuditLogTests {
    @Test("Reads and writes of patient data append entries naming who, what, which record, from where")
    func entries() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient()
            _ = try await r.send(.GET, "/api/v1/patients/\(patient)", as: "clinA")
            _ = try await r.send(.GET, "/api/v1/patients/\(patient)/assessment", as: "research")
            let entries = try await AuditEntry.query(on: r.app.db).filter(\.$patientID == patient).sort(\.$id).all()
            #expect(entries.map(\.action) == ["create", "read", "assess"])
            #expect(entries.map(\.actor) == ["clinA", "clinA", "research"])
            #expect(entries.allSatisfy { $0.resourceType == "patients" && $0.resourceID == patient })
            let verify = try await r.send(.GET, "/api/v1/audit/verify", as: "admin")
            #expect(verify["intact"] == true)
        }
    }

    @Test("The database refuses to change or delete audit entries")
    func appendOnly() async throws {
        try await TestRegistry.run { r in
            _ = try await r.createPatient()
            let sql = r.app.db as! any SQLDatabase
            await #expect(throws: (any Error).self) { try await sql.raw("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 1").run() }
            await #expect(throws: (any Error).self) { try await sql.raw("DELETE FROM audit_entries WHERE seq = 1").run() }
            #expect(try await AuditLog.verify(on: r.app.db).firstBroken == nil)
        }
    }

    @Test("Tamper: an entry edited in the database (the SQLite file, or PostgreSQL) is named by audit verify")
    func tamper() async throws {
        try await TestRegistry.run(sqliteFile: true) { r in
            let patient = try await r.createPatient()
            for _ in 0..<3 { _ = try await r.send(.GET, "/api/v1/patients/\(patient)", as: "clinA") }
            let total = try await r.auditCount()
            #expect(try await AuditLog.verify(on: r.app.db).entries == total)
            // An attacker with the file drops the guard trigger and edits one entry.
            let target = total - 2
            let sql = r.app.db as! any SQLDatabase
            try await r.disableAuditGuard()
            try await sql.raw("UPDATE audit_entries SET actor = 'someone-else' WHERE seq = \(bind: target)").run()
            let result = try await AuditLog.verify(on: r.app.db)
            #expect(result.firstBroken?.seq == target)
            #expect(result.entries == target - 1)
        }
    }

    @Test("Tamper: a deleted entry is found (gap in the sequence)")
    func deletion() async throws {
        try await TestRegistry.run(sqliteFile: true) { r in
            let patient = try await r.createPatient()
            for _ in 0..<3 { _ = try await r.send(.GET, "/api/v1/patients/\(patient)", as: "clinA") }
            let sql = r.app.db as! any SQLDatabase
            try await r.disableAuditGuard()
            try await sql.raw("DELETE FROM audit_entries WHERE seq = 4").run()
            #expect(try await AuditLog.verify(on: r.app.db).firstBroken?.seq == 4)
        }
    }
}
