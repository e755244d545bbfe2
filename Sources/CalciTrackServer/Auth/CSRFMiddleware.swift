import Vapor

/// Cross-site request forgery protection for cookie sessions: a state-changing request that is
/// authenticated by the session cookie (not by a bearer token) must echo the session's CSRF
/// token in `X-CSRF-Token` (or a form field `_csrf`). Tokens are issued at login.
struct CSRFMiddleware: AsyncMiddleware {
    static let sessionKey = "csrf"

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let safe: [HTTPMethod] = [.GET, .HEAD, .OPTIONS]
        if !safe.contains(request.method), request.storage[AuthenticatedByTokenKey.self] != true,
           request.hasSession, request.auth.has(User.self) {
            let expected = request.session.data[Self.sessionKey]
            let given = request.headers.first(name: "X-CSRF-Token") ?? (try? request.content.get(String.self, at: "_csrf"))
            guard let expected, let given, constantTimeEqual(expected, given) else {
                throw APIError(.forbidden, "missing or wrong CSRF token: send the token from login in X-CSRF-Token")
            }
        }
        return try await next.respond(to: request)
    }

    static func issue(for request: Request) -> String {
        let token = [UInt8].random(count: 32).base64
        request.session.data[sessionKey] = token
        return token
    }

    private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
