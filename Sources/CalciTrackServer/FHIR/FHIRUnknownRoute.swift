import CalciTrackFHIR
import Vapor

/// What no FHIR route matches still answers as FHIR: an OperationOutcome (application/fhir+json)
/// instead of Vapor's JSON error, 405 for PATCH (not supported on any resource) and for other
/// methods on a path that exists for GET (R4 http.html: an interaction a server does not support
/// is refused with 405 or 404 and an OperationOutcome), 404 for a path that names nothing.
enum FHIRUnknownRoute {
    static let methods: [HTTPMethod] = [.GET, .POST, .PUT, .DELETE, .PATCH]

    static func register(_ fhir: any RoutesBuilder) {
        for method in methods { fhir.on(method, "**", use: answer) }
    }

    @Sendable static func answer(req: Request) async throws -> Response {
        let path = req.url.path
        if req.method == .PATCH {
            throw FHIRError(.methodNotAllowed, .notSupported, "PATCH is not supported (update with PUT of the whole resource): \(path)")
        }
        if req.method != .GET, req.application.routes.all.contains(where: { $0.method == .GET && matches($0.path, path) }) {
            throw FHIRError(.methodNotAllowed, .notSupported, "\(req.method.rawValue) is not supported on \(path) (GET /fhir/metadata lists the interactions)")
        }
        throw FHIRError(.notFound, .notSupported, "no FHIR interaction at \(req.method.rawValue) \(path) (GET /fhir/metadata lists them)")
    }

    /// Whether a registered route's path matches a request path (constants equal, parameters any).
    static func matches(_ route: [PathComponent], _ path: String) -> Bool {
        let parts = path.split(separator: "/").map(String.init)
        guard route.count == parts.count, !route.contains(where: { if case .catchall = $0 { true } else { false } }) else { return false }
        return zip(route, parts).allSatisfy { component, part in
            switch component {
            case .constant(let c): c == part
            case .parameter: true
            case .anything: true
            case .catchall: false
            }
        }
    }
}
