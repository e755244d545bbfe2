import CalciTrackCore
import CalciTrackFHIR
import Foundation
import Vapor

/// A checked `$export` kick-off request (FHIR Bulk Data Access 2.0, export.html#bulk-data-kick-off-request):
/// the headers the async pattern needs and the parameters CalciTrack answers, from the query
/// string (GET) or a Parameters resource (POST). Anything else is refused by name with 400,
/// never ignored (an ignored `_typeFilter` or `patient` would export too much).
struct BulkExportKickoff: Sendable {
    enum Level: Sendable { case system, patient, group }

    var types: [FHIRResourceType]
    var since: Date?
    /// `_typeFilter`: per type, the searches of which a resource must match at least one (Bulk
    /// Data: the queries are OR'ed). A type without a filter is exported whole.
    var filters: [FHIRResourceType: [FHIRSearch.Query]] = [:]
    /// The `_typeFilter` queries as sent, for the audit entry.
    var filterTexts: [String] = []
    /// `patient` (POST, Patient and Group level): the export is limited to these patients' compartments.
    /// Their existence and the caller's right to them are checked by the controller.
    var patients: [UUID]?
    /// `_elements`: per type, the elements its resources are cut down to (`ElementsSubset`); a type
    /// no name applies to is exported whole.
    var elements: [FHIRResourceType: Set<String>] = [:]

    /// NDJSON is the only output format; these are the spec's names for it.
    static let outputFormats = ["application/fhir+ndjson", "application/ndjson", "ndjson"]

    /// FHIR search result parameters, which Bulk Data forbids in a `_typeFilter` query.
    static let resultParameters: Set<String> = ["_count", "_offset", "_sort", "_include", "_revinclude", "_summary", "_elements",
                                                "_total", "_contained", "_containedType", "_format"]

