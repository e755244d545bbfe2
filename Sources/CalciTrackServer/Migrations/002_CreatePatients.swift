import Fluent
import SQLKit

/// 002: patients, with the summary columns the worklist filters on and their indexes.
struct CreatePatients: AsyncMigration {
    var name: String { "002_CreatePatients" }

    func prepare(on database: any Database) async throws {
        try await RecordColumns.versioned(database.schema("patients")
            .id()
            .field("site_id", .uuid, .required, .references("sites", "id"))
            .field("mrn", .string, .required)
            .field("family_name", .string, .required)
            .field("given_name", .string, .required)
            .field("sex", .string, .required)
            .field("birth_date", .string)
            .field("weight_kg", .double)
            .field("pregnant", .bool)
            .field("ssc", .string)
            .field("other_ctd", .string)
            .field("history", .string)
            .field("infection_inputs", .string)
            .field("workup", .string)
            .field("date_shift_days", .int, .required))
            .field("last_contact", .string)
            .field("next_due", .string)
            .field("has_unhealed_lesion", .bool, .required)
            .field("active_infection", .bool, .required)
            .field("infection_severity", .string)
            .field("worsening_lesion", .bool, .required)
            .field("body_sites", .string)
            .unique(on: "site_id", "mrn")
            .create()
        let sql = database as! any SQLDatabase
        for (name, columns) in [("patients_family_name", "family_name"), ("patients_next_due", "next_due"),
                                ("patients_last_contact", "last_contact"), ("patients_site_family", "site_id, family_name"),
                                ("patients_active_infection", "active_infection"), ("patients_worsening", "worsening_lesion")] {
            try await sql.raw("CREATE INDEX \(unsafeRaw: name) ON patients (\(unsafeRaw: columns))").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema("patients").delete()
    }
}
