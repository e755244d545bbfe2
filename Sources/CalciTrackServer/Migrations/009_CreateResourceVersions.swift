import Fluent
import SQLKit

/// 009: the resource history behind FHIR vread and `_history` (docs/fhir.md, "History"): one
/// row per create, update and delete of a patient or record, holding the record's API JSON as it
/// was, written by `ResourceHistoryMiddleware` in the write's own transaction. Also the indexes
/// FHIR searches use: a (patient, date) and a (date) index on every record table, so a search by
/// patient and date range, or by date range alone, reads an index range (100,000 patients).
struct CreateResourceVersions: AsyncMigration {
    var name: String { "009_CreateResourceVersions" }

    /// Table and the column FHIR `date` searches and `_sort=date` read (the record's clinical date).
    static let dateColumns = [("lesion_measurements", "date"), ("visits", "date"), ("lab_results", "date"), ("vital_signs", "date"),
                              ("medications", "start"), ("procedures", "date"), ("infection_episodes", "onset"), ("imaging_studies", "date")]

    func prepare(on database: any Database) async throws {
        try await database.schema("resource_versions")
            .field("record_kind", .string, .required)
            .field("record_id", .uuid, .required)
            .field("version", .int, .required)
            .field("patient_id", .uuid, .required)
            .field("deleted", .bool, .required)
            .field("recorded_at", .datetime, .required)
            .field("body", .string, .required)
            .unique(on: "record_kind", "record_id", "version", name: "resource_versions_record_version")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX resource_versions_patient ON resource_versions (patient_id, recorded_at)").run()
        try await sql.raw("CREATE INDEX resource_versions_kind_time ON resource_versions (record_kind, recorded_at)").run()
        for (table, column) in Self.dateColumns {
            try await sql.raw("CREATE INDEX \(unsafeRaw: table)_patient_\(unsafeRaw: column) ON \(unsafeRaw: table) (patient_id, \(unsafeRaw: column))").run()
            try await sql.raw("CREATE INDEX \(unsafeRaw: table)_\(unsafeRaw: column) ON \(unsafeRaw: table) (\(unsafeRaw: column))").run()
        }
        try await sql.raw("CREATE INDEX lab_results_loinc_date ON lab_results (loinc, date)").run()
        // Every search joins each matching record to its patient for the site and soft-delete
        // checks; this answers that from the index alone instead of reading the wide patient row.
        try await sql.raw("CREATE INDEX patients_id_site ON patients (id, site_id, deleted_at)").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for (table, column) in Self.dateColumns {
            try await sql.raw("DROP INDEX \(unsafeRaw: table)_patient_\(unsafeRaw: column)").run()
            try await sql.raw("DROP INDEX \(unsafeRaw: table)_\(unsafeRaw: column)").run()
        }
        try await sql.raw("DROP INDEX lab_results_loinc_date").run()
        try await sql.raw("DROP INDEX patients_id_site").run()
        try await database.schema("resource_versions").delete()
    }
}
