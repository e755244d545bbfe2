import Foundation
import Vapor

/// FHIR R4 conditional read (http.html#cread, RFC 7232): a read whose `If-None-Match` names the
/// current version (`W/"3"`, or `*`) or whose `If-Modified-Since` is not before its last change
/// answers `304 Not Modified` with no body, so a client polling a resource fetches it only when it
/// changed. `If-Modified-Since` is ignored when `If-None-Match` is sent (RFC 7232 3.3). A resource
/// without a version (a computed Flag, a Group) is always sent whole. The read is audited either
/// way: the client learned the resource's state.
enum ConditionalRead {
    static func answer(_ response: Response, _ req: Request) -> Response {
        guard response.status == .ok else { return response }
        if let match = req.headers.first(name: .ifNoneMatch) {
            guard let etag = response.headers.first(name: .eTag), let current = FHIRWriteResponse.version(fromETag: etag) else { return response }
            let named = match.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            return named.contains("*") || named.contains(where: { FHIRWriteResponse.version(fromETag: $0) == current }) ? notModified(response) : response
        }
        if let since = req.headers.first(name: .ifModifiedSince).flatMap(FHIRDates.parseHTTPDate),
           let modified = response.headers.first(name: .lastModified).flatMap(FHIRDates.parseHTTPDate), modified <= since {
            return notModified(response)
        }
        return response
    }

    private static func notModified(_ response: Response) -> Response {
        var headers = HTTPHeaders()
        for name in [HTTPHeaders.Name.eTag, .lastModified] {
            if let value = response.headers.first(name: name) { headers.replaceOrAdd(name: name, value: value) }
        }
        return Response(status: .notModified, headers: headers)
    }
}
