import Fluent
import SQLKit

/// 010: bookkeeping of FHIR imports (docs/fhir.md "Migration numbers").
/// - `fhir_import_ids`: what a source resource became. The key is the resource's identity in
///   its source (`Observation/abc` for an NDJSON line or a Bundle entry with an id, the entry's
///   `fullUrl`, or `Patient|identifier|<system>|<value>` for each identifier), so a re-import
///   finds the record it wrote the first time, even for POST entries without `ifNoneExist`.
///   `content_hash` tells an unchanged resource from a changed one.
/// - `fhir_import_progress`: how far an import of one input file got. A chunk's resources and
///   its progress row are written in the same transaction, so after a kill the next run starts
///   at the first chunk that did not commit.
struct ImportBookkeeping: AsyncMigration {
    var name: String { "010_ImportBookkeeping" }

    func prepare(on database: any Database) async throws {
        try await database.schema(ImportLedger.idsTable)
            .field("source_key", .string, .identifier(auto: false))
            .field("resource_type", .string, .required)
            .field("record_kind", .string, .required)
            .field("record_id", .uuid, .required)
            .field("patient_id", .uuid)
            .field("content_hash", .string, .required)
            .field("imported_at", .string, .required)
            .create()
        try await (database as! any SQLDatabase).raw(
            "CREATE INDEX fhir_import_ids_record ON fhir_import_ids (record_id)").run()
        try await database.schema(ImportLedger.progressTable)
            .field("file_key", .string, .identifier(auto: false))
            .field("path", .string, .required)
            .field("chunks_done", .int, .required)
            .field("resources_done", .int, .required)
            .field("completed", .bool, .required)
            .field("updated_at", .string, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ImportLedger.progressTable).delete()
        try await database.schema(ImportLedger.idsTable).delete()
    }
}
