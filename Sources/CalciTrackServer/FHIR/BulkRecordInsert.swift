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
    /// Inserts `models` (new, ids and timestamps set) in statements of at most `maxBinds` binds,
    /// with their hand-written rows (`BulkInsertRow`, no reflection).
    static func insert<M: Model & BulkInsertRow>(_ models: [M], maxBinds: Int, on db: any Database) async throws {
        guard !models.isEmpty else { return }
        // What `PatientNameKeyMiddleware` does for a patient created through Fluent (012).
        for model in models { (model as? Patient)?.setNameKeys() }
        let sql = db as! any SQLDatabase
        let perStatement = max(1, maxBinds / M.bulkColumns.count)
        for start in stride(from: 0, to: models.count, by: perStatement) {
            try await sql.insert(into: M.schema).columns(M.bulkColumns)
                .rows(models[start..<min(start + perStatement, models.count)].map(\.bulkValues))
                .run()
        }
    }

    /// The `resource_versions` rows the history middleware would have written for these creates.
    static func history(_ rows: [(kind: String, id: UUID, patientID: UUID, body: JSONValue)], now: Date, maxBinds: Int, on db: any Database) async throws {
        guard !rows.isEmpty else { return }
        let sql = db as! any SQLDatabase
        let values: [[any SQLExpression]] = rows.map { r in
            [SQLBind(r.kind), SQLBind(r.id), SQLBind(1), SQLBind(r.patientID), SQLBind(false), SQLBind(now), SQLBind(JSONWriter.write(r.body, pretty: false))]
        }
        let perStatement = max(1, maxBinds / ResourceHistory.columns.count)
        for start in stride(from: 0, to: values.count, by: perStatement) {
            try await sql.insert(into: ResourceHistory.table)
                .columns(ResourceHistory.columns)
                .rows(values[start..<min(start + perStatement, values.count)])
                .run()
        }
    }
}
