import Fluent
import SQLKit
import Vapor

/// `Authorization: Bearer ctk_...`: looks the token up by its SHA-256; revoked tokens and
/// inactive users are refused. Token, user and sites come in one query (three Fluent queries
/// were a fifth of a worklist request's time), and the principal is set directly.
struct TokenAuthenticator: AsyncBearerAuthenticator {
    func authenticate(bearer: BearerAuthorization, for request: Request) async throws {
        let hash = APIToken.hash(bearer.token)
        let rows = try await (request.db as! any SQLDatabase).raw("""
            SELECT u.id AS user_id, u.username, u.role, us.site_id
            FROM api_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN user_sites us ON us.user_id = u.id
            WHERE t.token_hash = \(bind: hash) AND t.revoked_at IS NULL AND u.active = \(bind: true)
            """).all()
        guard let first = rows.first else { return }
        let role = try first.decode(column: "role", as: String.self)
        let sites = try rows.compactMap { try $0.decode(column: "site_id", as: UUID?.self) }
        request.setPrincipal(Principal(userID: try first.decode(column: "user_id", as: UUID.self),
                                       username: try first.decode(column: "username", as: String.self),
                                       role: Role(rawValue: role) ?? .researcher, siteIDs: Set(sites), viaSession: false))
        request.storage[AuthenticatedByTokenKey.self] = true
    }
}
