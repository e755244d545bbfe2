import Fluent
import Foundation
import SQLKit

/// Reads and writes the import bookkeeping of migration 010, always inside the caller's write
/// transaction, so the bookkeeping never disagrees with the records.
enum ImportLedger {
    static let idsTable = "fhir_import_ids"
    static let progressTable = "fhir_import_progress"

    /// What a source resource was written as.
    struct Entry: Sendable, Equatable {
        var kind: String
        var recordID: UUID
        var patientID: UUID?
        var contentHash: String
    }

    /// The entries of `keys` (one query per 500 keys).
    static func lookup(_ keys: Set<String>, on db: any Database) async throws -> [String: Entry] {
        guard !keys.isEmpty else { return [:] }
        let sql = db as! any SQLDatabase
        var found: [String: Entry] = [:]
        let all = Array(keys)
        for start in stride(from: 0, to: all.count, by: 500) {
            let slice = all[start..<min(start + 500, all.count)]
            let rows = try await sql.select().columns("source_key", "record_kind", "record_id", "patient_id", "content_hash")
                .from(idsTable).where("source_key", .in, SQLBind.group(Array(slice))).all()
            for row in rows {
                found[try row.decode(column: "source_key", as: String.self)] = Entry(
                    kind: try row.decode(column: "record_kind", as: String.self),
                    recordID: try row.decode(column: "record_id", as: UUID.self),
                    patientID: try row.decode(column: "patient_id", as: UUID?.self),
                    contentHash: try row.decode(column: "content_hash", as: String.self))
            }
        }
        return found
    }

    /// Inserts or replaces entries (multi-row statements sized to the bind limits).
    static func store(_ entries: [(key: String, resourceType: String, entry: Entry)], on db: any Database) async throws {
        guard !entries.isEmpty else { return }
        let at = ISOTimestamp.iso(Date())
        // Last one wins when a chunk names the same key twice (PostgreSQL refuses a row twice in one upsert).
        var latest: [String: Int] = [:]
        for (i, e) in entries.enumerated() { latest[e.key] = i }
        let rows: [[any SQLExpression]] = latest.values.sorted().map { i in
            let e = entries[i]
            return [SQLBind(e.key), SQLBind(e.resourceType), SQLBind(e.entry.kind), SQLBind(e.entry.recordID),
                    e.entry.patientID.map { SQLBind($0) as any SQLExpression } ?? SQLLiteral.null, SQLBind(e.entry.contentHash), SQLBind(at)]
        }
        let upsert = MultiRowInsert(table: idsTable, columns: ["source_key", "resource_type", "record_kind", "record_id", "patient_id", "content_hash", "imported_at"],
                                    conflictKey: "source_key", update: ["record_kind", "record_id", "patient_id", "content_hash", "imported_at"])
        for start in stride(from: 0, to: rows.count, by: 1000) {
            try await upsert.run(rows[start..<min(start + 1000, rows.count)], on: db)
        }
    }

    /// Forgets every key that names one of `recordIDs` (the records were deleted).
    static func forget(recordIDs: [UUID], on db: any Database) async throws {
        guard !recordIDs.isEmpty else { return }
        try await (db as! any SQLDatabase).delete(from: idsTable).where("record_id", .in, SQLBind.group(recordIDs)).run()
    }

    // MARK: progress of file imports

    struct Progress: Sendable, Equatable {
        var chunksDone: Int
        var resourcesDone: Int
        /// Resources of the file rejected by the chunks `resourcesDone` counts (016).
        var rejected: Int = 0
        var completed: Bool
    }

    static func progress(of fileKey: String, on db: any Database) async throws -> Progress? {
        guard let row = try await (db as! any SQLDatabase).select().columns("chunks_done", "resources_done", "rejected", "completed")
            .from(progressTable).where("file_key", .equal, fileKey).first() else { return nil }
        return Progress(chunksDone: try row.decode(column: "chunks_done", as: Int.self),
                        resourcesDone: try row.decode(column: "resources_done", as: Int.self),
                        rejected: try row.decode(column: "rejected", as: Int.self),
                        completed: try row.decode(column: "completed", as: Bool.self))
    }

    static func record(_ progress: Progress, of fileKey: String, path: String, on db: any Database) async throws {
        try await (db as! any SQLDatabase).insert(into: progressTable)
            .columns("file_key", "path", "chunks_done", "resources_done", "rejected", "completed", "updated_at")
            .values(SQLBind(fileKey), SQLBind(path), SQLBind(progress.chunksDone), SQLBind(progress.resourcesDone),
                    SQLBind(progress.rejected), SQLBind(progress.completed), SQLBind(ISOTimestamp.iso(Date())))
            .onConflict(with: ["file_key"]) { $0.set(excludedValueOf: "chunks_done").set(excludedValueOf: "resources_done")
                .set(excludedValueOf: "rejected").set(excludedValueOf: "completed").set(excludedValueOf: "updated_at").set(excludedValueOf: "path") }
            .run()
    }

    /// Forgets a file's progress: the next run reads it from its first resource.
    static func resetProgress(of fileKey: String, on db: any Database) async throws {
        try await (db as! any SQLDatabase).delete(from: progressTable).where("file_key", .equal, fileKey).run()
    }
}
