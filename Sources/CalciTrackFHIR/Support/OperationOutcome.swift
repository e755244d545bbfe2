import CalciTrackCore

/// A FHIR OperationOutcome (R4 4.0.1): every FHIR error, and every warning about data CalciTrack
/// could not store, is one of these. `expression` names the element (FHIRPath, e.g.
/// `Observation.valueQuantity.unit`) so an integration engineer can find the offending field.
public struct OperationOutcome: Sendable, Equatable, Error {
    public enum Severity: String, Sendable { case fatal, error, warning, information }

    /// Issue type codes from http://hl7.org/fhir/ValueSet/issue-type (the ones CalciTrack uses).
    public enum IssueType: String, Sendable {
        case invalid, structure, required, value, invariant, security, login, forbidden
        case notSupported = "not-supported", notFound = "not-found", deleted, conflict, duplicate
        case processing, businessRule = "business-rule", tooCostly = "too-costly", exception, informational
    }

    public struct Issue: Sendable, Equatable {
        public var severity: Severity
        public var code: IssueType
        public var diagnostics: String
        public var expression: [String]

        public init(_ severity: Severity, _ code: IssueType, _ diagnostics: String, at expression: [String] = []) {
            self.severity = severity
            self.code = code
            self.diagnostics = diagnostics
            self.expression = expression
        }
    }

    public var issues: [Issue]

    public init(_ issues: [Issue]) { self.issues = issues }

    public init(_ severity: Severity, _ code: IssueType, _ diagnostics: String, at expression: String? = nil) {
        self.issues = [Issue(severity, code, diagnostics, at: expression.map { [$0] } ?? [])]
    }

    /// True when any issue is an error or fatal (the request or entry failed).
    public var isFailure: Bool { issues.contains { $0.severity == .error || $0.severity == .fatal } }

    public var json: JSONValue {
        // R4 requires at least one issue.
        let list = issues.isEmpty ? [Issue(.information, .informational, "All OK")] : issues
        return .object(JSONObject([
            ("resourceType", "OperationOutcome"),
            ("issue", .array(list.map { issue in
                var pairs: [(String, JSONValue)] = [
                    ("severity", .string(issue.severity.rawValue)),
                    ("code", .string(issue.code.rawValue)),
                    ("diagnostics", .string(issue.diagnostics)),
                ]
                if !issue.expression.isEmpty { pairs.append(("expression", .array(issue.expression.map { .string($0) }))) }
                return .object(JSONObject(pairs))
            })),
        ]))
    }
}