    /// `pairs`: the query string (GET) or the Parameters resource as name/value pairs (POST, `viaPost`).
    static func parse(accept: String?, prefer: String?, pairs: [(String, String)], level: Level, viaPost: Bool = false) throws -> BulkExportKickoff {
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
        var patients: [UUID] = []
        // Bulk Data 2.0: these may repeat (values as if comma-separated in one parameter).
        let repeatable: Set<String> = ["_type", "_typeFilter", "patient", "_elements"]
        var unqualified = Set<String>(), qualified: [FHIRResourceType: Set<String>] = [:]
        for (name, raw) in pairs {
            // A '+' sent unencoded (application/fhir+ndjson, a +01:00 offset) reaches us as a space.
            let value = !viaPost && (name == "_outputFormat" || name == "_since") ? raw.replacingOccurrences(of: " ", with: "+") : raw
            if seen.contains(name) && !repeatable.contains(name) { fail(name, "\(name) is given more than once"); continue }
            seen.insert(name)
            switch name {
            case "_pretty":
                // The kick-off answers no body; accepted as on every FHIR interaction.
                if let problem = FHIRSearch.formatProblem(name, value) { fail(name, problem) }
            case "_outputFormat":
                if !outputFormats.contains(value) { fail(name, "_outputFormat must be one of \(outputFormats.joined(separator: ", ")), got \(value)") }
            case "_type":
                var types = named ?? []
                for text in FHIRSearch.addTypes(value, allowed: FHIRExport.types, to: &types) {
                    fail(name, "_type \(text) is not a resource type CalciTrack exports; exported: \(exportedList)"
                         + (text == "Flag" ? " (Flags are alerts computed on read, not registry data)" : ""))
                }
                named = types
            case "_since":
                guard let date = FHIRTypeHistory.sinceInstant(value) else { fail(name, FHIRTypeHistory.sinceProblem(value)); continue }
                request.since = date
            case "_typeFilter":
                for query in splitQueries(value) {
                    do {
                        let (type, parsed) = try typeFilter(query)
                        request.filters[type, default: []].append(parsed)
                        request.filterTexts.append(query)
                    } catch let error as FHIRError {
                        issues += error.outcome.issues
                    }
                }
            case "_elements":
                // `[Type.]element` (Bulk Data 2.0): unqualified names apply to every type.
                for text in value.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
                    let parts = text.split(separator: ".", maxSplits: 1).map(String.init)
                    if parts.count == 2, let type = exportedType(parts[0]), ElementsSubset.isElementName(parts[1]) {
                        qualified[type, default: []].insert(parts[1])
                    } else if parts.count == 1, ElementsSubset.isElementName(text) {
                        unqualified.insert(text)
                    } else {
                        fail(name, "_elements lists [ResourceType.]element names such as Patient.id or status, for types CalciTrack exports; got \(text.isEmpty ? "(empty)" : text)")
                    }
                }
            case "patient":
                guard viaPost else {
                    fail(name, "patient is accepted in a POST kick-off only: a Parameters resource with one valueReference per patient (Bulk Data 2.0)", .notSupported); continue
                }
                guard level != .system else {
                    fail(name, "patient does not apply to a system-level export; POST it to /fhir/Patient/$export or /fhir/Group/<id>/$export (Bulk Data 2.0)", .notSupported); continue
                }
                let text = value.hasPrefix("Patient/") ? String(value.dropFirst("Patient/".count)) : ""
                guard let id = UUID.parse(text) else {
                    fail(name, "patient must reference Patient/<id> (a registry patient id), got \(value.isEmpty ? "no reference" : value)"); continue
                }
                if !patients.contains(id) { patients.append(id) }
            default:
                fail(name, "parameter \(name) is not supported by CalciTrack's $export (supported: _outputFormat, _type, _since, _typeFilter, _elements, and patient in a POST to Patient/$export or Group/<id>/$export)", .notSupported)
            }
        }
        if let named {
            for type in request.filters.keys.sorted(by: { $0.rawValue < $1.rawValue }) where !named.contains(type) {
                fail("_typeFilter", "_typeFilter filters \(type.rawValue), which _type leaves out; add \(type.rawValue) to _type or drop its filter")
            }
        }
        if !issues.isEmpty { throw FHIRError(.badRequest, OperationOutcome(issues)) }
        if let named { request.types = FHIRExport.types.filter(named.contains) }
        if !patients.isEmpty { request.patients = patients }
        for type in request.types {
            let names = unqualified.union(qualified[type] ?? [])
            if !names.isEmpty { request.elements[type] = names }
        }
        return request
    }

    static var exportedList: String { FHIRExport.types.map(\.rawValue).joined(separator: ", ") }

    static func exportedType(_ text: String) -> FHIRResourceType? {
        FHIRResourceType(rawValue: text).flatMap { FHIRExport.types.contains($0) ? $0 : nil }
    }

    /// `_typeFilter` values are comma-separated queries, and a query's own values may hold commas
    /// (`code=a,b`, FHIR's OR) when a client did not encode them twice: a comma separates queries
    /// only where the next query starts, `<ResourceType>?`.
    static func splitQueries(_ value: String) -> [String] {
        var queries: [String] = []
        var current = ""
        var rest = Substring(value)
        while let comma = rest.firstIndex(of: ",") {
            current += rest[..<comma]
            let after = rest[rest.index(after: comma)...]
            let head = after.prefix { $0.isLetter }
            if !head.isEmpty, head.first!.isUppercase, after.dropFirst(head.count).first == "?" {
                queries.append(current)
                current = ""
            } else {
                current += ","
            }
            rest = after
        }
        current += rest
        queries.append(current)
        return queries.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// One `_typeFilter` query, `Type?search`, checked as the search API checks that search.
    static func typeFilter(_ query: String) throws -> (FHIRResourceType, FHIRSearch.Query) {
        func refuse(_ message: String, _ code: OperationOutcome.IssueType = .value) -> FHIRError {
            FHIRError(.badRequest, code, "_typeFilter \(query.isEmpty ? "(empty)" : query): \(message)", at: "_typeFilter")
        }
        guard let mark = query.firstIndex(of: "?") else {
            throw refuse("a filter is <ResourceType>?<search parameters>, e.g. Observation?code=http://loinc.org|17861-6")
        }
        let typeName = String(query[..<mark])
        guard let type = exportedType(typeName) else {
            throw refuse("\(typeName) is not a resource type CalciTrack exports; exported: \(exportedList)")
        }
        let pairs = FHIRSearch.pairs(query: String(query[query.index(after: mark)...]))
        guard !pairs.isEmpty else { throw refuse("the filter has no search parameters") }
        if let result = pairs.first(where: { resultParameters.contains($0.0) }) {
            throw refuse("\(result.0) is a search result parameter, which Bulk Data does not allow in _typeFilter", .notSupported)
        }
        do {
            return (type, try FHIRSearch.parse(type, pairs))
        } catch let error as FHIRError {
            // The search API's message, placed on the kick-off parameter.
            throw FHIRError(.badRequest, OperationOutcome(error.outcome.issues.map { issue in
                OperationOutcome.Issue(issue.severity, issue.code, "_typeFilter \(query): \(issue.diagnostics)", at: ["_typeFilter"])
            }))
        }
    }

    /// A POST kick-off's Parameters resource as name/value pairs: each parameter's value[x] as
    /// text (`patient`: its reference). Anything that is not a Parameters resource of named,
    /// valued parameters is a 400 naming the element.
    static func pairs(parameters body: ByteBuffer?) throws -> [(String, String)] {
        guard let body, body.readableBytes > 0 else { return [] }
        let value: JSONValue
        do { value = try JSONParser.parse(Array(body.readableBytesView)) } catch {
            throw FHIRError(.badRequest, .structure, "the $export POST body must be a FHIR Parameters resource in JSON: \(error)", at: "Parameters")
        }
        guard value["resourceType"]?.stringValue == "Parameters" else {
            throw FHIRError(.badRequest, .structure, "the $export POST body must be a FHIR Parameters resource, got resourceType \(value["resourceType"]?.stringValue ?? "none")", at: "Parameters")
        }
        guard let list = value["parameter"] else { return [] }
        guard case .array(let parameters) = list else { throw FHIRError(.badRequest, .structure, "Parameters.parameter must be an array", at: "Parameters.parameter") }
        var pairs: [(String, String)] = []
        for (i, parameter) in parameters.enumerated() {
            let at = "Parameters.parameter[\(i)]"
            guard case .object(let object) = parameter, let name = object["name"]?.stringValue else {
                throw FHIRError(.badRequest, .required, "\(at) needs a name", at: "\(at).name")
            }
            if case .object(let reference)? = object["valueReference"] {
                pairs.append((name, reference["reference"]?.stringValue ?? ""))
                continue
            }
            let values = object.entries.filter { $0.0.hasPrefix("value") }
            guard values.count == 1, let text = values[0].1.stringValue else {
                throw FHIRError(.badRequest, .required, "\(at) (\(name)) needs one value[x] (valueString, valueInstant, valueCode; patient: valueReference)", at: "\(at).value[x]")
            }
            pairs.append((name, text))
        }
        return pairs
    }
}
