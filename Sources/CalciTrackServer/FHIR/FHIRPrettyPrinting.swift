import CalciTrackCore
import Vapor

/// `_pretty=true` (R4 http.html#parameters, "_pretty: ask for a pretty printed response for human
/// convenience"): every FHIR JSON answer under /fhir, resources, Bundles and OperationOutcomes
/// alike, is written indented. The parsers accept `_pretty` (true or false) beside `_format`
/// (`FHIRSearch.formatParameters`); a client sending it, as HAPI's and others' do, is not refused.
/// NDJSON (Bulk Data files) is never re-written.
struct FHIRPrettyPrinting: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        guard request.query[String.self, at: "_pretty"] == "true",
              response.headers.contentType?.subType == "fhir+json",
              let buffer = response.body.buffer,
              let value = try? JSONParser.parse(Array(buffer.readableBytesView)) else { return response }
        response.body = .init(string: JSONWriter.write(value, pretty: true))
        return response
    }
}
