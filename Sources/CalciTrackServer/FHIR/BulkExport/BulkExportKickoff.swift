import CalciTrackCore
import CalciTrackFHIR
import Foundation
import Vapor

/// A checked `$export` kick-off request (FHIR Bulk Data Access 2.0, export.html#bulk-data-kick-off-request):
/// the headers the async pattern needs and the parameters CalciTrack answers. Anything else is
/// refused by name with 400, never ignored (an ignored `_typeFilter` would export too much).
struct BulkExportKickoff: Sendable {
    var types: [FHIRResourceType]
    var since: Date?

    /// NDJSON is the only output format; these are the spec's names for it.
    static let outputFormats = ["application/fhir+ndjson", "application/ndjson", "ndjson"]

    static func parse(accept: String?, prefer: String?, pairs: [(String, String)]) throws -> BulkExportKickoff {
        var issues: [OperationOutcome.Issue] = []
        func fail(_ at: String, _ message: String, _ code: OperationOutcome.IssueType = .value) {
            issues.append(OperationOutcome.Issue(.error, code, message, at: [at]))
        }
        let accepted = (accept ?? "").split(separator: ",").map { ($0.split(separator: ";").first.map(String.init) ?? "").trimmingCharacters(in: .whitespaces).lowercased() }
        if !accepted.contains("application/fhir+json") {
            fail("Accept", "a $export kick-off needs Accept: application/fhir+json (Bulk Data 2.0), got \(accept ?? "none")", .required)
        }
        let preferences = (prefer ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if !preferences.contains("respond-async") {
            fail("Prefer", "a $export kick-off needs Prefer: respond-async (the export runs in the background), got \(prefer ?? "none")", .required)
        }
        var request = BulkExportKickoff(types: FHIRExport.types, since: nil)
        var seen = Set<String>()
        var named: [FHIRResourceType]?   // _type, repeated or comma-separated: any of
        for (name, raw) in pairs {
            // A '+' sent unencoded (application/fhir+ndjson, a +01:00 offset) reaches us as a space.
            let value = name == "_outputFormat" || name == "_since" ? raw.replacingOccurrences(of: " ", with: "+") : raw
            if seen.contains(name) && name != "_type" { fail(name, "\(name) is given more than once"); continue }
            seen.insert(name)
            switch name {
            case "_outputFormat":
                if !outputFormats.contains(value) { fail(name, "_outputFormat must be one of \(outputFormats.joined(separator: ", ")), got \(value)") }
            case "_type":
                var types = named ?? []
                for text in value.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
                    guard let type = FHIRResourceType(rawValue: text), FHIRExport.types.contains(type) else {
                        fail(name, "_type \(text.isEmpty ? "(empty)" : text) is not a resource type CalciTrack exports; exported: \(FHIRExport.types.map(\.rawValue).joined(separator: ", "))"
                             + (text == "Flag" ? " (Flags are alerts computed on read, not registry data)" : ""))
                        continue
                    }
                    if !types.contains(type) { types.append(type) }
                }
                named = types
            case "_since":
                guard value.count > 10, let date = FHIRTypeHistory.instant(value) else {
                    fail(name, "_since must be an instant with a time zone such as 2026-11-24T10:00:00Z, got \(value)"); continue
                }
                request.since = date
            default:
                fail(name, "parameter \(name) is not supported by CalciTrack's $export (supported: _outputFormat, _type, _since)", .notSupported)
            }
        }
        if !issues.isEmpty { throw FHIRError(.badRequest, OperationOutcome(issues)) }
        if let named { request.types = FHIRExport.types.filter(named.contains) }
        return request
    }
}
