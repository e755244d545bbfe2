import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation
import SQLKit

/// `calcitrack import FILE|DIR`: FHIR resources from transaction, batch or collection Bundles
/// (`.json`) and NDJSON files (`.ndjson`, one resource type per file, as Bulk Data and
/// `calcitrack export --format ndjson` write them), written straight to the database through
/// `FHIRWriter` (no HTTP).
///
/// - Streaming: files are read a chunk of resources at a time.
/// - Batched: a chunk (`defaultChunkSize`) is one `AuditLog.write` transaction with one
///   audit entry per record written. It is written in calls of at most 2,000 resources, each
///   with one multi-row INSERT per record kind and one summary refresh per touched patient.
///   The next call's resources are parsed and mapped while one is written.
/// - Idempotent: every resource's source identity goes to the ledger (migration 010); a rerun
///   finds what the first run wrote and answers "unchanged" (or updates what changed).
/// - Resumable: the chunk's progress row (and its count of rejections, 016) commits with the
///   chunk, so after a kill the rerun skips the committed chunks. A transaction Bundle is one
///   transaction: applied whole or not at all.
/// - Retried: a file is skipped by a rerun only when it completed without a rejection; a file
///   that ended with rejections is read again by the next run (`ImportInputs.fileKey` tells a
///   file apart; changed files are read again as well).
public enum FHIRImport {
    public struct Options: Sendable {
        public var siteCode: String?
        /// Resources per transaction (a rerun after a kill redoes at most this many); nil: the
        /// database's default (`defaultChunkSize`).
        public var chunkSize: Int?
        /// Resources per `FHIRWriter.write` call; a chunk of more is written in several calls of
        /// (nearly) equal size. Tests make it small.
        var callSize: Int
        public var today: LocalDate
        public var actor: String

        /// `today` nil: today in UTC.
        public init(siteCode: String? = nil, chunkSize: Int? = nil, today: LocalDate? = nil, actor: String) {
            self.siteCode = siteCode; self.chunkSize = chunkSize.map { max(1, $0) }; self.callSize = FHIRImport.maxCallSize
            self.today = today ?? LocalDate.utc(Date()); self.actor = actor
        }
    }

    public struct Progress: Sendable {
        public var file: String
        public var resources: Int
        public var bytesDone: Int
        public var bytesTotal: Int
        public var elapsed: Double
    }

    /// One rejected resource: where it is, and why.
    public struct Rejection: Sendable {
        public var file: String
        /// NDJSON line or Bundle entry index.
        public var position: String
        public var resourceType: String
        public var id: String?
        public var issues: [String]
    }

    public struct Summary: Sendable {
        public var files = 0
        public var skippedFiles: [String] = []
        /// Directory entries not read (`ImportInputs.ignored`), and Bulk Data manifests.
        public var ignored: [String] = []
        /// Resources read and written (or rejected) by this run; not those a resume skipped.
        public var resources = 0
        /// Resources skipped by a resume: committed by an earlier, interrupted run.
        public var resumedAfter = 0
        /// Rejections in the chunks a resume skipped (the earlier run counted them, its details
        /// are gone): not retried by this run; the file's progress is reset, so the next run is.
        public var rejectedEarlier = 0
        public var created = 0, updated = 0, unchanged = 0, matched = 0, deleted = 0
        public var rejected: [Rejection] = []
        /// Resources CalciTrack has no home for (not stored), by reason.
        public var notStored: [String: Int] = [:]
        /// Warnings about elements not stored from accepted resources, by message.
        public var warnings: [String: Int] = [:]
        public var seconds = 0.0
        public var perSecond: Double { seconds > 0 ? Double(resources) / seconds : 0 }
        /// Some resources were rejected and are not in the registry (exit status 2).
        public var hasRejections: Bool { !rejected.isEmpty || rejectedEarlier > 0 }
    }

    /// Resources per transaction when the caller names none. SQLite writes each page a
    /// transaction changed once per COMMIT (the indexes with random keys: nearly all their leaf
    /// pages, each chunk), so its chunks hold several writer calls; on PostgreSQL, whose COMMIT
    /// is one WAL flush, chunks of 10,000 were slower in 3 paired runs of 3 (BENCHMARKS.md).
    public static func defaultChunkSize(sqlite: Bool) -> Int { sqlite ? 10_000 : 2_000 }

