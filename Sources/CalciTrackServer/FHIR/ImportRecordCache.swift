import Fluent
import Foundation
import SQLKit

/// The patient rows and records of the patients a `calcitrack import` has written, kept between
/// its chunks, so a chunk does not read again the rows and every record of every patient it
/// touches (an NDJSON file holds one resource type, so every file touches every patient again:
/// each patient's row and records were read once per file, and loading Fluent models was the
/// import's biggest cost, BENCHMARKS.md).
///
/// The cache is only trusted while the import is the only writer: every write transaction counts
/// itself in `audit_head.data_version` (008, `AuditLog.write`), so a chunk that finds the count
/// exactly one above the one its previous chunk committed knows nobody else wrote in between;
/// otherwise the cache is dropped and the records are read from the database. What a chunk adds
/// is staged (the later writer calls of its transaction read it) and kept only when the chunk
/// commits (`commit`); a failed chunk drops the cache.
final class ImportRecordCache: @unchecked Sendable {
    private var records: [UUID: RegistryCase.Records] = [:]
    /// Patient rows as committed (the models the writer changed in place, summary columns included).
    private var patients: [UUID: Patient] = [:]
    /// `data_version` as of the last committed chunk.
    private var committedVersion: Int?
    private var staged: (version: Int, records: [UUID: RegistryCase.Records], patients: [UUID: Patient], evicted: Set<UUID>)?

    init() {}

    /// Whether the cache may be used in this transaction (nobody else wrote since the last
    /// commit); if not, it is emptied. Starts staging this transaction's records.
    func usable(on tx: any Database) async throws -> Bool {
        let version = try await AuditLog.dataVersion(on: tx)
        // A later writer call of the same transaction (an import transaction holds several): what
        // the earlier calls staged is what they left, read or written in this transaction.
        if let staged, staged.version == version { return true }
        defer { staged = (version, [:], [:], []) }
        guard let committed = committedVersion, version == committed + 1 else {
            records = [:]
            patients = [:]
            return false
        }
        return true
    }

    /// A patient's records as this transaction's earlier calls left them, else as committed.
    func cached(_ id: UUID) -> RegistryCase.Records? {
        if let r = staged?.records[id] { return r }
        return staged?.evicted.contains(id) == true ? nil : records[id]
    }

    func cachedPatient(_ id: UUID) -> Patient? {
        if let p = staged?.patients[id] { return p }
        return staged?.evicted.contains(id) == true ? nil : patients[id]
    }

    /// Records of a patient as they are at the end of this transaction.
    func stage(_ id: UUID, _ r: RegistryCase.Records) { staged?.records[id] = r }

    /// Patient rows as they are at the end of this transaction; `evicted`: rows this transaction
    /// deleted, or changed and then rolled back to a savepoint (the model no longer says what is stored).
    func stage(patients: [Patient], evicted: Set<UUID>) {
        // What an earlier call of the transaction staged for them no longer holds.
        for id in evicted { staged?.patients[id] = nil; staged?.records[id] = nil }
        for p in patients { if let id = p.id, !evicted.contains(id) { staged?.patients[id] = p } }
        staged?.evicted.formUnion(evicted)
    }

    /// At most this many patients are kept (Fluent models, about 1 KB each, ~27 records a
    /// patient): a bigger import starts over when it is reached and reads records again.
    static let maxPatients = 10_000

    /// The chunk committed: its records become the cache.
    func commit() {
        guard let staged else { return }
        if records.count + staged.records.count > Self.maxPatients { records = [:] }
        if patients.count + staged.patients.count > Self.maxPatients { patients = [:] }
        records.merge(staged.records) { _, new in new }
        patients.merge(staged.patients) { _, new in new }
        for id in staged.evicted { patients[id] = nil; records[id] = nil }
        committedVersion = staged.version
        self.staged = nil
    }

    /// The chunk failed (rolled back) or something else wrote: forget everything.
    func drop() {
        records = [:]
        patients = [:]
        committedVersion = nil
        staged = nil
    }
}

extension RegistryCase.Records {
    /// These records plus new ones, in the order `RegistryCase.records(ofPatients:)` reads them
    /// (lesions by creation time; the others by their date, then creation time, then id), so the
    /// summary and the stored case sections are what a fresh read would give. `nullsFirst`: how
    /// the database sorts a missing medication start (SQLite first, PostgreSQL last).
    func adding(_ new: [any PatientRecord], nullsFirst: Bool) -> RegistryCase.Records {
        guard !new.isEmpty else { return self }
        var r = self
        func merged<R: PatientRecord>(_ old: [R], _ key: (R) -> String?) -> [R] {
            let added = new.compactMap { $0 as? R }
            guard !added.isEmpty else { return old }
            return (old + added).sorted { a, b in
                let ka = key(a), kb = key(b)
                if ka != kb {
                    guard let ka else { return nullsFirst }
                    guard let kb else { return !nullsFirst }
                    return ka < kb
                }
                let ca = a.createdAt ?? .distantPast, cb = b.createdAt ?? .distantPast
                if ca != cb { return ca < cb }
                return a.id!.precedes(b.id!)
            }
        }
        r.lesions = merged(r.lesions) { _ in "" }
        r.measurements = merged(r.measurements) { $0.date }
        r.visits = merged(r.visits) { $0.date }
        r.labs = merged(r.labs) { $0.date }
        r.vitals = merged(r.vitals) { $0.date }
        r.medications = merged(r.medications) { $0.start }
        r.imaging = merged(r.imaging) { $0.date }
        r.infections = merged(r.infections) { $0.onset }
        return r
    }
}
