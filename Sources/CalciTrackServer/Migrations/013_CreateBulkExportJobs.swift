import Fluent

/// 013: bulk export jobs (FHIR Bulk Data `$export`, docs/fhir.md "Bulk export"). A job's state
/// is kept here, not only in the process that runs it, so after a restart its status answers
/// `failed` or the finished manifest instead of an unknown job.
struct CreateBulkExportJobs: AsyncMigration {
    var name: String { "013_CreateBulkExportJobs" }

    func prepare(on database: any Database) async throws {
        try await database.schema(BulkExportJob.schema)
            .id()
            .field("owner_id", .uuid, .required)
            .field("owner_username", .string, .required)
            .field("state", .string, .required)
            .field("request_url", .string, .required)
            .field("types", .string, .required)
            .field("since", .datetime)
            .field("transaction_time", .datetime, .required)
            .field("progress", .string, .required)
            .field("outputs", .string, .required)
            .field("error", .string)
            .field("finished_at", .datetime)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(BulkExportJob.schema).delete()
    }
}
