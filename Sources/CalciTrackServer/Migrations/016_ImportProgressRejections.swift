import Fluent
import SQLKit

/// 016: `fhir_import_progress.rejected`, the resources of the file rejected so far by the
/// chunks its `resources_done` counts, written in the chunk's transaction. A file is skipped by
/// a rerun only when it completed without a rejection; a file that ended with rejections (in
/// this run, or in chunks of an earlier, killed run that a resume skipped) has its progress
/// reset, so the next run reads it again and retries them (the ledger of 010 answers
/// "unchanged" for what was written). Rows from before count 0.
struct ImportProgressRejections: AsyncMigration {
    var name: String { "016_ImportProgressRejections" }

    func prepare(on database: any Database) async throws {
        try await database.schema(ImportLedger.progressTable)
            .field("rejected", .int, .required, .sql(.default(0)))
            .update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ImportLedger.progressTable).deleteField("rejected").update()
    }
}
