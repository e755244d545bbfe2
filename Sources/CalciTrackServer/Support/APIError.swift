import CalciTrackCore
import Vapor

/// An error the API answers with a JSON body. Validation errors use the case-format error shape
/// (`{"errors": [{"field", "value", "message"}]}`, case-format.md "Validation"); every other
/// error answers `{"error": {"status", "reason"}}`.
public struct APIError: Error, AbortError, Sendable {
    public let status: HTTPResponseStatus
    public let reason: String
    public let fieldIssues: [FieldIssue]

    public init(_ status: HTTPResponseStatus, _ reason: String) {
        self.status = status; self.reason = reason; self.fieldIssues = []
    }

    public init(validation issues: [FieldIssue]) {
        status = .unprocessableEntity
        reason = issues.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        fieldIssues = issues
    }

    public static func invalid(_ field: String, _ value: JSONValue?, _ message: String) -> APIError {
        APIError(validation: [FieldIssue(field: field, value: value, message: message)])
    }

    public static func notFound(_ what: String) -> APIError { APIError(.notFound, "\(what) not found") }

    public var body: JSONValue {
        if !fieldIssues.isEmpty { return CaseRejection(errors: fieldIssues).json }
        return .object(JSONObject([("error", .object(JSONObject([("status", .number(Double(status.code))), ("reason", .string(reason))])))]))
    }
}

/// Renders every thrown error as JSON. Unexpected errors are logged and answer 500 without
/// internal details.
struct JSONErrorMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            let apiError: APIError
            switch error {
            case let e as APIError: apiError = e
            case let e as any AbortError: apiError = APIError(e.status, e.reason)
            default:
                request.logger.report(error: error)
                apiError = APIError(.internalServerError, "internal error; see the server log")
            }
            var headers = HTTPHeaders()
            if let abort = error as? any AbortError {
                for (name, value) in abort.headers { headers.add(name: name, value: value) }
            }
            return Response.json(apiError.body, status: apiError.status, headers: headers)
        }
    }
}
