import Fluent
import SQLKit

/// 001: sites, users (with their sites) and API tokens.
struct CreateSitesAndUsers: AsyncMigration {
    var name: String { "001_CreateSitesAndUsers" }

    func prepare(on database: any Database) async throws {
        try await database.schema("sites")
            .id()
            .field("code", .string, .required)
            .field("name", .string, .required)
            .field("created_at", .datetime)
            .unique(on: "code")
            .create()
        try await database.schema("users")
            .id()
            .field("username", .string, .required)
            .field("role", .string, .required)
            .field("password_hash", .string, .required)
            .field("active", .bool, .required)
            .field("created_at", .datetime)
            .unique(on: "username")
            .create()
        try await database.schema("user_sites")
            .id()
            .field("user_id", .uuid, .required, .references("users", "id", onDelete: .cascade))
            .field("site_id", .uuid, .required, .references("sites", "id"))
            .unique(on: "user_id", "site_id")
            .create()
        try await database.schema("api_tokens")
            .id()
            .field("user_id", .uuid, .required, .references("users", "id"))
            .field("token_hash", .string, .required)
            .field("label", .string, .required)
            .field("created_at", .datetime)
            .field("revoked_at", .datetime)
            .unique(on: "token_hash")
            .create()
    }

    func revert(on database: any Database) async throws {
        for table in ["api_tokens", "user_sites", "users", "sites"] { try await database.schema(table).delete() }
    }
}
