import CalciTrackCore
import CalciTrackFHIR
import Foundation
import Vapor

/// One write the FHIR side carries out: a Bundle entry, a single `POST`/`PUT`/`DELETE`, or one
/// resource of an import file.
struct WriteEntry: Sendable {
    enum Method: String, Sendable { case post = "POST", put = "PUT", delete = "DELETE" }

    var method: Method
    var resourceType: String
    var resource: JSONObject?
    /// The logical id a `PUT` or `DELETE` names.
    var id: String?
    var fullUrl: String?
    var ifNoneExist: String?
    /// The search criteria of a conditional update or delete (`PUT/DELETE Type?criteria`),
    /// which name the resource instead of an id.
    var conditional: String?
    /// The version `If-Match` (or `meta.versionId` of a PUT body) says the change was based on.
    var ifMatch: Int?
    /// The version came from `meta.versionId`, not `If-Match`: a condition on an existing
    /// resource only (an exported resource PUT into an empty registry is created).
    var ifMatchFromMeta = false
    /// Import files: the resource's own id is its identity in the source, and a UUID id is kept
    /// as the registry id (so an export imported into an empty registry exports the same again).
    var keepSourceID = false
    /// Position in the Bundle or file (0-based), for messages.
    var index: Int

    /// FHIRPath-like prefix for messages about this entry.
    var location: String { "Bundle.entry[\(index)]" }
}

/// Who writes: a clinician (limited to their sites) or the command line (every site).
struct WriteAuthority: Sendable {
    var username: String
    /// nil: every site (the CLI writes as the system).
    var sites: Set<UUID>?
    /// The site of a Patient without a CalciTrack MRN identifier (`calcitrack import --site`,
    /// or a clinician's only site).
    var defaultSiteCode: String?

    func allows(_ site: UUID) -> Bool { sites?.contains(site) ?? true }
}

/// What happened to one entry.
struct EntryResult: Sendable {
    enum Action: String, Sendable { case created, updated, unchanged, matched, deleted, rejected, notStored = "not stored" }

    var action: Action
    var status: HTTPResponseStatus
    var resourceType: String
    var kind: RegistryRecordKind?
    var recordID: UUID?
    /// The FHIR logical id of the written resource.
    var fhirID: String?
    var version: Int?
    var lastModified: Date?
    var issues: [OperationOutcome.Issue]
    /// The resource as written (the request's resource with the registry's id and meta).
    var resource: JSONObject?

    var failed: Bool { action == .rejected || action == .notStored }

    var statusLine: String { "\(status.code) \(status.reasonPhrase)" }
}

/// An entry that cannot be written: the HTTP status and the issues that say why.
struct EntryFailure: Error, Sendable {
    var status: HTTPResponseStatus
    var issues: [OperationOutcome.Issue]

    init(_ status: HTTPResponseStatus, _ issues: [OperationOutcome.Issue]) { self.status = status; self.issues = issues }
    init(_ status: HTTPResponseStatus, _ code: OperationOutcome.IssueType, _ message: String, at path: String) {
        self.init(status, [OperationOutcome.Issue(.error, code, message, at: [path])])
    }

    /// A registry validation error, with the resource type as the element.
    init(_ error: APIError, resourceType: String) {
        if error.fieldIssues.isEmpty {
            let code: OperationOutcome.IssueType = switch error.status {
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .conflict: .conflict
            case .preconditionFailed: .conflict
            default: .processing
            }
            self.init(error.status, [OperationOutcome.Issue(.error, code, error.reason, at: [resourceType])])
        } else {
            self.init(.unprocessableEntity, error.fieldIssues.map { issue in
                let value = issue.value.map { " (value: \(JSONWriter.write($0, pretty: false)))" } ?? ""
                let element = RegistryFieldPaths.element(resourceType: resourceType, field: issue.field) ?? resourceType
                return OperationOutcome.Issue(.error, .invalid, "\(resourceType) maps to the registry field \(issue.field): \(issue.message)\(value)", at: [element])
            })
        }
    }
}

/// A transaction that failed as a whole: nothing of it was written.
struct TransactionFailure: Error, Sendable {
    var status: HTTPResponseStatus
    var issues: [OperationOutcome.Issue]
}
