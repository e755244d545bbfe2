import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation

/// `Patient/$everything` (R4 patient-operation-everything) with its parameters:
/// - `_type`: the resource types returned (comma-separated or repeated; the Patient only if named);
/// - `start`, `end`: care dates: a resource of a dated type is returned when its clinical date (or
///   period) reaches into [start, end] (the search API's `ge start` and `le end`); resources of
///   undated types (BodyStructure, computed Flags) are returned whatever the range;
/// - `_since`: resources whose `meta.lastUpdated` is at or after it (computed Flags have none and are kept).
/// - `_count` (a parameter of R4's OperationDefinition, for paging the result): pages of that many resources, in the same
///   order, with `next` links carrying `_offset` (each page is computed from the record as it is
///   then, as a search page is). Without `_count` a patient's record is one Bundle.
/// Anything else is a 400 naming it.
struct PatientEverything: Sendable {
    var types: [FHIRResourceType] = FHIRResourceType.allCases
    var start: FHIRSearch.DateValue?
    var end: FHIRSearch.DateValue?
    var since: Date?
    var count: Int?
    var offset = 0

    static func parse(_ pairs: [(String, String)]) throws -> PatientEverything {
        var q = PatientEverything()
        var named: [FHIRResourceType]?
        var issues: [OperationOutcome.Issue] = []
        func fail(_ name: String, _ message: String, _ code: OperationOutcome.IssueType = .value) {
            issues.append(OperationOutcome.Issue(.error, code, message, at: [name]))
        }
        for (name, value) in pairs {
            switch name {
            case "_format", "_pretty":
                if let problem = FHIRSearch.formatProblem(name, value) { fail(name, problem) }
            case "_type":
                var types = named ?? []
                for text in FHIRSearch.addTypes(value, allowed: FHIRResourceType.allCases, to: &types) {
                    fail(name, "_type \(text) is not a resource type CalciTrack serves; served: \(FHIRResourceType.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                named = types
            case "start", "end":
                // A date (YYYY, YYYY-MM, YYYY-MM-DD), no search prefix: start is "ge", end is "le".
                guard value.first?.isNumber == true, let date = try? FHIRSearch.parseDate(value, param: name) else {
                    fail(name, "\(name) must be a date YYYY, YYYY-MM or YYYY-MM-DD, got \(value)"); continue
                }
                let range = FHIRSearch.DateValue(prefix: name == "start" ? .ge : .le, low: date.low, high: date.high)
                if name == "start" { q.start = range } else { q.end = range }
            case "_since":
                guard let date = FHIRTypeHistory.sinceInstant(value.replacingOccurrences(of: " ", with: "+")) else { fail(name, FHIRTypeHistory.sinceProblem(value)); continue }
                q.since = date
            case "_count", "_offset":
                let (n, problem) = FHIRSearch.pageNumber(name, value)
                guard let n else { fail(name, problem); continue }
                if name == "_count" { q.count = n } else { q.offset = n }
            default:
                fail(name, "parameter \(name) is not supported on Patient/$everything (supported: _type, start, end, _since, _count)", .notSupported)
            }
        }
        if let start = q.start, let end = q.end, start.low >= end.high {
            fail("start", "start \(start.low) is after end")
        }
        if q.offset > 0 && q.count == nil { fail("_offset", "_offset pages with _count (as the next link sends them)") }
        if !issues.isEmpty { throw FHIRError(.badRequest, OperationOutcome(issues)) }
        if let named { q.types = FHIRResourceType.allCases.filter(named.contains) }
        return q
    }

    /// The page of `resources` this request asks for, and whether more follow.
    func page(_ resources: [JSONValue]) -> (shown: [JSONValue], more: Bool) {
        guard let count else { return (resources, false) }
        let shown = Array(resources.dropFirst(offset).prefix(count))
        return (shown, offset + shown.count < resources.count && count > 0)
    }

    /// The patient's resources of `types`, in type order (Patient first, Flags last).
    func resources(patientID: UUID, on db: any Database, today: LocalDate) async throws -> [JSONValue] {
        var result: [JSONValue] = []
        if types.contains(.Patient) {
            let patientRows = try await FHIRRecords.loadPatients([patientID], on: db, today: today)
            if let patient = patientRows[patientID] { result.append(PatientOutbound.resource(patient.json)) }
        }
        var q = FHIRSearch.Query()
        q.patients = [[patientID]]
        for type in types where type != .Patient && type != .Flag {
            var typed = q
            if FHIRSearch.dateParam(type) != nil {
                typed.dates = [start, end].compactMap { $0.map { [$0] } }
            }
            let (_, rows) = try await FHIRSearch.rows(type, typed, siteIDs: nil, on: db, page: false)
            result += try await FHIRSearch.resources(type, rows, on: db, today: today)
        }
        if types.contains(.Flag) { result += try await FHIRAlerts.flags(patientID: patientID, on: db, today: today) }
        if let since { result = result.filter { FHIRExport.changed($0, since: since) } }
        return result
    }
}
