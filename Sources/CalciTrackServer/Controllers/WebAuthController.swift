import CalciTrackCore
import Fluent
import Vapor

/// Sign-in and sign-out for the web pages: the same accounts, password check, session and audit
/// entries as `POST /api/v1/auth/login`, but with a form, a redirect and an error on the page.
struct WebAuthController: Sendable {
    static let loginCSRFKey = "login_csrf"

    func register(_ web: any RoutesBuilder) {
        web.get("login", use: page)
        web.post("login", use: login)
        web.post("logout", use: logout)
    }

    @Sendable func page(req: Request) async throws -> Response {
        let next = safeNextPath(req.query[String.self, at: "next"])
        if req.auth.has(User.self) { return .seeOther(next) }
        let notice = req.query[String.self, at: "signedOut"] != nil ? "You have signed out." : nil
        return .html(LoginPage(notice: notice, csrf: loginToken(req), next: next).render())
    }

    /// A token for the login form, kept in the (anonymous) session.
    private func loginToken(_ req: Request) -> String {
        if let token = req.session.data[Self.loginCSRFKey] { return token }
        let token = [UInt8].random(count: 32).base64
        req.session.data[Self.loginCSRFKey] = token
        return token
    }

    @Sendable func login(req: Request) async throws -> Response {
        let username = (try? req.content.get(String.self, at: "username"))?.trimmingCharacters(in: .whitespaces) ?? ""
        let password = (try? req.content.get(String.self, at: "password")) ?? ""
        let next = safeNextPath(try? req.content.get(String.self, at: "next"))
        let given = try? req.content.get(String.self, at: "_csrf")
        func fail(_ message: String, _ status: HTTPResponseStatus) -> Response {
            .html(LoginPage(username: username, error: message, csrf: loginToken(req), next: next).render(), status: status)
        }
        guard let expected = req.session.data[Self.loginCSRFKey], given == expected else {
            return fail("The sign-in form had expired. Please sign in again.", .forbidden)
        }
        guard !username.isEmpty, !password.isEmpty else { return fail("Enter your username and password.", .unprocessableEntity) }
        let ip = req.remoteAddress?.ipAddress
        let user: User
        switch try await PasswordSignIn.attempt(req, username: username, password: password, via: "web") {
        case .signedIn(let u): user = u
        case .failed: return fail("Wrong username or password.", .unauthorized)
        case .throttled(let wait):
            let minutes = (wait + 59) / 60
            let page = fail("Too many failed sign-in attempts. Try again in \(minutes) minute\(minutes == 1 ? "" : "s").", .tooManyRequests)
            page.headers.replaceOrAdd(name: "Retry-After", value: String(wait))
            return page
        }
        req.session.data[Self.loginCSRFKey] = nil
        req.auth.login(user)
        req.session.authenticate(user)
        _ = CSRFMiddleware.issue(for: req)
        try await req.recordAudit([AuditEvent(action: "login", resourceType: "users", resourceID: user.id?.lowercasedString, detail: "web")],
                                  actor: AuditActor(username: user.username, role: user.role, ip: ip))
        return .seeOther(next)
    }

    @Sendable func logout(req: Request) async throws -> Response {
        if let user = req.auth.get(User.self) {
            try await req.recordAudit([AuditEvent(action: "logout", resourceType: "users", resourceID: user.id?.lowercasedString, detail: "web")],
                                      actor: try await req.auditActor)
        }
        req.auth.logout(User.self)
        req.session.unauthenticate(User.self)
        req.session.destroy()
        return .seeOther("/login?signedOut=1")
    }
}
