import CalciTrackCore
import CalciTrackFHIR
import Vapor

/// A FHIR error: an HTTP status with the OperationOutcome that explains it.
struct FHIRError: Error, Sendable {
    let status: HTTPResponseStatus
    let outcome: OperationOutcome

    init(_ status: HTTPResponseStatus, _ code: OperationOutcome.IssueType, _ diagnostics: String, at expression: String? = nil) {
        self.status = status
        outcome = OperationOutcome(.error, code, diagnostics, at: expression)
    }

    init(_ status: HTTPResponseStatus, _ outcome: OperationOutcome) { self.status = status; self.outcome = outcome }

    static func notFound(_ type: String, _ id: String) -> FHIRError { FHIRError(.notFound, .notFound, "\(type)/\(id) is not known") }
    static func gone(_ type: String, _ id: String) -> FHIRError { FHIRError(.gone, .deleted, "\(type)/\(id) was deleted") }
}

/// Every error under /fhir answers an OperationOutcome (application/fhir+json), never the JSON
/// API's error shape: the JSON API's validation issues keep their field as the expression.
struct FHIRErrorMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch let error as FHIRError {
            return FHIRResponse.outcome(error.outcome, status: error.status)
        } catch let error as APIError {
            let code: OperationOutcome.IssueType = switch error.status {
            case .unauthorized: .login
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .preconditionFailed, .conflict: .conflict
            case .unprocessableEntity, .badRequest: .invalid
            default: .exception
            }
            let issues = error.fieldIssues.isEmpty
                ? [OperationOutcome.Issue(.error, code, error.reason)]
                : error.fieldIssues.map { OperationOutcome.Issue(.error, code, $0.message, at: [$0.field]) }
            return FHIRResponse.outcome(OperationOutcome(issues), status: error.status)
        } catch let error as any AbortError {
            let code: OperationOutcome.IssueType = error.status == .unauthorized ? .login : error.status == .forbidden ? .forbidden
                : error.status == .notFound ? .notFound : .processing
            let response = FHIRResponse.outcome(OperationOutcome(.error, code, error.reason), status: error.status)
            for (name, value) in error.headers { response.headers.add(name: name, value: value) }
            return response
        } catch {
            request.logger.report(error: error)
            return FHIRResponse.outcome(OperationOutcome(.error, .exception, "internal error; see the server log"), status: .internalServerError)
        }
    }
}

enum FHIRResponse {
    static func json(_ value: JSONValue, status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:]) -> Response {
        var headers = headers
        headers.replaceOrAdd(name: .contentType, value: FHIRVersion.contentType)
        return Response(status: status, headers: headers, body: .init(string: JSONWriter.write(value, pretty: false)))
    }

    static func outcome(_ outcome: OperationOutcome, status: HTTPResponseStatus) -> Response {
        json(outcome.json, status: status)
    }

    /// A single resource with its ETag (`W/"<versionId>"`) and Last-Modified (RFC 9110 HTTP-date).
    static func resource(_ resource: JSONValue) -> Response {
        var headers = HTTPHeaders()
        if let version = resource["meta"]?["versionId"], case .string(let v) = version { headers.replaceOrAdd(name: .eTag, value: "W/\"\(v)\"") }
        if case .string(let updated)? = resource["meta"]?["lastUpdated"], let date = FHIRDates.instant(updated) {
            headers.replaceOrAdd(name: .lastModified, value: FHIRDates.httpDate(date))
        }
        return json(resource, headers: headers)
    }
}

enum FHIRDates {
    /// `2026-11-24T16:07:54Z` (with or without milliseconds) → Date.
    static func instant(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let d = formatter.date(from: text) { return d }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    static func httpDate(_ date: Date) -> String { httpDateFormatter().string(from: date) }

    /// An HTTP-date (RFC 7231 IMF-fixdate, `Tue, 24 Nov 2026 16:07:54 GMT`) → Date.
    static func parseHTTPDate(_ text: String) -> Date? { httpDateFormatter().date(from: text.trimmingCharacters(in: .whitespaces)) }

    private static func httpDateFormatter() -> DateFormatter {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f
    }
}