    public static func run(paths: [String], on db: any Database, options: Options,
                           progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> Summary {
        let isSQLite = (db as? any SQLDatabase)?.dialect.name == "sqlite"
        var resolved = options
        resolved.chunkSize = options.chunkSize ?? defaultChunkSize(sqlite: isSQLite)
        let options = resolved
        guard isSQLite else {
            return try await run(paths: paths, onConnection: db, options: options, progress: progress)
        }
        // SQLite: one connection for the whole import, so that its settings hold for every chunk.
        // (Not PostgreSQL: a transaction inside FluentPostgresDriver's `withConnection` ran its
        // SAVEPOINTs outside the transaction block.)
        return try await db.withConnection { conn in
            let sqlite = conn as! any SQLDatabase
            try await SQLiteImportSettings.apply(on: sqlite)
            do {
                let summary = try await run(paths: paths, onConnection: conn, options: options, progress: progress)
                try await SQLiteImportSettings.reset(on: sqlite)
                return summary
            } catch {
                try? await SQLiteImportSettings.reset(on: sqlite)
                throw error
            }
        }
    }

    private static func run(paths: [String], onConnection db: any Database, options: Options,
                            progress: @escaping @Sendable (Progress) -> Void) async throws -> Summary {
        let start = Date()
        var summary = Summary()
        let authority = WriteAuthority(username: options.actor, sites: nil, defaultSiteCode: options.siteCode)
        if let code = options.siteCode, try await Site.query(on: db).filter(\.$code == code).first() == nil {
            throw ImportError("--site \(code): no such site (calcitrack site add)")
        }
        var files: [String] = []
        for path in paths {
            let inputs = try ImportInputs.scan(path)
            files += inputs.files
            summary.ignored += inputs.ignored
        }
        var done = 0
        let cache = ImportRecordCache()
        for file in files {
            let key = try ImportInputs.fileKey(file)
            if let p = try await ImportLedger.progress(of: key, on: db), p.completed {
                summary.files += 1
                summary.skippedFiles.append(file)
                continue
            }
            let reader = try ImportFileReader(path: file)
            let report: @Sendable (Int, Int) -> Void = { resources, bytes in
                progress(Progress(file: file, resources: resources, bytesDone: bytes, bytesTotal: reader.size, elapsed: Date().timeIntervalSince(start)))
            }
            // A .json file: a Bundle (of which type), a Bulk Data manifest, or why it is neither.
            let root = reader.format == .bundle ? try ImportFileReader.bundleRoot(of: file) : nil
            if root?.isBulkDataManifest == true {
                summary.ignored.append(file + " (a Bulk Data manifest)")
                continue
            }
            summary.files += 1
            if let root, let problem = root.problem {
                // Nothing of the file is read: a bare resource is refused rather than guessed at.
                summary.rejected.append(Rejection(file: file, position: "whole file", resourceType: root.resourceType ?? "?", issues: [problem]))
                continue
            }
            if root?.type == "transaction" {
                try await importTransaction(reader, key: key, db: db, authority: authority, options: options, into: &summary, done: &done)
                report(done, reader.size)
            } else {
                try await importChunks(reader, key: key, db: db, authority: authority, options: options, cache: cache, into: &summary, done: &done, report: report)
            }
        }
        if let sql = db as? any SQLDatabase, sql.dialect.name == "sqlite" {
            // The WAL the import let grow goes back into the database file before the clock stops.
            try await sql.raw("PRAGMA wal_checkpoint(PASSIVE)").run()
        }
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }

    /// Parses a resource (an NDJSON line or a Bundle entry) into a write entry.
    static func entry(from bytes: [UInt8], format: ImportFileReader.Format, index: Int, file: String) -> Result<WriteEntry, EntryFailure> {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            return .failure(EntryFailure(.badRequest, .structure, "not valid JSON: \(error.description)", at: format == .ndjson ? "line \(index + 1)" : "Bundle.entry[\(index)]"))
        }
        switch format {
        case .bundle:
            return BundleRequest.readEntry(value, index: index, keepSourceID: true).map { e in var e = e; e.keepSourceID = e.method == .post && e.ifNoneExist == nil; return e }
        case .ndjson:
            guard case .object(let resource) = value, let type = resource["resourceType"]?.stringValue else {
                return .failure(EntryFailure(.badRequest, .required, "each NDJSON line must be a resource with resourceType", at: "line \(index + 1)"))
            }
            return .success(WriteEntry(method: .post, resourceType: type, resource: resource, keepSourceID: true, index: index))
        }
    }

    static func position(_ format: ImportFileReader.Format, _ index: Int) -> String {
        format == .ndjson ? "line \(index + 1)" : "entry \(index)"
    }

