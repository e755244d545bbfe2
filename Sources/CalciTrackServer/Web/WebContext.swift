import Fluent
import Vapor

/// Who is looking at a page, and the session's CSRF token every form must echo (`_csrf`,
/// checked by `CSRFMiddleware` like the API's X-CSRF-Token).
struct WebContext: Sendable {
    let principal: Principal
    let csrf: String

    var isResearcher: Bool { principal.role == .researcher }
    var isClinician: Bool { principal.role == .clinician }
}

extension Request {
    func webContext() async throws -> WebContext {
        let principal = try await principal()
        let csrf = session.data[CSRFMiddleware.sessionKey] ?? CSRFMiddleware.issue(for: self)
        return WebContext(principal: principal, csrf: csrf)
    }
}

/// The pages behind sign-in: nobody signed in is sent to the login page (and back afterwards);
/// errors answer an HTML page instead of the API's JSON.
struct WebPageMiddleware: AsyncMiddleware {
    /// Off for the sign-in and sign-out routes themselves.
    var requireSignIn = true

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if requireSignIn, !(request.auth.get(User.self)?.active ?? false) {
            let target = request.url.path + (request.url.query.map { "?" + $0 } ?? "")
            if request.method == .GET { return .seeOther("/login?next=" + (target.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(["&", "=", "?"])) ?? "/")) }
            return .seeOther("/login")
        }
        do {
            return try await next.respond(to: request)
        } catch let error as any AbortError {
            let ctx = try? await request.webContext()
            return .html(ErrorPage.render(status: error.status, message: error.reason, ctx: ctx), status: error.status)
        } catch {
            request.logger.report(error: error)
            let ctx = try? await request.webContext()
            return .html(ErrorPage.render(status: .internalServerError, message: "Something went wrong on the server; it has been logged.", ctx: ctx), status: .internalServerError)
        }
    }
}

/// Only local paths are followed after sign-in (no open redirect to another host).
func safeNextPath(_ next: String?) -> String {
    guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.hasPrefix("/\\"), !next.hasPrefix("/login") else { return "/" }
    return next
}

/// Collects a posted form before `CSRFMiddleware` reads `_csrf` from it: route middleware runs
/// before Vapor collects a streamed body, and a form larger than one network read (the visit
/// form) would otherwise look as if it had no token.
struct CollectFormBodyMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if request.method == .POST, request.body.data == nil {
            _ = try await request.body.collect(max: 1 << 20).get()
        }
        return try await next.respond(to: request)
    }
}
