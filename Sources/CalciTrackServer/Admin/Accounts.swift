import Fluent
import Vapor

/// User, site and token management shared by the CLI (`calcitrack user|site|token`) and tests.
/// Each change is one transaction with its audit entry.
public enum Accounts {
    public struct Failure: Error, CustomStringConvertible { public let description: String }

    public static let minimumPasswordLength = 10

    public static func addSite(code: String, name: String, actor: String, on db: any Database) async throws {
        guard !code.isEmpty, code.count <= 32 else { throw Failure(description: "site code must be 1-32 characters") }
        try await AuditLog.write(on: db, actor: .system(actor)) { tx in
            if try await Site.query(on: tx).filter(\.$code == code).count() > 0 { throw Failure(description: "site \(code) exists") }
            let site = Site(code: code, name: name)
            try await site.create(on: tx)
            return ((), [AuditEvent(action: "create", resourceType: "sites", resourceID: site.id?.lowercasedString, detail: code)])
        }
    }

    /// `bcryptCost` 12 is the production work factor; tests lower it to stay fast.
    public static func addUser(username: String, role: String, password: String, siteCodes: [String], actor: String,
                               bcryptCost: Int = 12, on db: any Database) async throws {
        guard let role = Role(rawValue: role) else { throw Failure(description: "role must be clinician, researcher or admin") }
        guard username.range(of: "^[A-Za-z0-9._-]{2,64}$", options: .regularExpression) != nil else {
            throw Failure(description: "username must be 2-64 letters, digits, '.', '_' or '-'")
        }
        guard password.count >= minimumPasswordLength else { throw Failure(description: "password must be at least \(minimumPasswordLength) characters") }
        if role == .clinician && siteCodes.isEmpty { throw Failure(description: "a clinician needs at least one --site") }
        let hash = try Bcrypt.hash(password, cost: bcryptCost)
        try await AuditLog.write(on: db, actor: .system(actor)) { tx in
            if try await User.query(on: tx).filter(\.$username == username).count() > 0 { throw Failure(description: "user \(username) exists") }
            var siteIDs: [UUID] = []
            for code in siteCodes {
                guard let site = try await Site.query(on: tx).filter(\.$code == code).first(), let id = site.id else {
                    throw Failure(description: "no site \(code); create it first with `calcitrack site add \(code) NAME`")
                }
                siteIDs.append(id)
            }
            let user = User(username: username, role: role, passwordHash: hash)
            try await user.create(on: tx)
            for id in siteIDs { try await UserSite(userID: user.id!, siteID: id).create(on: tx) }
            return ((), [AuditEvent(action: "create", resourceType: "users", resourceID: user.id?.lowercasedString,
                                    detail: "\(username) as \(role.rawValue); sites \(siteCodes.joined(separator: ","))")])
        }
    }

    /// Returns the new token; only its hash is stored.
    public static func issueToken(username: String, label: String, actor: String, on db: any Database) async throws -> String {
        let token = APIToken.generate()
        try await AuditLog.write(on: db, actor: .system(actor)) { tx in
            guard let user = try await User.query(on: tx).filter(\.$username == username).first(), let id = user.id else {
                throw Failure(description: "no user \(username)")
            }
            let record = APIToken(userID: id, tokenHash: APIToken.hash(token), label: label)
            try await record.create(on: tx)
            return ((), [AuditEvent(action: "token-issue", resourceType: "api_tokens", resourceID: record.id?.lowercasedString, detail: "\(username): \(label)")])
        }
        return token
    }

    /// Revokes every active token of the user (or only those with `label`); returns how many.
    public static func revokeTokens(username: String, label: String?, actor: String, on db: any Database) async throws -> Int {
        try await AuditLog.write(on: db, actor: .system(actor)) { tx in
            guard let user = try await User.query(on: tx).filter(\.$username == username).first(), let id = user.id else {
                throw Failure(description: "no user \(username)")
            }
            var query = APIToken.query(on: tx).filter(\.$user.$id == id).filter(\.$revokedAt == nil)
            if let label { query = query.filter(\.$label == label) }
            let tokens = try await query.all()
            for token in tokens { token.revokedAt = Date(); try await token.update(on: tx) }
            return (tokens.count, [AuditEvent(action: "token-revoke", resourceType: "api_tokens", detail: "\(username): \(tokens.count) token(s)")])
        }
    }

    public static func listUsers(on db: any Database) async throws -> [(username: String, role: String, active: Bool, sites: [String])] {
        try await User.query(on: db).with(\.$sites).sort(\.$username).all().map { ($0.username, $0.role, $0.active, $0.sites.map(\.code)) }
    }

    /// First start of a demo registry: a clinician `demo` at the demo site with a random
    /// password that the server prints once. Returns nil when any user exists.
    public static func createDemoUserIfNoUsers(on db: any Database) async throws -> String? {
        guard try await User.query(on: db).count() == 0,
              try await Site.query(on: db).filter(\.$code == DemoData.siteCode).count() > 0 else { return nil }
        let password = [UInt8].random(count: 12).base64.replacingOccurrences(of: "/", with: "x").replacingOccurrences(of: "+", with: "y")
        try await addUser(username: "demo", role: "clinician", password: password, siteCodes: [DemoData.siteCode], actor: "serve", on: db)
        return password
    }
}
