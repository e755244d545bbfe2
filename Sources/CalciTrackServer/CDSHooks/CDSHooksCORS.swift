import Vapor

/// CORS for `/cds-services` and everything under it (CDS Hooks 2.0: services must allow
/// cross-origin calls from browser-based clients such as the CDS Hooks sandbox). Installed
/// outside `JSONErrorMiddleware`, so the refusals (401, 400, 412, 404 …) carry the headers as the
/// cards do and a browser client can read why it was refused; on a route group the middleware
/// only saw successful responses, as errors pass it as thrown errors. Preflights (OPTIONS with
/// `Access-Control-Request-Method`) are answered here.
struct CDSHooksCORS: Middleware {
    let cors = CORSMiddleware(configuration: .init(allowedOrigin: .all, allowedMethods: [.GET, .POST, .OPTIONS],
                                                   allowedHeaders: [.accept, .authorization, .contentType, .origin],
                                                   exposedHeaders: [.wwwAuthenticate]))

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        SessionsOutsideCDSHooks.isCDSHooks(request.url.path) ? cors.respond(to: request, chainingTo: next) : next.respond(to: request)
    }
}
