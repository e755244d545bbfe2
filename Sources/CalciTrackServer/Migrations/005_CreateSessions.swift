import Fluent

/// 005: web sessions (Fluent's session table), so a login survives a server restart.
struct CreateSessions: AsyncMigration {
    var name: String { "005_CreateSessions" }
    func prepare(on database: any Database) async throws { try await SessionRecord.migration.prepare(on: database) }
    func revert(on database: any Database) async throws { try await SessionRecord.migration.revert(on: database) }
}
