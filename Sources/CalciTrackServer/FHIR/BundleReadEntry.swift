import CalciTrackCore
import CalciTrackFHIR
import Foundation
import Vapor

/// A GET entry of a batch or transaction Bundle (FHIR R4 http.html#transaction): a read, vread,
/// instance or type history, search or Patient/$everything, named by `request.url` relative to
/// the base. It is answered by the same code as the plain `GET /fhir/...` route
/// (`FHIRReadContext`), so authorization, mapping and audit are the same.
struct BundleReadEntry: Sendable {
    enum Interaction: Sendable {
        /// With the elements `_elements` or `_summary` keeps (`ReadSubset`), nil for the whole resource.
        case read(FHIRResourceType, String, Set<String>?)
        case vread(FHIRResourceType, String, String, Set<String>?)
        case history(FHIRResourceType, String, [(String, String)])
        case typeHistory(FHIRResourceType, [(String, String)], String)
        case systemHistory([(String, String)], String)
        case search(FHIRResourceType, [(String, String)], String)
        case everything(String, [(String, String)])
    }

    var interaction: Interaction
    /// `request.url` as sent.
    var url: String
    /// Position in the Bundle (0-based).
    var index: Int

    var location: String { "Bundle.entry[\(index)]" }

    /// Reads `request.url`: `Type/id`, `Type/id/_history/vid`, `Type/id/_history`, `Type/_history`,
    /// `_history` (system), `Type?params` (or `Type/_search?params`), `Patient/id/$everything`. An absolute URL is taken
    /// from its `/fhir/` on.
    static func read(url raw: String, index: Int) -> Result<BundleReadEntry, EntryFailure> {
        let at = "Bundle.entry[\(index)].request.url"
        var url = raw
        if url.hasPrefix("http://") || url.hasPrefix("https://") {
            guard let range = url.range(of: "/fhir/") else {
                return .failure(EntryFailure(.badRequest, .invalid, "request.url \(raw) is absolute but not under this server's /fhir/ base; send it relative (Patient/<id>, Observation?patient=...)", at: at))
            }
            url = String(url[range.upperBound...])
        }
        var query = ""
        if let q = url.firstIndex(of: "?") {
            query = String(url[url.index(after: q)...])
            url = String(url[..<q])
        }
        let pairs = FHIRSearch.pairs(query: query)
        if url == "_history" { return .success(BundleReadEntry(interaction: .systemHistory(pairs, query), url: raw, index: index)) }
        let parts = url.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let typeText = parts.first, !typeText.isEmpty, !parts.contains(where: \.isEmpty) else {
            return .failure(EntryFailure(.badRequest, .required, "a GET's request.url names what to read (Type/id, Type/id/_history/vid, Type?params), got \(raw.isEmpty ? "nothing" : raw)", at: at))
        }
        guard let type = FHIRResourceType(rawValue: typeText) else {
            return .failure(EntryFailure(.notFound, .notSupported, "resource type \(typeText) is not supported; supported: \(FHIRResourceType.allCases.map(\.rawValue).joined(separator: ", "))", at: at))
        }
        /// A read's or vread's parameters: `_elements`, `_summary`, `_format`, `_pretty` (as the plain
        /// route takes them); any other is refused here, as before.
        func subset(_ what: String) -> Result<Set<String>?, EntryFailure> {
            let allowed = FHIRSearch.formatParameters.union(["_elements", "_summary"])
            if let other = pairs.first(where: { !allowed.contains($0.0) }) {
                return .failure(EntryFailure(.badRequest, .notSupported, "a \(what) takes _elements, _summary, _format and _pretty only, got \(other.0)", at: at))
            }
            do { return .success(try ReadSubset.elements(pairs, type: type.rawValue)) } catch let error as FHIRError {
                return .failure(EntryFailure(error.status, error.outcome.issues.map { var i = $0; i.expression = [at] + i.expression; return i }))
            } catch { return .failure(EntryFailure(.badRequest, .value, "\(error)", at: at)) }
        }
        let interaction: Interaction
        switch parts.count {
        case 1: interaction = .search(type, pairs, query)
        case 2 where parts[1] == "_search": interaction = .search(type, pairs, query)
        case 2 where parts[1] == "_history": interaction = .typeHistory(type, pairs, query)
        case 2:
            switch subset("read") {
            case .success(let keep): interaction = .read(type, parts[1], keep)
            case .failure(let failure): return .failure(failure)
            }
        case 3 where parts[2] == "_history": interaction = .history(type, parts[1], pairs)
        case 3 where parts[2] == "$everything" && type == .Patient: interaction = .everything(parts[1], pairs)
        case 4 where parts[2] == "_history":
            switch subset("vread") {
            case .success(let keep): interaction = .vread(type, parts[1], parts[3], keep)
            case .failure(let failure): return .failure(failure)
            }
        default:
            return .failure(EntryFailure(.badRequest, .notSupported, "GET \(raw) is not a read this server answers in a Bundle (Type/id, Type/id/_history[/vid], Type/_history, _history, Type?params, Patient/id/$everything)", at: at))
        }
        return .success(BundleReadEntry(interaction: interaction, url: raw, index: index))
    }

    /// The answer, or the entry's failure (status and OperationOutcome) for a read the plain route refuses.
    func answer(_ context: FHIRReadContext) async throws -> FHIRReadAnswer {
        do {
            switch interaction {
            case .read(let type, let id, let keep): return ReadSubset.apply(try await FHIRReadController.read(type, id, context), keeping: keep)
            case .vread(let type, let id, let vid, let keep): return ReadSubset.apply(try await FHIRReadController.vread(type, id, vid, context), keeping: keep)
            case .history(let type, let id, let pairs): return try await FHIRReadController.history(type, id, pairs: pairs, context)
            case .typeHistory(let type, let pairs, let query): return try await FHIRTypeHistory.history(type, pairs: pairs, query: query, context)
            case .systemHistory(let pairs, let query): return try await FHIRSystemHistory.history(pairs: pairs, query: query, context)
            case .search(let type, let pairs, let query): return try await FHIRSearch.run(type: type, pairs: pairs, query: query, context)
            case .everything(let id, let pairs): return try await FHIRReadController.everything(id, pairs: pairs, context)
            }
        } catch let error as FHIRError {
            throw EntryFailure(error.status, error.outcome.issues.map { issue in
                var issue = issue
                issue.expression = [location + ".request.url"] + issue.expression
                return issue
            })
        } catch let error as APIError {
            throw EntryFailure(error, resourceType: location + ".request.url")
        }
    }

    /// The response entry of an answered read: the resource (a searchset or history Bundle for
    /// searches and histories) with `200 OK`, and the ETag and Last-Modified of a single resource.
    static func responseEntry(_ answer: FHIRReadAnswer, base: String) -> JSONValue {
        let resource = answer.resource
        let type = resource["resourceType"]?.stringValue ?? ""
        var response = JSONObject([("status", "200 OK")])
        var entry = JSONObject()
        if type != "Bundle", let id = resource["id"]?.stringValue {
            entry["fullUrl"] = .string("\(base)/\(type)/\(id)")
            if let version = resource["meta"]?["versionId"]?.stringValue {
                response["etag"] = .string("W/\"\(version)\"")
            }
            if let updated = resource["meta"]?["lastUpdated"] { response["lastModified"] = updated }
        }
        entry["resource"] = resource
        entry["response"] = .object(response)
        return .object(entry)
    }
}
