import CalciTrackCore
import Fluent
import Foundation
import SQLKit

/// 012 (issue 4): the worklist reads an index, not every patient.
/// - `follow_up_status`, `worklist_tier`, `standing_day`, `standing_until` (`WorklistStanding`):
///   "needs attention" was an OR over six flags and three date rules, which no index serves
///   (596 ms p95 for deep pages at 100,000 patients); now it is `worklist_tier <= 8`, read in
///   order from (site, tier, name). The defaults ('0000-01-01') make a row written without them
///   stale at once, so the next worklist read computes it (`WorklistStanding.refresh`).
/// - `family_key`, `given_key` (`NameSearchKey`): prefix search as an index range. PostgreSQL
///   compares them byte-wise (`COLLATE "C"`), as SQLite does.
/// - The flag indexes of 007 and 011 gain the tier, so a flag list is read in worklist order.
/// Every patient's standing (as of today, UTC) and name keys are computed here in one transaction.
struct WorklistStandingAndNameKeys: AsyncMigration {
    var name: String { "012_WorklistStandingAndNameKeys" }

    static let order = "worklist_tier, family_name, given_name, id, deleted_at"
    static let indexes = [
        ("patients_site_tier", "site_id, \(order)"),
        ("patients_site_follow_up", "site_id, follow_up_status, \(order)"),
        // Narrow twins for counting: a count reads every matching entry (73,000 for "needs
        // attention" at 100,000 patients), half the pages without the names (12.7 → 6.6 ms).
        ("patients_site_tier_count", "site_id, worklist_tier, deleted_at"),
        ("patients_site_follow_up_count", "site_id, follow_up_status, deleted_at"),
        ("patients_standing_until", "standing_until"),
        ("patients_standing_day", "standing_day"),
        // Name search (`WorklistSearch`): covering, so a search's count and page read no rows.
        ("patients_site_family_key", "site_id, family_key, \(order)"),
        ("patients_site_given_key", "site_id, given_key, \(order)"),
    ]
    /// Flag indexes of 007 and 011: (site, flag, name…) before, (site, flag, tier, name…) after.
    static let flags = [("patients_site_infection", "active_infection"), ("patients_site_worsening", "worsening_lesion"),
                        ("patients_site_sepsis", "sepsis_screen_positive"), ("patients_site_high_alert", "high_alert")]

    func prepare(on database: any Database) async throws {
        try await database.transaction { tx in
            let sql = tx as! any SQLDatabase
            let collate = sql.dialect.name == "sqlite" ? "" : " COLLATE \"C\""
            for column in ["follow_up_status TEXT NOT NULL DEFAULT 'no-visits'", "worklist_tier INTEGER NOT NULL DEFAULT 9",
                           "standing_day TEXT NOT NULL DEFAULT '0000-01-01'", "standing_until TEXT DEFAULT '0000-01-01'",
                           "family_key TEXT\(collate) NOT NULL DEFAULT ''", "given_key TEXT\(collate) NOT NULL DEFAULT ''"] {
                try await sql.raw("ALTER TABLE patients ADD COLUMN \(unsafeRaw: column)").run()
            }
            try await Self.backfill(on: sql, today: LocalDate.utc(Date()))
            for (name, flag) in Self.flags {
                try await sql.raw("DROP INDEX \(unsafeRaw: name)").run()
                try await sql.raw("CREATE INDEX \(unsafeRaw: name) ON patients (site_id, \(unsafeRaw: flag), \(unsafeRaw: Self.order))").run()
            }
            for (name, columns) in Self.indexes {
                try await sql.raw("CREATE INDEX \(unsafeRaw: name) ON patients (\(unsafeRaw: columns))").run()
            }
            try await sql.raw("ANALYZE patients").run()
        }
    }

    /// Name keys and standing of every patient (deleted ones too), 1,000 at a time.
    static func backfill(on sql: any SQLDatabase, today: LocalDate) async throws {
        var after: UUID?
        while true {
            var select = sql.select()
                .columns(["id", "family_name", "given_name"] + WorklistStanding.Inputs.columns)
                .from("patients").orderBy("id").limit(1000)
            if let after { select = select.where("id", .greaterThan, after) }
            let rows = try await select.all()
            for row in rows {
                let id = try row.decode(column: "id", as: UUID.self)
                let standing = WorklistStanding.of(try WorklistStanding.Inputs(row: row), on: today)
                try await sql.raw("""
                    UPDATE patients SET follow_up_status = \(bind: standing.followUpStatus), worklist_tier = \(bind: standing.tier),
                           standing_day = \(bind: standing.day.description), standing_until = \(bind: standing.until?.description),
                           family_key = \(bind: NameSearchKey.fold(try row.decode(column: "family_name", as: String.self))),
                           given_key = \(bind: NameSearchKey.fold(try row.decode(column: "given_name", as: String.self)))
                    WHERE id = \(bind: id)
                    """).run()
            }
            guard rows.count == 1000, let last = rows.last else { break }
            after = try last.decode(column: "id", as: UUID.self)
        }
    }

    func revert(on database: any Database) async throws {
        try await database.transaction { tx in
            let sql = tx as! any SQLDatabase
            for (name, _) in Self.indexes { try await sql.raw("DROP INDEX \(unsafeRaw: name)").run() }
            for (name, flag) in Self.flags {
                try await sql.raw("DROP INDEX \(unsafeRaw: name)").run()
                try await sql.raw("CREATE INDEX \(unsafeRaw: name) ON patients (site_id, \(unsafeRaw: flag), family_name, given_name, id, deleted_at)").run()
            }
            for column in ["follow_up_status", "worklist_tier", "standing_day", "standing_until", "family_key", "given_key"] {
                try await sql.raw("ALTER TABLE patients DROP COLUMN \(unsafeRaw: column)").run()
            }
        }
    }
}
