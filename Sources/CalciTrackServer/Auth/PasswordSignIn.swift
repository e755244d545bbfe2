import Fluent
import Vapor

/// The password check of both sign-in routes (`POST /api/v1/auth/login` and the web form):
/// throttled (`LoginThrottle`), the bcrypt hash checked on the thread pool (≈ 0.25 s of CPU at
/// cost 12, which on the event loop stalled every other request of that loop), and a failed or
/// throttled attempt audited.
enum PasswordSignIn {
    enum Outcome {
        case signedIn(User)
        case failed
        /// Refused without checking the password; seconds until the next attempt is allowed.
        case throttled(retryAfter: Int)
    }

    /// A made-up hash checked when the username is unknown, so timing does not reveal names.
    private static let unknownUserHash = "$2b$12$C6UzMDM.H6dfI/f/IKxGhuB0b5Ue3O1Bqv1bqvVy2/8vx8VgTxqXW"

    /// `via`: added to the audit detail ("web" for the form).
    static func attempt(_ req: Request, username: String, password: String, via: String? = nil) async throws -> Outcome {
        let ip = req.remoteAddress?.ipAddress
        let throttle = req.application.loginThrottle
        let suffix = via.map { " (\($0))" } ?? ""
        let anonymous = AuditActor(username: username, role: "anonymous", ip: ip)
        if let wait = throttle.retryAfter(username: username, address: ip) {
            try await req.recordAudit([AuditEvent(action: "login-throttled", resourceType: "users", detail: "username \(username)\(suffix); retry after \(wait) s")],
                                      actor: anonymous)
            return .throttled(retryAfter: wait)
        }
        let user = try await User.query(on: req.db).filter(\.$username == username).first()
        let ok = (try? await req.password.async.verify(password, created: user?.passwordHash ?? unknownUserHash).get()) ?? false
        guard let user, ok, user.active else {
            throttle.recordFailure(username: username, address: ip)
            try await req.recordAudit([AuditEvent(action: "login-failed", resourceType: "users", detail: "username \(username)\(suffix)")], actor: anonymous)
            return .failed
        }
        throttle.recordSuccess(username: username)
        return .signedIn(user)
    }
}
