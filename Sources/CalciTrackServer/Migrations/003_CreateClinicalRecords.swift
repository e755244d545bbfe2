import Fluent
import SQLKit

/// 003: the clinical records of a patient, each with the common columns of `RecordColumns`
/// (id, patient, version, timestamps, soft delete, authors) and an index on (patient, date).
struct CreateClinicalRecords: AsyncMigration {
    var name: String { "003_CreateClinicalRecords" }

    func prepare(on database: any Database) async throws {
        func table(_ name: String) -> SchemaBuilder { RecordColumns.add(to: database.schema(name)) }
        try await table("lesions")
            .field("label", .string, .required).field("site", .string).field("laterality", .string)
            .field("morphology", .string).field("periarticular_mass", .bool).field("findings", .string)
            .field("status", .string, .required).field("note", .string)
            .create()
        try await table("lesion_measurements")
            .field("lesion_id", .uuid, .required, .references("lesions", "id"))
            .field("date", .string, .required).field("length_cm", .double).field("width_cm", .double)
            .field("depth_cm", .double).field("area_cm2", .double).field("perimeter_cm", .double)
            .field("healed", .bool).field("pain_vas", .double)
            .create()
        try await table("visits")
            .field("date", .string, .required).field("kind", .string).field("next_due", .string)
            .field("pain_vas", .double).field("note", .string)
            .create()
        try await table("lab_results")
            .field("test", .string, .required).field("value", .double, .required).field("unit", .string, .required)
            .field("value_normalised", .double, .required).field("unit_normalised", .string, .required)
            .field("loinc", .string).field("date", .string, .required)
            .create()
        try await table("vital_signs")
            .field("date", .string, .required).field("temperature_c", .double).field("heart_rate", .double)
            .field("respiratory_rate", .double).field("systolic_bp", .double).field("altered_mentation", .bool)
            .create()
        try await table("medications")
            .field("drug", .string, .required).field("rxnorm", .string).field("dose_mg", .double)
            .field("frequency", .string).field("route", .string).field("start", .string).field("stop", .string)
            .field("indication", .string)
            .create()
        try await table("medication_holds")
            .field("medication_id", .uuid, .required, .references("medications", "id"))
            .field("start", .string, .required).field("end", .string).field("reason", .string, .required)
            .create()
        try await table("procedures")
            .field("lesion_id", .uuid, .references("lesions", "id"))
            .field("date", .string, .required).field("kind", .string, .required).field("note", .string)
            .create()
        try await table("infection_episodes")
            .field("lesion_id", .uuid, .references("lesions", "id"))
            .field("onset", .string, .required).field("organism", .string).field("mrsa", .bool)
            .field("culture_source", .string).field("culture_result", .string).field("antibiotic", .string)
            .field("antibiotic_route", .string).field("antibiotic_start", .string).field("antibiotic_stop", .string)
            .field("outcome", .string, .required).field("resolved_date", .string).field("note", .string)
            .create()
        try await table("imaging_studies")
            .field("date", .string, .required).field("modality", .string, .required).field("inconclusive", .bool)
            .field("findings", .string).field("scores", .string)
            .create()
        let sql = database as! any SQLDatabase
        for name in Self.tables {
            try await sql.raw("CREATE INDEX \(unsafeRaw: name)_patient ON \(unsafeRaw: name) (patient_id)").run()
        }
        try await sql.raw("CREATE INDEX lesion_measurements_lesion ON lesion_measurements (lesion_id)").run()
        try await sql.raw("CREATE INDEX lesions_site ON lesions (site)").run()
    }

    static let tables = ["lesions", "lesion_measurements", "visits", "lab_results", "vital_signs", "medications",
                         "medication_holds", "procedures", "infection_episodes", "imaging_studies"]

    func revert(on database: any Database) async throws {
        for name in Self.tables.reversed() { try await database.schema(name).delete() }
    }
}
