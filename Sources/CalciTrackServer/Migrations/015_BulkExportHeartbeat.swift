import Fluent
import SQLKit

/// 015 (issue 5): `bulk_export_jobs.heartbeat_at`, the last time the process running a job said
/// it still runs it (`BulkExportRunner.heartbeatInterval`). A status poll answered by another
/// server process (several behind one PostgreSQL database) takes a job with a recent heartbeat
/// as running, where before it saw no task of its own and failed a healthy job. Rows from
/// before have none: no process beats for them, so they are cut off as before.
struct BulkExportHeartbeat: AsyncMigration {
    var name: String { "015_BulkExportHeartbeat" }

    func prepare(on database: any Database) async throws {
        try await database.schema(BulkExportJob.schema).field("heartbeat_at", .datetime).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(BulkExportJob.schema).deleteField("heartbeat_at").update()
    }
}
