import Fluent
import SQLKit

/// 006: indexes for the worklist filters within a site. With only (site_id, family_name), a
/// follow-up filter read every patient of the site to count matches (150 ms at 100,000
/// patients, BENCHMARKS.md); these let the count and the filter use an index range.
struct AddWorklistIndexes: AsyncMigration {
    var name: String { "006_AddWorklistIndexes" }

    /// Each ends with deleted_at, which every query tests (soft delete), so counts need no table row.
    static let indexes = [
        ("patients_site_next_due", "site_id, next_due, last_contact, has_unhealed_lesion, deleted_at"),
        ("patients_site_last_contact", "site_id, last_contact, has_unhealed_lesion, deleted_at"),
        ("patients_site_infection", "site_id, active_infection, deleted_at"),
        ("patients_site_worsening", "site_id, worsening_lesion, deleted_at"),
    ]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for (name, columns) in Self.indexes {
            try await sql.raw("CREATE INDEX \(unsafeRaw: name) ON patients (\(unsafeRaw: columns))").run()
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for (name, _) in Self.indexes { try await sql.raw("DROP INDEX \(unsafeRaw: name)").run() }
    }
}
