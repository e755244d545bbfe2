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
/// - Resumable: the chunk's progress row commits with the chunk, so after a kill the rerun
///   skips the committed chunks. A transaction Bundle is one transaction: applied whole or not at all.
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
        public var resources = 0
        public var resumedAfter = 0
        public var created = 0, updated = 0, unchanged = 0, matched = 0, deleted = 0
        public var rejected: [Rejection] = []
        /// Resources CalciTrack has no home for (not stored), by reason.
        public var notStored: [String: Int] = [:]
        /// Warnings about elements not stored from accepted resources, by message.
        public var warnings: [String: Int] = [:]
        public var seconds = 0.0
        public var perSecond: Double { seconds > 0 ? Double(resources) / seconds : 0 }
    }

    /// The files of a path: the file itself, or a directory's `.ndjson`/`.jsonl`/`.json` files
    /// in dependency order (Patient first) then by name.
    public static func files(at path: String) throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw ImportError("\(path) does not exist") }
        guard isDir.boolValue else { return [path] }
        let names = try FileManager.default.contentsOfDirectory(atPath: path)
            .filter { $0.hasSuffix(".ndjson") || $0.hasSuffix(".jsonl") || $0.hasSuffix(".json") }
        func rank(_ name: String) -> Int {
            let type = String(name.prefix { $0.isLetter })
            return RegistryRecordKind.fileOrder(ofResourceType: type)
        }
        return names.sorted { rank($0) != rank($1) ? rank($0) < rank($1) : $0 < $1 }.map { (path as NSString).appendingPathComponent($0) }
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
        for path in paths { files += try Self.files(at: path) }
        var done = 0
        let cache = ImportRecordCache()
        for file in files {
            summary.files += 1
            let key = try fileKey(file)
            if let p = try await ImportLedger.progress(of: key, on: db), p.completed {
                summary.skippedFiles.append(file)
                continue
            }
            let reader = try ImportFileReader(path: file)
            let report: @Sendable (Int, Int) -> Void = { resources, bytes in
                progress(Progress(file: file, resources: resources, bytesDone: bytes, bytesTotal: reader.size, elapsed: Date().timeIntervalSince(start)))
            }
            if reader.format == .bundle, try ImportFileReader.bundleType(of: file) == "transaction" {
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

    /// A file's identity for resuming: its path, size and a hash of its first 64 KiB.
    static func fileKey(_ path: String) throws -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ImportError("cannot open \(path)") }
        defer { try? handle.close() }
        let head = handle.readData(ofLength: 65_536)
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        return "\(absolute)|\(size)|" + AuditLog.digest(String(decoding: head, as: UTF8.self)).prefix(16)
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
                try await ImportLedger.record(ImportLedger.Progress(chunksDone: 1, resourcesDone: count, completed: true), of: key, path: path, on: tx)
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
        let resumeFrom = try await ImportLedger.progress(of: key, on: db)?.resourcesDone ?? 0
        let chunk = options.chunkSize!  // set by `run`
        let calls = (chunk + options.callSize - 1) / max(1, options.callSize)
        let source = ChunkSource(reader: reader, chunkSize: (chunk + calls - 1) / calls)
        try source.skip(resumeFrom)
        if resumeFrom > 0 { summary.resumedAfter += resumeFrom; summary.resources += resumeFrom; done += resumeFrom }
        let plainWriter = FHIRWriter(authority: authority, today: options.today, mode: .batch)
        var writer = plainWriter
        writer.recordCache = cache
        let format = reader.format
        let path = reader.path

        var next = try source.read()
        while let first = next {
            let pieces = TransactionPieces()
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
                    try await ImportLedger.record(ImportLedger.Progress(chunksDone: 0, resourcesDone: pieces.written.last!.end, completed: false), of: key, path: path, on: tx)
                    return (results, events)
                }
                cache.commit()
            } catch {
                // A database error (not a validation failure) rolled the chunk back: write its
                // entries one by one, so only the entry at fault is rejected.
                cache.drop()
                results = try await writeOneByOne(pieces.written, writer: plainWriter, key: key, path: path, actor: options.actor, on: db)
            }
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
        try await ImportLedger.record(ImportLedger.Progress(chunksDone: 0, resourcesDone: source.index, completed: true), of: key, path: path, on: db)
    }

    /// At most this many resources go to one `FHIRWriter.write` call: a chunk (a transaction)
    /// of more is written in several. A call's state (models, ledger keys, summaries) is freed
    /// when it ends, while SQLite writes a page a transaction changed once per COMMIT, however
    /// many calls changed it; so a transaction of several calls costs fewer page writes at
    /// the memory of one call (BENCHMARKS.md).
    static let maxCallSize = 2000

    /// The entries of a rolled-back chunk, each in its own transaction; the last one records the chunk's progress.
    private static func writeOneByOne(_ pieces: [ChunkSource.Chunk], writer: FHIRWriter, key: String, path: String, actor: String,
                                      on db: any Database) async throws -> [[EntryResult]] {
        var all: [[EntryResult]] = []
        let committed = pieces.last!.end
        for (k, piece) in pieces.enumerated() {
            let prepared = piece.prepared.map(\.1)
            var results: [EntryResult] = []
            for (n, p) in prepared.enumerated() {
                let last = k == pieces.count - 1 && n == prepared.count - 1
                do {
                    let r = try await AuditLog.write(on: db, actor: .system(actor)) { tx in
                        let (r, events) = try await writer.write([p], on: tx)
                        if last {
                            try await ImportLedger.record(ImportLedger.Progress(chunksDone: 0, resourcesDone: committed, completed: false), of: key, path: path, on: tx)
                        }
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
            ("resources", .number(Double(s.resources))), ("resumedAfter", .number(Double(s.resumedAfter))),
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
