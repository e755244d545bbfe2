import Fluent
import Vapor

/// The signed-in user with their sites, loaded once per request.
struct Principal: Sendable {
    let userID: UUID
    let username: String
    let role: Role
    let siteIDs: Set<UUID>
    let viaSession: Bool

    var auditActor: AuditActor { AuditActor(username: username, role: role.rawValue, ip: nil) }
}

private struct PrincipalKey: StorageKey { typealias Value = Principal }
struct AuthenticatedByTokenKey: StorageKey { typealias Value = Bool }

extension Request {
    /// For an authenticator that loaded the principal itself (TokenAuthenticator).
    func setPrincipal(_ principal: Principal) { storage[PrincipalKey.self] = principal }

    /// The principal, or 401. Loads the user's sites on first use.
    func principal() async throws -> Principal {
        if let cached = storage[PrincipalKey.self] { return cached }
        guard let user = auth.get(User.self), let userID = user.id, user.active else {
            throw Abort(.unauthorized, headers: ["WWW-Authenticate": "Bearer realm=\"calcitrack\""], reason: "sign in, or send Authorization: Bearer <token>")
        }
        let sites = try await UserSite.query(on: db).filter(\.$user.$id == userID).all().map { $0.$site.id }
        let principal = Principal(userID: userID, username: user.username, role: user.userRole, siteIDs: Set(sites),
                                  viaSession: storage[AuthenticatedByTokenKey.self] != true)
        storage[PrincipalKey.self] = principal
        return principal
    }

    /// The principal if their role is one of `roles`, else 403 (401 when nobody is signed in).
    func require(_ roles: Role...) async throws -> Principal {
        let principal = try await principal()
        guard roles.contains(principal.role) else {
            throw APIError(.forbidden, "this needs the role \(roles.map(\.rawValue).joined(separator: " or ")); you are \(principal.role.rawValue)")
        }
        return principal
    }

    var auditActor: AuditActor {
        get async throws {
            let p = try await principal()
            return AuditActor(username: p.username, role: p.role.rawValue, ip: remoteAddress?.ipAddress ?? headers.first(name: "X-Forwarded-For"))
        }
    }
}