    /// A transaction Bundle: one transaction, all or nothing.
    private static func importTransaction(_ reader: ImportFileReader, key: String, db: any Database, authority: WriteAuthority, options: Options,
                                          into summary: inout Summary, done: inout Int) async throws {
        var prepared: [FHIRWriter.Prepared] = []
        var failures: [(Int, EntryFailure)] = []
        var index = 0
        while let bytes = try reader.nextEntry() {
            switch entry(from: bytes, format: .bundle, index: index, file: reader.path) {
            case .success(var e): e.keepSourceID = false; prepared.append(FHIRWriter.prepare(e))
            case .failure(let f): failures.append((index, f))
            }
            index += 1
        }
        summary.resources += index
        done += index
        if !failures.isEmpty {
            summary.rejected += failures.map { Rejection(file: reader.path, position: position(.bundle, $0.0), resourceType: "?", issues: $0.1.issues.map(describe)) }
            return
        }
        let writer = FHIRWriter(authority: authority, today: options.today, mode: .transaction)
        let all = prepared, count = index, path = reader.path
        do {
            let results = try await AuditLog.write(on: db, actor: .system(options.actor)) { tx -> ([EntryResult], [AuditEvent]) in
                let (results, events) = try await writer.write(all, on: tx)
                let rejected = results.filter { $0.action == .rejected }.count
                try await ImportLedger.record(ImportLedger.Progress(chunksDone: 1, resourcesDone: count, rejected: rejected, completed: rejected == 0),
                                              of: key, path: path, on: tx)
                return (results, events)
            }
            tally(results, prepared, file: reader.path, format: .bundle, into: &summary)
        } catch let failure as TransactionFailure {
            summary.rejected.append(Rejection(file: reader.path, position: "whole transaction (\(index) entries, nothing written)", resourceType: "Bundle",
                                              issues: failure.issues.map(describe)))
        }
    }

    /// NDJSON, collection and batch Bundles: chunks of independent resources, each one
    /// transaction, written in writer calls of at most `maxCallSize` resources.
    private static func importChunks(_ reader: ImportFileReader, key: String, db: any Database, authority: WriteAuthority, options: Options,
                                     cache: ImportRecordCache, into summary: inout Summary, done: inout Int, report: @escaping @Sendable (Int, Int) -> Void) async throws {
        let earlier = try await ImportLedger.progress(of: key, on: db)
        let resumeFrom = earlier?.resourcesDone ?? 0
        // Rejections of the file so far, the skipped chunks' included: each chunk's progress row
        // carries the total, so a kill does not lose them.
        var fileRejected = earlier?.rejected ?? 0
        let chunk = options.chunkSize!  // set by `run`
        let calls = (chunk + options.callSize - 1) / max(1, options.callSize)
        let source = ChunkSource(reader: reader, chunkSize: (chunk + calls - 1) / calls)
        try source.skip(resumeFrom)
        if resumeFrom > 0 { summary.resumedAfter += resumeFrom; summary.rejectedEarlier += fileRejected }
        let plainWriter = FHIRWriter(authority: authority, today: options.today, mode: .batch)
        var writer = plainWriter
        writer.recordCache = cache
        let format = reader.format
        let path = reader.path

        var next = try source.read()
        while let first = next {
            let pieces = TransactionPieces()
            let rejectedBefore = fileRejected
            var results: [[EntryResult]]
            do {
                results = try await AuditLog.write(on: db, actor: .system(options.actor)) { [writer] tx in
                    var results: [[EntryResult]] = [], events: [AuditEvent] = []
                    var piece = first
                    while true {
                        pieces.written.append(piece)
                        // The next piece is read and mapped while this one is written.
                        pieces.reading = Task.detached { try source.read() }
                        let (written, writtenEvents) = try await writer.write(piece.prepared.map(\.1), on: tx)
                        results.append(written)
                        events += writtenEvents
                        guard calls > pieces.written.count else { break }
                        let upcoming: ChunkSource.Chunk?
                        do { upcoming = try await pieces.reading!.value } catch { pieces.readError = error; pieces.reading = nil; break }
                        pieces.reading = nil
                        guard let upcoming else { pieces.ended = true; break }
                        piece = upcoming
                    }
                    let rejected = rejectedBefore + rejections(results, pieces.written)
                    try await ImportLedger.record(ImportLedger.Progress(chunksDone: 0, resourcesDone: pieces.written.last!.end, rejected: rejected, completed: false),
                                                  of: key, path: path, on: tx)
                    return (results, events)
                }
                cache.commit()
            } catch {
                // A database error (not a validation failure) rolled the chunk back: write its
                // entries one by one, so only the entry at fault is rejected.
                cache.drop()
                results = try await writeOneByOne(pieces.written, writer: plainWriter, key: key, path: path, rejectedBefore: rejectedBefore,
                                                  actor: options.actor, on: db)
            }
            fileRejected += rejections(results, pieces.written)
            for (piece, written) in zip(pieces.written, results) {
                let prepared = piece.prepared.map(\.1)
                tally(written, prepared, file: path, format: format, into: &summary)
                summary.rejected += piece.failures.map { Rejection(file: path, position: position(format, $0.0), resourceType: "?", issues: $0.1.issues.map(describe)) }
                let count = piece.prepared.count + piece.failures.count
                summary.resources += count
                done += count
            }
            report(done, pieces.written.last!.bytes)
            if let error = pieces.readError { throw error }
            next = pieces.ended ? nil : try await pieces.reading?.value
        }
        if fileRejected > 0 {
            // Not completed: the next run reads the whole file again and retries what was rejected.
            try await ImportLedger.resetProgress(of: key, on: db)
        } else {
            try await ImportLedger.record(ImportLedger.Progress(chunksDone: 0, resourcesDone: source.index, completed: true), of: key, path: path, on: db)
        }
    }

