import CalciTrackCore
import Fluent
import SQLKit
import Vapor

/// Synthetic patients for the scale benchmark (`calcitrack generate`): N patients at the site
/// `SYNTH`, each with a plausible calcinosis history (lesions measured over months or years,
/// labs in mixed units, medications the engine knows, visits with due dates, some infection
/// episodes, vitals, imaging, procedures and holds).
///
/// - Deterministic: patient i is drawn from its own generator seeded by (seed, i), so the same
///   seed, count, start index and `today` give the same rows, ids included, whatever the batch size.
/// - Honest summaries: each patient's records are built as the Fluent models the server loads,
///   and the worklist columns come from `PatientSummary.compute` (the real engine), exactly as a
///   write through the API would store them.
/// - Fast: rows go in as multi-row SQLKit INSERTs sized to the bind limit (SQLite 32766,
///   PostgreSQL 65535), all in one transaction that also appends ONE audit entry for the whole
///   generation (so it is all or nothing, and `audit verify` still passes). Building the next
///   batch (engine included) overlaps with inserting the current one.
public enum SyntheticRegistry {
    public static let siteCode = "SYNTH"
    public static let actorName = "synthetic-generator"

    public struct Options: Sendable {
        public var patients: Int
        public var seed: UInt64
        /// The generation's "today": every date lies on or before it; summaries are computed as of it.
        public var today: LocalDate
        /// Patients built (and engine-assessed) per batch; the unit of progress and of pipelining.
        public var batchSize: Int

        public init(patients: Int, seed: UInt64 = 1, today: LocalDate? = nil, batchSize: Int = 2000) {
            self.patients = patients; self.seed = seed
            self.today = today ?? LocalDate.utc(Date())
            self.batchSize = max(1, batchSize)
        }
    }

    public struct Progress: Sendable {
        public let done: Int
        public let total: Int
        public let rows: Int
        public let elapsed: Double
    }

    public struct Report: Sendable {
        public let patients: Int
        /// MRN number of the first generated patient (SYNTH-000001 on an empty site).
        public let firstIndex: Int
        public let rows: [(table: String, count: Int)]
        public let seconds: Double
        /// Time spent building patients and running the engine (overlaps with inserting).
        public let buildSeconds: Double
        /// Time the inserting side waited for the database.
        public let insertSeconds: Double
        public var totalRows: Int { rows.reduce(0) { $0 + $1.count } }
    }

    /// Generates and stores the patients; `progress` is called after every batch.
    public static func generate(on db: any Database, options: Options, actor: String = actorName,
                                progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> Report {
        let start = DispatchTime.now()
        let sql = db as! any SQLDatabase
        let maxBinds = sql.dialect.name == "sqlite" ? 32_766 : 65_535
        let total = options.patients
        return try await AuditLog.write(on: db, actor: .system(actor)) { tx in
            let txSQL = tx as! any SQLDatabase
            if txSQL.dialect.name == "sqlite" {
                // A bigger page cache for this connection: index maintenance of 2-3 million rows
                // with random UUID keys otherwise re-reads pages from the OS all the time.
                try await txSQL.raw("PRAGMA cache_size = -262144").run()
            }
            let site: Site
            if let existing = try await Site.query(on: tx).filter(\.$code == siteCode).first() {
                site = existing
            } else {
                site = Site(code: siteCode, name: "Synthetic patients (scale benchmark)")
                try await site.create(on: tx)
            }
            let siteID = try site.requireID()
            // Continue the numbering when the site already holds synthetic patients.
            let firstIndex = try await Patient.query(on: tx).filter(\.$site.$id == siteID).withDeleted().count()
            var writers = TableWriter.all(maxBinds: maxBinds)
            var buildSeconds = 0.0, insertSeconds = 0.0
            let batchSize = options.batchSize
            func build(_ range: Range<Int>) -> Task<(Batch, Double), any Error> {
                Task.detached {
                    let t0 = DispatchTime.now()
                    var batch = Batch()
                    for i in range {
                        var generator = Generator(seed: options.seed, index: firstIndex + i, siteID: siteID, today: options.today)
                        try generator.build(into: &batch)
                    }
                    return (batch, seconds(since: t0))
                }
            }
            var done = 0
            var next: Task<(Batch, Double), any Error>? = total > 0 ? build(0..<min(batchSize, total)) : nil
            while let current = next {
                let (batch, built) = try await current.value
                buildSeconds += built
                let upper = min(done + batchSize, total)
                let following = min(upper + batchSize, total)
                next = upper < total ? build(upper..<following) : nil
                let t0 = DispatchTime.now()
                do {
                    for index in writers.indices { try await writers[index].write(batch.rows[index], on: txSQL) }
                } catch {
                    next?.cancel()
                    throw error
                }
                insertSeconds += seconds(since: t0)
                done = upper
                progress(Progress(done: done, total: total, rows: writers.reduce(0) { $0 + $1.count }, elapsed: seconds(since: start)))
            }
            let report = Report(patients: total, firstIndex: firstIndex + 1, rows: writers.map { ($0.table, $0.count) },
                                seconds: seconds(since: start), buildSeconds: buildSeconds, insertSeconds: insertSeconds)
            let detail = "generated \(total) synthetic patient(s) at site \(siteCode), MRN \(mrn(firstIndex + 1))..\(mrn(firstIndex + total)), "
                + "seed \(options.seed), as of \(options.today); \(report.totalRows) rows: "
                + report.rows.map { "\($0.table) \($0.count)" }.joined(separator: ", ")
            return (report, [AuditEvent(action: "generate", resourceType: "patients", resourceID: siteID.lowercasedString, detail: detail)])
        }
    }

    /// Updates the query planner's statistics (both engines understand `ANALYZE`).
    public static func analyze(on db: any Database) async throws {
        try await (db as! any SQLDatabase).raw("ANALYZE").run()
    }

    static func mrn(_ number: Int) -> String {
        let digits = String(number)
        return "SYNTH-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
