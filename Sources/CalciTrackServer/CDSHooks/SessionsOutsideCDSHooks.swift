import Vapor

/// Vapor's sessions middleware for every route except `/cds-services`: CDS Hooks callers are
/// EHR servers authenticated by their own JWT, never by a registry session, so the cookie
/// parsing and response hook per call (≈ 1 % of a call's CPU; BENCHMARKS.md, CDS Hooks) bought
/// nothing. A CDS call that carries a session cookie is no longer looked up in, or written
/// back to, the session store.
struct SessionsOutsideCDSHooks: Middleware {
    let sessions: any Middleware

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        Self.isCDSHooks(request.url.path) ? next.respond(to: request) : sessions.respond(to: request, chainingTo: next)
    }

    /// `/cds-services` and everything under it.
    static func isCDSHooks(_ path: String) -> Bool {
        let prefix = "/cds-services".utf8
        guard path.utf8.starts(with: prefix) else { return false }
        let rest = path.utf8.dropFirst(prefix.count)
        return rest.isEmpty || rest.first == UInt8(ascii: "/")
    }
}
