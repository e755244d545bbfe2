import CalciTrackCore
import Fluent
import Foundation
import SQLKit

/// Multi-row INSERTs of new patients and records for bulk writes (`calcitrack import`, Bundles),
/// bypassing Fluent's per-model middleware, which would run one history INSERT per row. What that
/// middleware (`ResourceHistoryMiddleware`, migration 009) writes is written here instead, in bulk
/// and in the same transaction: one `resource_versions` row per created record, version 1, with
/// the record's API JSON as the middleware stores it.
enum BulkRecordInsert {
    /// Inserts `models` (new and complete: ids, timestamps and a patient's name keys set, as
    /// `PatientNameKeyMiddleware` sets them for a patient created through Fluent, 012) in
    /// statements of at most `maxBinds` binds, with their hand-written rows (`BulkInsertRow`, no
    /// reflection). The models are only read: other work may read them at the same time.
    static func insert<M: Model & BulkInsertRow>(_ models: [M], maxBinds: Int, on db: any Database) async throws {
        guard !models.isEmpty else { return }
        let insert = MultiRowInsert(table: M.schema, columns: M.bulkColumns)
        let perStatement = max(1, maxBinds / M.bulkColumns.count)
        for start in stride(from: 0, to: models.count, by: perStatement) {
            try await insert.run(models[start..<min(start + perStatement, models.count)].map(\.bulkValues), on: db)
        }
    }

    /// One `resource_versions` row: a version of a record and its API JSON (as text).
    struct HistoryRow: Sendable {
        var kind: String
        var id: UUID
        var version: Int
        var patientID: UUID
        var body: String

        init(kind: String, id: UUID, version: Int, patientID: UUID, body: JSONValue) {
            self.kind = kind; self.id = id; self.version = version; self.patientID = patientID
            self.body = JSONWriter.write(body, pretty: false)
        }
    }

    /// The `resource_versions` rows the history middleware would have written for these creates
    /// and updates.
    static func history(_ rows: [HistoryRow], now: Date, maxBinds: Int, on db: any Database) async throws {
        guard !rows.isEmpty else { return }
        let values: [[any SQLExpression]] = rows.map { r in
            [SQLBind(r.kind), SQLBind(r.id), SQLBind(r.version), SQLBind(r.patientID), SQLBind(false), SQLBind(now), SQLBind(r.body)]
        }
        let insert = MultiRowInsert(table: ResourceHistory.table, columns: ResourceHistory.columns)
        let perStatement = max(1, maxBinds / ResourceHistory.columns.count)
        for start in stride(from: 0, to: values.count, by: perStatement) {
            try await insert.run(values[start..<min(start + perStatement, values.count)], on: db)
        }
    }
}