    /// Resources of a transaction's pieces that were rejected: by the writer, or unreadable.
    private static func rejections(_ results: [[EntryResult]], _ pieces: [ChunkSource.Chunk]) -> Int {
        results.reduce(0) { $0 + $1.filter { $0.action == .rejected }.count } + pieces.reduce(0) { $0 + $1.failures.count }
    }

    /// At most this many resources go to one `FHIRWriter.write` call: a chunk (a transaction)
    /// of more is written in several. A call's state (models, ledger keys, summaries) is freed
    /// when it ends, while SQLite writes a page a transaction changed once per COMMIT, however
    /// many calls changed it; so a transaction of several calls costs fewer page writes at
    /// the memory of one call (BENCHMARKS.md).
    static let maxCallSize = 2000

    /// The entries of a rolled-back chunk, each in its own transaction; then the chunk's progress
    /// (a kill before it makes the rerun write the chunk again, which the ledger makes harmless).
    private static func writeOneByOne(_ pieces: [ChunkSource.Chunk], writer: FHIRWriter, key: String, path: String, rejectedBefore: Int,
                                      actor: String, on db: any Database) async throws -> [[EntryResult]] {
        var all: [[EntryResult]] = []
        for piece in pieces {
            var results: [EntryResult] = []
            for p in piece.prepared.map(\.1) {
                do {
                    let r = try await AuditLog.write(on: db, actor: .system(actor)) { tx in
                        let (r, events) = try await writer.write([p], on: tx)
                        return (r[0], events)
                    }
                    results.append(r)
                } catch {
                    results.append(EntryResult(action: .rejected, status: .internalServerError, resourceType: p.entry.resourceType,
                                               issues: [.init(.error, .exception, "the database refused it: \(String(describing: error))", at: [p.entry.resourceType])]))
                }
            }
            all.append(results)
        }
        let progress = ImportLedger.Progress(chunksDone: 0, resourcesDone: pieces.last!.end, rejected: rejectedBefore + rejections(all, pieces), completed: false)
        try await ImportLedger.record(progress, of: key, path: path, on: db)
        return all
    }

    private static func tally(_ results: [EntryResult], _ prepared: [FHIRWriter.Prepared], file: String, format: ImportFileReader.Format, into summary: inout Summary) {
        for (result, p) in zip(results, prepared) {
            switch result.action {
            case .created: summary.created += 1
            case .updated: summary.updated += 1
            case .unchanged: summary.unchanged += 1
            case .matched: summary.matched += 1
            case .deleted: summary.deleted += 1
            case .notStored:
                let reasons = result.issues.filter { $0.severity == .error }
                for issue in reasons.isEmpty ? result.issues.prefix(1).map({ $0 }) : reasons { summary.notStored[describe(issue), default: 0] += 1 }
                continue
            case .rejected:
                summary.rejected.append(Rejection(file: file, position: position(format, p.entry.index), resourceType: p.entry.resourceType,
                                                  id: p.entry.resource?["id"]?.stringValue, issues: result.issues.map(describe)))
            }
            if !result.failed {
                for issue in result.issues where issue.severity == .warning { summary.warnings[describe(issue), default: 0] += 1 }
            }
        }
    }

