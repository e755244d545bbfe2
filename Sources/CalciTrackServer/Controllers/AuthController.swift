import CalciTrackCore
import Fluent
import Vapor

/// Sign-in for the web UI (cookie session + CSRF token) and who-am-I for every client.
struct AuthController: Sendable {
    func register(_ api: any RoutesBuilder) {
        api.post("auth", "login", use: login)
        api.post("auth", "logout", use: logout)
        api.get("auth", "me", use: me)
    }

    @Sendable func login(req: Request) async throws -> Response {
        var username = "", password = ""
        if req.headers.contentType == .urlEncodedForm {
            username = (try? req.content.get(String.self, at: "username")) ?? ""
            password = (try? req.content.get(String.self, at: "password")) ?? ""
        } else {
            let body = try req.jsonObject()
            username = body["username"]?.stringValue ?? ""
            password = body["password"]?.stringValue ?? ""
        }
        let ip = req.remoteAddress?.ipAddress
        guard !username.isEmpty, !password.isEmpty else {
            throw APIError(validation: [FieldIssue(field: "username", value: nil, message: "username and password are required")])
        }
        let user: User
        switch try await PasswordSignIn.attempt(req, username: username, password: password) {
        case .signedIn(let u): user = u
        case .failed: throw APIError(.unauthorized, "wrong username or password")
        case .throttled(let wait): throw LoginThrottle.refusal(retryAfter: wait)
        }
        req.auth.login(user)
        req.session.authenticate(user)
        let csrf = CSRFMiddleware.issue(for: req)
        try await req.recordAudit([AuditEvent(action: "login", resourceType: "users", resourceID: user.id?.lowercasedString)],
                                  actor: AuditActor(username: user.username, role: user.role, ip: ip))
        return Response.json(.object(JSONObject([("username", .string(user.username)), ("role", .string(user.role)), ("csrfToken", .string(csrf))])))
    }

    @Sendable func logout(req: Request) async throws -> Response {
        if let user = req.auth.get(User.self) {
            try await req.recordAudit([AuditEvent(action: "logout", resourceType: "users", resourceID: user.id?.lowercasedString)],
                                      actor: try await req.auditActor)
        }
        req.auth.logout(User.self)
        req.session.unauthenticate(User.self)
        req.session.destroy()
        return Response(status: .noContent)
    }

    @Sendable func me(req: Request) async throws -> Response {
        let p = try await req.principal()
        let sites = try await Site.query(on: req.db).all().filter { p.siteIDs.contains($0.id!) }
        var pairs: [(String, JSONValue?)] = [("username", .string(p.username)), ("role", .string(p.role.rawValue)),
                                             ("sites", .array(sites.map { .object(JSONObject([("id", .string($0.id!.lowercasedString)), ("code", .string($0.code)), ("name", .string($0.name))])) }))]
        if p.viaSession, req.hasSession { pairs.append(("csrfToken", .optional(req.session.data[CSRFMiddleware.sessionKey]))) }
        return Response.json(.object(JSONObject(compacting: pairs)))
    }
}
