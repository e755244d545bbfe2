import Fluent
import Vapor

/// Someone who signs in. Roles: clinician (reads and writes the patients of their sites),
/// researcher (reads de-identified data only), admin (manages users, sites, tokens and the audit log).
final class User: Model, @unchecked Sendable {
    static let schema = "users"
    @ID(key: .id) var id: UUID?
    @Field(key: "username") var username: String
    @Field(key: "role") var role: String
    @Field(key: "password_hash") var passwordHash: String
    @Field(key: "active") var active: Bool
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Siblings(through: UserSite.self, from: \.$user, to: \.$site) var sites: [Site]

    init() {}
    init(id: UUID? = nil, username: String, role: Role, passwordHash: String) {
        self.id = id; self.username = username; self.role = role.rawValue; self.passwordHash = passwordHash; self.active = true
    }

    var userRole: Role { Role(rawValue: role) ?? .researcher }
}

enum Role: String, CaseIterable, Sendable { case clinician, researcher, admin }

/// Which sites a user belongs to.
final class UserSite: Model, @unchecked Sendable {
    static let schema = "user_sites"
    @ID(key: .id) var id: UUID?
    @Parent(key: "user_id") var user: User
    @Parent(key: "site_id") var site: Site

    init() {}
    init(userID: UUID, siteID: UUID) { self.$user.id = userID; self.$site.id = siteID }
}

extension User: ModelSessionAuthenticatable {}
