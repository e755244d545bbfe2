import CalciTrackCore
import CalciTrackFHIR
import Foundation
import Vapor

/// FHIR responses of the write side: resources and OperationOutcomes as `application/fhir+json`.
enum FHIRWriteResponse {
    static func etag(_ version: Int) -> String { "W/\"\(version)\"" }

    /// `W/"3"`, `"3"` or `3` → 3.
    static func version(fromETag raw: String) -> Int? {
        var text = raw.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("W/") { text = String(text.dropFirst(2)) }
        text = text.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard let v = Int(text), v >= 1 else { return nil }
        return v
    }

    static func json(_ value: JSONValue, status: HTTPResponseStatus, headers: HTTPHeaders = [:]) -> Response {
        var headers = headers
        headers.replaceOrAdd(name: .contentType, value: "application/fhir+json; charset=utf-8")
        return Response(status: status, headers: headers, body: .init(string: JSONWriter.write(value, pretty: false)))
    }

    static func outcome(_ status: HTTPResponseStatus, _ issues: [OperationOutcome.Issue]) -> Response {
        json(OperationOutcome(issues).json, status: status)
    }

    /// An error thrown by the registry layers (auth, CSRF, validation) as an OperationOutcome.
    static func outcome(for error: any Error, resourceType: String, logger: Logger? = nil) -> Response {
        switch error {
        case let failure as EntryFailure: return outcome(failure.status, failure.issues)
        case let failure as TransactionFailure: return outcome(failure.status, failure.issues)
        case let failure as FHIRError: return outcome(failure.status, failure.outcome.issues)
        case let api as APIError:
            let failure = EntryFailure(api, resourceType: resourceType)
            let response = outcome(failure.status == .unprocessableEntity && api.fieldIssues.isEmpty ? api.status : failure.status, failure.issues)
            if api.status == .unauthorized { response.headers.replaceOrAdd(name: .wwwAuthenticate, value: "Bearer realm=\"calcitrack\"") }
            return response
        case let abort as any AbortError:
            let code: OperationOutcome.IssueType = abort.status == .unauthorized ? .login : abort.status == .forbidden ? .forbidden : .processing
            let response = outcome(abort.status, [.init(.error, code, abort.reason)])
            for (name, value) in abort.headers { response.headers.add(name: name, value: value) }
            return response
        default:
            logger?.report(error: error)
            return outcome(.internalServerError, [.init(.fatal, .exception, "internal error; see the server log")])
        }
    }

    /// What `Prefer: return=...` asks for (FHIR http.html#ops); representation by default.
    enum Return { case minimal, representation, outcome }

    static func preferred(_ req: Request) -> Return {
        let prefer = req.headers.first(name: "Prefer")?.lowercased() ?? ""
        if prefer.contains("return=minimal") { return .minimal }
        if prefer.contains("return=operationoutcome") { return .outcome }
        return .representation
    }

    /// The answer to a single create or update: status, Location, ETag, Last-Modified, and the
    /// body `Prefer` asks for. Warnings about what was not stored travel in the OperationOutcome
    /// (`Prefer: return=OperationOutcome`) and, always, in the `X-FHIR-Issues` count header so a
    /// client that asked for the resource still learns that something was dropped.
    /// `base`: the server's FHIR base; Location is absolute (R4 http.html#create: [base]/[type]/[id]/_history/[vid]).
    static func written(_ result: EntryResult, resource: JSONObject?, prefer: Return, base: String) -> Response {
        var headers = HTTPHeaders()
        if let id = result.fhirID, let version = result.version {
            headers.replaceOrAdd(name: .location, value: "\(base)/\(result.resourceType)/\(id)/_history/\(version)")
            headers.replaceOrAdd(name: .eTag, value: etag(version))
        }
        if let at = result.lastModified { headers.replaceOrAdd(name: .lastModified, value: HTTPDate(at)) }
        let warnings = result.issues.filter { $0.severity == .warning }
        if !warnings.isEmpty { headers.replaceOrAdd(name: "X-FHIR-Issues", value: "\(warnings.count) warning(s); ask with Prefer: return=OperationOutcome") }
        switch prefer {
        case .minimal: return Response(status: result.status, headers: headers)
        case .outcome: return json(OperationOutcome(result.issues).json, status: result.status, headers: headers)
        case .representation:
            guard let resource else { return json(OperationOutcome(result.issues).json, status: result.status, headers: headers) }
            return json(.object(resource), status: result.status, headers: headers)
        }
    }

    private static func HTTPDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