    /// The summary as JSON (`calcitrack import --report`).
    public static func json(_ s: Summary) -> String {
        func counts(_ d: [String: Int]) -> JSONValue {
            .array(d.sorted { $0.value > $1.value }.map { .object(JSONObject([("count", .number(Double($0.value))), ("reason", .string($0.key))])) })
        }
        let value = JSONValue.object(JSONObject([
            ("files", .number(Double(s.files))), ("skippedFiles", .array(s.skippedFiles.map { .string($0) })),
            ("ignored", .array(s.ignored.map { .string($0) })),
            ("resources", .number(Double(s.resources))), ("resumedAfter", .number(Double(s.resumedAfter))),
            ("rejectedEarlier", .number(Double(s.rejectedEarlier))),
            ("created", .number(Double(s.created))), ("updated", .number(Double(s.updated))), ("unchanged", .number(Double(s.unchanged))),
            ("matched", .number(Double(s.matched))), ("notStored", counts(s.notStored)), ("warnings", counts(s.warnings)),
            ("rejected", .array(s.rejected.map { r in
                .object(JSONObject([("file", .string(r.file)), ("position", .string(r.position)), ("resourceType", .string(r.resourceType)),
                                    ("id", r.id.map { .string($0) } ?? .null), ("issues", .array(r.issues.map { .string($0) }))]))
            })),
            ("seconds", .number(s.seconds)), ("resourcesPerSecond", .number(s.perSecond)),
        ]))
        return JSONWriter.write(value, pretty: true)
    }

    static func describe(_ issue: OperationOutcome.Issue) -> String {
        (issue.expression.isEmpty ? "" : issue.expression.joined(separator: ", ") + ": ") + issue.diagnostics
    }
}

/// The pieces of one import transaction, kept outside it: when the transaction fails they are
/// written again one by one, and the piece being read ahead is the next transaction's first.
final class TransactionPieces: @unchecked Sendable {
    var written: [ChunkSource.Chunk] = []
    var reading: Task<ChunkSource.Chunk?, any Error>?
    /// The file ended while this transaction was written.
    var ended = false
    /// Reading the file failed after this transaction's last piece: thrown once it commits.
    var readError: (any Error)?
}

/// Reads and maps the chunks of one file; one reader at a time (the import awaits each chunk
/// before asking for the next), so the unchecked Sendable holds.
final class ChunkSource: @unchecked Sendable {
    struct Chunk: Sendable {
        var prepared: [(Int, FHIRWriter.Prepared)]
        var failures: [(Int, EntryFailure)]
        var bytes: Int
        /// Resources of the file read up to the end of this chunk.
        var end: Int
    }

    let reader: ImportFileReader
    let chunkSize: Int
    private(set) var index = 0

    init(reader: ImportFileReader, chunkSize: Int) { self.reader = reader; self.chunkSize = chunkSize }

    private func nextRaw() throws -> [UInt8]? {
        reader.format == .ndjson ? reader.nextLine() : try reader.nextEntry()
    }

    /// Skips what a previous run committed.
    func skip(_ count: Int) throws {
        while index < count, try nextRaw() != nil { index += 1 }
    }

    func read() throws -> Chunk? {
        var raw: [(Int, [UInt8])] = []
        while raw.count < chunkSize, let bytes = try nextRaw() {
            raw.append((index, bytes))
            index += 1
        }
        guard !raw.isEmpty else { return nil }
        var prepared: [(Int, FHIRWriter.Prepared)] = [], failures: [(Int, EntryFailure)] = []
        for (i, bytes) in raw {
            switch FHIRImport.entry(from: bytes, format: reader.format, index: i, file: reader.path) {
            case .success(let e): prepared.append((i, FHIRWriter.prepare(e)))
            case .failure(let f): failures.append((i, f))
            }
        }
        return Chunk(prepared: prepared, failures: failures, bytes: reader.bytesRead, end: index)
    }
}

/// Settings of the import's SQLite connection, set before its first transaction (SQLite refuses
/// `temp_store` inside one) and reset after it, as the connection goes back to the pool.
enum SQLiteImportSettings {
    static func apply(on sql: any SQLDatabase) async throws {
        // A bigger page cache (as `calcitrack generate`): the indexes of history, ledger and audit
        // rows have random keys.
        try await sql.raw("PRAGMA cache_size = -131072").run()
        // The statement journal of each multi-row INSERT in memory, not in a temporary file.
        try await sql.raw("PRAGMA temp_store = MEMORY").run()
        // A checkpoint after 64 MiB of WAL rather than 4 MiB: the patient rows, case sections and
        // index pages each chunk rewrites go back to the database file once per checkpoint, not
        // once per chunk. `run` checkpoints at the end.
        try await sql.raw("PRAGMA wal_autocheckpoint = 16384").run()
    }

    static func reset(on sql: any SQLDatabase) async throws {
        try await sql.raw("PRAGMA cache_size = -2000").run()
        try await sql.raw("PRAGMA temp_store = DEFAULT").run()
        try await sql.raw("PRAGMA wal_autocheckpoint = 1000").run()
    }
}
