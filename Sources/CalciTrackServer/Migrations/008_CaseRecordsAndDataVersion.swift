import CalciTrackCore
import Fluent
import Foundation
import SQLKit

/// 008: two derived values that spare the hot reads work.
/// - `patient_case_records`: each patient's case sections built from their records, kept current
///   by `PatientSummary` in every write transaction, so an assessment reads one row instead of
///   eight record queries. A table of its own, so that patient lists do not carry it. Existing
///   patients are filled by 011.
/// - `audit_head.data_version`: counts committed write transactions (`AuditLog.write`; reads
///   do not change it), so caches of derived answers (worklist counts) know when they are stale,
///   across server processes sharing one database.
struct CaseRecordsAndDataVersion: AsyncMigration {
    var name: String { "008_CaseRecordsAndDataVersion" }

    /// One transaction: an interrupted backfill leaves the schema as it was, and the next start
    /// runs the migration again.
    func prepare(on database: any Database) async throws {
        try await database.transaction { tx in
            try await tx.schema("patient_case_records")
                .field("patient_id", .uuid, .identifier(auto: false), .references("patients", "id"))
                .field("records", .string, .required)
                .create()
            let sql = tx as! any SQLDatabase
            try await sql.raw("ALTER TABLE audit_head ADD COLUMN data_version BIGINT NOT NULL DEFAULT 0").run()
            // The sections of existing patients are filled by 011, which recomputes every
            // patient's derived data: the record models read columns that 011 adds, so they
            // cannot be read here (a database migrated to 008 before 011 existed was filled here).
        }
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("ALTER TABLE audit_head DROP COLUMN data_version").run()
        try await database.schema("patient_case_records").delete()
    }
}
