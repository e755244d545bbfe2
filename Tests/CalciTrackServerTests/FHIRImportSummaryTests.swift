@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import SQLKit
import Testing

/// `calcitrack import` refreshes each touched patient's summary once per chunk, from the patient
/// rows it holds and the records it keeps between chunks (`ImportRecordCache`) instead of
/// reading every record again: the stored summary and case sections must be what a refresh
/// from the database gives. Runs on SQLite, and on PostgreSQL when DATABASE_URL is set (its
/// NULL ordering differs).
@Suite(.serialized) struct FHIRImportSummaryTests {
    /// The summary columns and case sections of every patient, by MRN.
    static func summaries(on db: any Database) async throws -> [String: String] {
        var out: [String: String] = [:]
        for p in try await Patient.query(on: db).all() {
            let sections = try await RegistryCase.storedSections(of: p.id!, on: db) ?? "none"
            out[p.mrn] = [p.lastContact, p.nextDue, "\(p.hasUnhealedLesion)", "\(p.activeInfection)", p.infectionSeverity, "\(p.worseningLesion)",
                          p.bodySites, p.infectionOnset, p.onsetSeverity, p.onsetSepsisScreen, "\(p.sepsisScreenPositive)", p.sepsisScreen,
                          "\(p.highAlert)", p.highAlerts, p.followUpStatus, "\(p.worklistTier)", p.standingDay, p.standingUntil,
                          sections].map { $0 ?? "nil" }.joined(separator: " | ")
        }
        return out
    }

    @Test func chunkedImportLeavesSummariesAsAFreshRefresh() async throws {
        let dir = NSTemporaryDirectory() + "fhir-import-summary-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Source: generated patients (lesions, measurements, labs, vitals, medications, visits, ...), exported as NDJSON.
        try await TestRegistry.run { source in
            _ = try await SyntheticRegistry.generate(on: source.app.db, options: .init(patients: 30, seed: 5, today: TestRegistry.today))
            var files: [String: String] = [:]
            _ = try await FHIRExport.run(on: source.app.db, patient: nil, batchSize: 7, today: TestRegistry.today) { batch in
                for (type, resources) in batch { for r in resources { files[type.rawValue, default: ""] += JSONWriter.write(r, pretty: false) + "\n" } }
            }
            #expect(files.count >= 5, "\(files.keys)")
            for (type, text) in files { try text.write(toFile: "\(dir)/\(type).ndjson", atomically: true, encoding: .utf8) }
        }
        try await TestRegistry.run { r in
            try await Accounts.addSite(code: SyntheticRegistry.siteCode, name: "Synthetic", actor: "test", on: r.app.db)
            // Small chunks: each patient's records arrive over several chunks of several files.
            let summary = try await FHIRImport.run(paths: [dir], on: r.app.db, options: .init(chunkSize: 7, today: TestRegistry.today, actor: "test-import"))
            #expect(summary.rejected.isEmpty, "\(summary.rejected.prefix(3).map(\.issues))")
            #expect(summary.created > 300, "\(summary.created)")
            let imported = try await Self.summaries(on: r.app.db)
            #expect(imported.count == 30)
            for p in try await Patient.query(on: r.app.db).all() {
                try await PatientSummary.refresh(p.id!, on: r.app.db, today: TestRegistry.today)
            }
            let fresh = try await Self.summaries(on: r.app.db)
            for (mrn, expected) in fresh { #expect(imported[mrn] == expected, "\(mrn)") }
            // Nothing was left to the cache: the case sections hold the records.
            #expect(imported.values.contains { $0.contains("\"labs\":[{") })
        }
    }

    @Test func recordCacheIsDroppedWhenAnotherWriterCommitsBetweenChunks() async throws {
        try await TestRegistry.run { r in
            let cache = ImportRecordCache()
            let patient = UUID()
            @Sendable func chunk() async throws -> Bool {
                try await AuditLog.write(on: r.app.db, actor: .system("test-import")) { tx in
                    let usable = try await cache.usable(on: tx)
                    cache.stage(patient, .empty)
                    return (usable, [])
                }
            }
            #expect(try await chunk() == false) // nothing committed yet
            cache.commit()
            #expect(try await chunk() == true)
            cache.commit()
            #expect(cache.cached(patient) != nil)
            // Someone else's write transaction in between: the next chunk must read from the database.
            try await AuditLog.write(on: r.app.db, actor: .system("other")) { _ in ((), []) }
            #expect(try await chunk() == false)
            #expect(cache.cached(patient) == nil)
            // A failed chunk drops what it staged.
            cache.drop()
            #expect(try await chunk() == false)
        }
    }
}
