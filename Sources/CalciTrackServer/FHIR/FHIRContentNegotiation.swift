import CalciTrackFHIR
import Vapor

/// A format the server cannot give is answered 406 Not Acceptable (HTTP, RFC 9110 15.5.7; FHIR R4
/// http.html#mime names the FHIR formats). CalciTrack serves JSON (and NDJSON Bulk Data files) only: a request whose
/// `Accept` names only other FHIR formats (XML, Turtle) is answered 406 with an OperationOutcome
/// instead of JSON it did not ask for. `_format` decides over `Accept` (R4), and is checked by
/// the parsers; an `Accept` that names no format at all, JSON or any type is served JSON.
struct FHIRContentNegotiation: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if request.query[String.self, at: "_format"] == nil, let accept = request.headers.first(name: .accept), Self.refuses(accept) {
            throw FHIRError(.notAcceptable, .notSupported, "Accept: \(accept) asks for a format CalciTrack does not serve; it serves application/fhir+json")
        }
        return try await next.respond(to: request)
    }

    /// True when every listed media type is a FHIR format other than JSON or NDJSON.
    static func refuses(_ accept: String) -> Bool {
        let types = accept.split(separator: ",").map { ($0.split(separator: ";").first.map(String.init) ?? "").trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { !$0.isEmpty }
        guard !types.isEmpty else { return false }
        let other = ["application/fhir+xml", "application/xml", "text/xml", "application/fhir+turtle", "text/turtle"]
        return types.allSatisfy { other.contains($0) }
    }
}
