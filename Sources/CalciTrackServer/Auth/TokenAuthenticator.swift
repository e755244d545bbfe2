import Fluent
import Vapor

/// `Authorization: Bearer ctk_...`: looks the token up by its SHA-256; revoked tokens and
/// inactive users are refused.
struct TokenAuthenticator: AsyncBearerAuthenticator {
    func authenticate(bearer: BearerAuthorization, for request: Request) async throws {
        let hash = APIToken.hash(bearer.token)
        guard let token = try await APIToken.query(on: request.db).filter(\.$tokenHash == hash).filter(\.$revokedAt == nil).first(),
              let user = try await User.find(token.$user.id, on: request.db), user.active
        else { return }
        request.auth.login(user)
        request.storage[AuthenticatedByTokenKey.self] = true
    }
}
