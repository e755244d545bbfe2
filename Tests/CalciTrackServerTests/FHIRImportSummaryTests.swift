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

    /// (resources per transaction, per writer call): one call a chunk, and transactions of
    /// several calls, where a call reads what the transaction's earlier calls staged.
    @Test(arguments: [(7, 7), (20, 3)])
    func chunkedImportLeavesSummariesAsAFreshRefresh(chunk: Int, call: Int) async throws {
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
            var options = FHIRImport.Options(chunkSize: chunk, today: TestRegistry.today, actor: "test-import")
            options.callSize = call
            let summary = try await FHIRImport.run(paths: [dir], on: r.app.db, options: options)
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
            /// Whether the chunk may use the cache, and whether it finds the patient's records there.
            @Sendable func chunk() async throws -> [Bool] {
                try await AuditLog.write(on: r.app.db, actor: .system("test-import")) { tx in
                    let usable = try await cache.usable(on: tx)
                    let found = cache.cached(patient) != nil
                    cache.stage(patient, .empty)
                    return ([usable, found], [])
                }
            }
            #expect(try await chunk() == [false, false]) // nothing committed yet
            cache.commit()
            #expect(try await chunk() == [true, true])
            cache.commit()
            // Someone else's write transaction in between: the next chunk must read from the database.
            try await AuditLog.write(on: r.app.db, actor: .system("other")) { _ in ((), []) }
            #expect(try await chunk() == [false, false])
            // A failed chunk drops what it staged.
            cache.drop()
            #expect(try await chunk() == [false, false])
        }
    }

    /// An import transaction of several writer calls: a later call finds what an earlier call of
    /// the same transaction staged (not yet committed), and a patient row an earlier call evicted
    /// is read again, not taken from the cache.
    @Test func laterCallOfATransactionSeesWhatEarlierCallsStaged() async throws {
        try await TestRegistry.run { r in
            let cache = ImportRecordCache()
            let first = UUID(), second = UUID()
            _ = try await AuditLog.write(on: r.app.db, actor: .system("test-import")) { tx in
                _ = try await cache.usable(on: tx)
                cache.stage(first, .empty)
                return ((), [])
            }
            cache.commit()
            let patient = Patient()
            patient.id = second
            let seen = try await AuditLog.write(on: r.app.db, actor: .system("test-import")) { tx -> ([Bool], [AuditEvent]) in
                var seen: [Bool] = []
                // Call 1 stages records of `second` and its row.
                seen.append(try await cache.usable(on: tx))
                var records = RegistryCase.Records.empty
                records.labs = [LabRecord()]
                cache.stage(second, records)
                cache.stage(patients: [patient], evicted: [])
                // Call 2, same transaction: usable, and the staged records and row are the cache's answer.
                seen.append(try await cache.usable(on: tx))
                seen.append(cache.cached(second)?.labs.count == 1)
                seen.append(cache.cachedPatient(second) === patient)
                seen.append(cache.cached(first) != nil)
                // Call 2 evicts the row (rolled back to a savepoint): call 3 must read it again.
                cache.stage(patients: [], evicted: [second])
                seen.append(try await cache.usable(on: tx))
                seen.append(cache.cachedPatient(second) == nil && cache.cached(second) == nil)
                return (seen, [])
            }
            #expect(seen == [true, true, true, true, true, true, true])
            cache.commit()
            #expect(cache.cached(first) != nil)
            #expect(cache.cachedPatient(second) == nil && cache.cached(second) == nil)
        }
    }
}
