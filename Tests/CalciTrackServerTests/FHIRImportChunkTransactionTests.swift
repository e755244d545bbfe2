@testable import CalciTrackServer
import Fluent
import Foundation
import SQLKit
import Testing

/// A chunk of `calcitrack import` is one transaction on either database: when the database
/// refuses a row mid-chunk, nothing of the chunk stays, and its entries are written again one by
/// one, so only the refused one is rejected. Had the chunk's first attempt not been in a
/// transaction (as a transaction inside FluentPostgresDriver's `withConnection` is not), its
/// patient and first lab would stay and the retry would duplicate or reject them.
@Suite(.serialized) struct FHIRImportChunkTransactionTests {
    /// Resources per writer call: the chunk in one call, and in one call per resource (the
    /// refused lab is in the third call of the transaction: the first two are rolled back too).
    @Test(arguments: [10, 1])
    func aRowTheDatabaseRefusesRollsBackTheChunkAndOnlyThatEntryIsRejected(callSize: Int) async throws {
        try await TestRegistry.run { r in
            let sql = r.app.db as! any SQLDatabase
            if sql.dialect.name == "sqlite" {
                try await sql.raw("CREATE TRIGGER refuse_13_7 BEFORE INSERT ON lab_results WHEN NEW.value = 13.7 BEGIN SELECT RAISE(ABORT, 'refused for the test'); END").run()
            } else {
                try await sql.raw("ALTER TABLE lab_results ADD CONSTRAINT refuse_13_7 CHECK (value <> 13.7)").run()
            }
            let dir = NSTemporaryDirectory() + "fhir-chunk-tx-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let lines = [FHIRWriteTests.patient("TX-1", id: "src-tx1"), FHIRWriteTests.calcium(subject: "Patient/src-tx1"),
                         FHIRWriteTests.calcium(subject: "Patient/src-tx1", value: 13.7, date: "2026-11-02")].map { $0.replacingOccurrences(of: "\n", with: " ") }
            try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/resources.ndjson", atomically: true, encoding: .utf8)
            let audits = try await r.auditCount()
            var options = FHIRImport.Options(chunkSize: 10, today: TestRegistry.today, actor: "test-import")
            options.callSize = callSize
            let summary = try await FHIRImport.run(paths: [dir], on: r.app.db, options: options)
            #expect(summary.created == 2, "\(summary)")
            #expect(summary.rejected.map(\.position) == ["line 3"], "\(summary.rejected)")
            #expect(summary.rejected.first?.issues.contains { $0.contains("the database refused it") } == true, "\(summary.rejected)")
            #expect(try await Patient.query(on: r.app.db).count() == 1)
            #expect(try await LabRecord.query(on: r.app.db).count() == 1)
            #expect(try await r.auditCount() == audits + 2)
        }
    }
}
