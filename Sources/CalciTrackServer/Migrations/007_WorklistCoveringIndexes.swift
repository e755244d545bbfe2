import Fluent
import SQLKit

/// 007: worklist indexes that answer a page and its count without reading the table.
/// - The flag worklists (active infection, worsening lesion) are read by name. With 006's
///   (site_id, flag, deleted_at) a page sorted every match first (4,540 active infections at
///   100,000 patients: 288 ms p95, BENCHMARKS.md); with the name order inside the index a page
///   is read in index order and stops after `limit` rows.
/// - Follow-up filters test last_contact, has_unhealed_lesion and next_due; SQLite's planner
///   picks the last_contact index for them (`last_contact IS NOT NULL` is a range on it), which
///   lacked next_due, so counting 24,701 overdue patients read 24,701 table rows (150 ms).
struct WorklistCoveringIndexes: AsyncMigration {
    var name: String { "007_WorklistCoveringIndexes" }

    static let replaced = [
        (name: "patients_site_last_contact", old: "site_id, last_contact, has_unhealed_lesion, deleted_at",
         new: "site_id, last_contact, has_unhealed_lesion, next_due, deleted_at"),
        (name: "patients_site_infection", old: "site_id, active_infection, deleted_at",
         new: "site_id, active_infection, family_name, given_name, id, deleted_at"),
        (name: "patients_site_worsening", old: "site_id, worsening_lesion, deleted_at",
         new: "site_id, worsening_lesion, family_name, given_name, id, deleted_at"),
    ]

    func prepare(on database: any Database) async throws {
        try await recreate(on: database, \.new)
        // Fresh statistics for the new indexes: without them SQLite's planner kept counting the
        // overdue worklist through the table (71 ms instead of 18 ms a request at 100,000 patients).
        try await (database as! any SQLDatabase).raw("ANALYZE patients").run()
    }

    func revert(on database: any Database) async throws {
        try await recreate(on: database, \.old)
    }

    private func recreate(on database: any Database, _ columns: KeyPath<(name: String, old: String, new: String), String>) async throws {
        let sql = database as! any SQLDatabase
        for index in Self.replaced {
            try await sql.raw("DROP INDEX \(unsafeRaw: index.name)").run()
            try await sql.raw("CREATE INDEX \(unsafeRaw: index.name) ON patients (\(unsafeRaw: index[keyPath: columns]))").run()
        }
    }
}
