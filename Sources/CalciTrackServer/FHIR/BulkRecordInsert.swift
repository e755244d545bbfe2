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
    /// Collects a model's column values the way Fluent's own create does.
    private final class Input: DatabaseInput {
        var values: [FieldKey: DatabaseQuery.Value] = [:]
        func set(_ value: DatabaseQuery.Value, at key: FieldKey) { values[key] = value }
    }

    private static func values(of model: some Model) -> [FieldKey: DatabaseQuery.Value] {
        let input = Input()
        for property in model.properties { (property as? any AnyDatabaseProperty)?.input(to: input) }
        return input.values
    }

    /// Inserts `models` (new, ids set) in statements of at most `maxBinds` binds, with their
    /// creation and update times set to `now`.
    static func insert<M: Model>(_ models: [M], now: Date, maxBinds: Int, on db: any Database) async throws {
        guard !models.isEmpty else { return }
        // What `PatientNameKeyMiddleware` does for a patient created through Fluent (012).
        for model in models { (model as? Patient)?.setNameKeys() }
        var rows = models.map { values(of: $0) }
        // Every row must name the same columns: a field never set is NULL.
        let keys = rows.reduce(into: Set<FieldKey>()) { $0.formUnion($1.keys) }
        for i in rows.indices { for key in keys where rows[i][key] == nil { rows[i][key] = .null } }
        let perStatement = max(1, maxBinds / max(1, keys.count))
        for start in stride(from: 0, to: rows.count, by: perStatement) {
            try await M.query(on: db).set(Array(rows[start..<min(start + perStatement, rows.count)])).create()
        }
    }

    /// The `resource_versions` rows the history middleware would have written for these creates.
    static func history(_ rows: [(kind: String, id: UUID, patientID: UUID, body: JSONValue)], now: Date, maxBinds: Int, on db: any Database) async throws {
        guard !rows.isEmpty else { return }
        let sql = db as! any SQLDatabase
        let values: [[any SQLExpression]] = rows.map { r in
            [SQLBind(r.kind), SQLBind(r.id), SQLBind(1), SQLBind(r.patientID), SQLBind(false), SQLBind(now), SQLBind(JSONWriter.write(r.body, pretty: false))]
        }
        let perStatement = max(1, maxBinds / 7)
        for start in stride(from: 0, to: values.count, by: perStatement) {
            try await sql.insert(into: "resource_versions")
                .columns("record_kind", "record_id", "version", "patient_id", "deleted", "recorded_at", "body")
                .rows(values[start..<min(start + perStatement, values.count)])
                .run()
        }
    }
}
