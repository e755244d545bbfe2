import CalciTrackCore
import CalciTrackFHIR
import Foundation
import Vapor

/// A posted transaction or batch Bundle, read into write entries, and the response Bundle.
struct BundleRequest: Sendable {
    enum Kind: String, Sendable { case transaction, batch }

    /// A write (POST, PUT, DELETE) or a read (GET) entry.
    enum Entry: Sendable {
        case write(WriteEntry)
        case read(BundleReadEntry)
    }

    var kind: Kind
    /// One per Bundle entry; an entry that cannot be read is a failure in place.
    var entries: [Result<Entry, EntryFailure>]

    static func read(_ bundle: JSONObject) throws(EntryFailure) -> BundleRequest {
        guard bundle["resourceType"]?.stringValue == "Bundle" else {
            throw EntryFailure(.badRequest, .invalid, "POST /fhir takes a Bundle; resourceType is \(bundle["resourceType"].map { JSONWriter.write($0, pretty: false) } ?? "missing")", at: "Bundle.resourceType")
        }
        let type = bundle["type"]?.stringValue ?? ""
        guard let kind = Kind(rawValue: type) else {
            throw EntryFailure(.badRequest, .value,
                               "Bundle.type \(type.isEmpty ? "is missing" : "is \(type)"); POST /fhir takes transaction or batch (a collection is imported with calcitrack import)",
                               at: "Bundle.type")
        }
        guard case .array(let items)? = bundle["entry"] ?? .array([]) else {
            throw EntryFailure(.badRequest, .structure, "Bundle.entry must be an array", at: "Bundle.entry")
        }
        return BundleRequest(kind: kind, entries: items.enumerated().map { index, item in
            if let read = readGetEntry(item, index: index) { return read.map(Entry.read) }
            // bdl-3: every entry of a batch or transaction has a request (only an imported
            // collection's entries are stored without one).
            if case .object(let entry) = item, entry["request"] == nil {
                return .failure(EntryFailure(.badRequest, .required, "entry.request is required in a \(kind.rawValue) Bundle (bdl-3)", at: "Bundle.entry[\(index)].request"))
            }
            return readEntry(item, index: index, keepSourceID: false).map(Entry.write)
        })
    }

    /// A GET entry (nil when the entry is not one): its `request.url` says what to read; a GET
    /// carries no resource (one sent would be ignored, so it is refused).
    static func readGetEntry(_ item: JSONValue, index: Int) -> Result<BundleReadEntry, EntryFailure>? {
        guard case .object(let entry) = item, case .object(let request)? = entry["request"],
              let method = request["method"]?.stringValue, method == "GET" || method == "HEAD" else { return nil }
        let at = "Bundle.entry[\(index)]"
        if method == "HEAD" {
            return .failure(EntryFailure(.badRequest, .notSupported, "request.method HEAD is not supported in a Bundle (GET is)", at: at + ".request.method"))
        }
        if entry["resource"] != nil {
            return .failure(EntryFailure(.badRequest, .invalid, "a GET entry carries no resource (request.url says what to read)", at: at + ".resource"))
        }
        for key in ["ifNoneExist", "ifMatch", "ifNoneMatch", "ifModifiedSince"] where request[key] != nil {
            return .failure(EntryFailure(.badRequest, .notSupported, "request.\(key) is not supported on a GET entry", at: at + ".request.\(key)"))
        }
        return BundleReadEntry.read(url: request["url"]?.stringValue ?? "", index: index)
    }

    /// One entry of a transaction/batch Bundle (request.method and url say what to do) or of a
    /// collection Bundle (no request: the resource is imported like an NDJSON line).
    static func readEntry(_ item: JSONValue, index: Int, keepSourceID: Bool) -> Result<WriteEntry, EntryFailure> {
        let at = "Bundle.entry[\(index)]"
        guard case .object(let entry) = item else {
            return .failure(EntryFailure(.badRequest, .structure, "an entry must be an object", at: at))
        }
        var resource: JSONObject?
        if let value = entry["resource"] {
            guard case .object(let object) = value else { return .failure(EntryFailure(.badRequest, .structure, "resource must be an object", at: at + ".resource")) }
            resource = object
        }
        let fullUrl = entry["fullUrl"]?.stringValue
        guard case .object(let request)? = entry["request"] else {
            // Collection / import: a resource to store under its own identity.
            guard let resource, let type = resource["resourceType"]?.stringValue else {
                return .failure(EntryFailure(.badRequest, .required, "an entry needs request (transaction, batch) or a resource with resourceType", at: at))
            }
            return .success(WriteEntry(method: .post, resourceType: type, resource: resource, fullUrl: fullUrl, keepSourceID: true, index: index))
        }
        let methodText = request["method"]?.stringValue ?? ""
        guard let method = WriteEntry.Method(rawValue: methodText) else {
            return .failure(EntryFailure(.badRequest, .notSupported,
                                         "request.method \(methodText.isEmpty ? "is missing" : methodText) is not supported here (POST, PUT, DELETE; GET in batch and transaction Bundles posted to /fhir)", at: at + ".request.method"))
        }
        var url = request["url"]?.stringValue ?? ""
        var conditional: String?
        if let q = url.firstIndex(of: "?") {
            // Conditional update / delete: Type?criteria (FHIR http.html#cond-update, #cond-delete).
            guard method != .post else {
                return .failure(EntryFailure(.badRequest, .notSupported, "a POST's request.url is the type (\(url) has a query); a conditional create sends its criteria in request.ifNoneExist", at: at + ".request.url"))
            }
            conditional = String(url[url.index(after: q)...])
            url = String(url[..<q])
            if url.contains("/") {
                return .failure(EntryFailure(.badRequest, .invalid, "a conditional \(method.rawValue) names the type and criteria (Type?identifier=...), not an id: \(request["url"]?.stringValue ?? "")", at: at + ".request.url"))
            }
            do { _ = try ConditionalMatch.parse(conditional!, type: url, for: method == .delete ? .delete : .update) } catch let failure as EntryFailure {
                return .failure(EntryFailure(failure.status, failure.issues.map { var i = $0; i.expression = [at + ".request.url"]; return i }))
            } catch { return .failure(EntryFailure(.badRequest, .invalid, "\(error)", at: at + ".request.url")) }
        }
        let parts = url.split(separator: "/").map(String.init).filter { !$0.isEmpty }
        guard let type = parts.first else {
            return .failure(EntryFailure(.badRequest, .required, "request.url must name the resource type (e.g. Patient or Patient/<id>)", at: at + ".request.url"))
        }
        let id = parts.count > 1 ? parts[1] : nil
        if method != .post && id == nil && conditional == nil {
            return .failure(EntryFailure(.badRequest, .required, "\(method.rawValue) needs request.url Type/id or Type?criteria (conditional)", at: at + ".request.url"))
        }
        if method != .delete && resource == nil {
            return .failure(EntryFailure(.badRequest, .required, "\(method.rawValue) needs a resource", at: at + ".resource"))
        }
        var ifMatch: Int?
        if let raw = request["ifMatch"]?.stringValue {
            guard let v = FHIRWriteResponse.version(fromETag: raw) else {
                return .failure(EntryFailure(.badRequest, .value, "ifMatch must be a version ETag such as W/\"3\", got \(raw)", at: at + ".request.ifMatch"))
            }
            ifMatch = v
        }
        var fromMeta = false
        if method == .put, ifMatch == nil, let meta = resource?["meta"], case .object(let m) = meta, let v = m["versionId"]?.stringValue.flatMap(Int.init) {
            ifMatch = v
            fromMeta = true
        }
        if method == .put, let id, let rid = resource?["id"]?.stringValue, rid != id {
            return .failure(EntryFailure(.badRequest, .invalid, "resource.id \(rid) differs from the id in request.url (\(id))", at: at + ".resource.id"))
        }
        return .success(WriteEntry(method: method, resourceType: type, resource: resource, id: id, fullUrl: fullUrl,
                                   ifNoneExist: request["ifNoneExist"]?.stringValue, conditional: conditional, ifMatch: ifMatch, ifMatchFromMeta: fromMeta, index: index))
    }

    /// One entry of a transaction-response or batch-response; `base` the server's FHIR base
    /// (`fullUrl` is absolute, bundle.html; so is `location`, as a create's Location header).
    static func responseEntry(_ result: EntryResult, includeResource: Bool, base: String) -> JSONValue {
        var response = JSONObject([("status", .string(result.statusLine))])
        if let id = result.fhirID, result.action != .deleted, let version = result.version {
            response["location"] = .string("\(base)/\(result.resourceType)/\(id)/_history/\(version)")
            response["etag"] = .string(FHIRWriteResponse.etag(version))
        }
        if let at = result.lastModified { response["lastModified"] = .string(ISOTimestamp.isoMillis(at)) }
        if !result.issues.isEmpty { response["outcome"] = OperationOutcome(result.issues).json }
        var entry = JSONObject()
        if let id = result.fhirID, result.action != .deleted { entry["fullUrl"] = .string("\(base)/\(result.resourceType)/\(id)") }
        if includeResource, let resource = result.resource { entry["resource"] = .object(resource) }
        entry["response"] = .object(response)
        return .object(entry)
    }

    /// The response Bundle of response entries in the request's entry order.
    static func responseBundle(_ kind: Kind, _ entries: [JSONValue]) -> JSONValue {
        .object(JSONObject([
            ("resourceType", "Bundle"),
            ("id", .string(UUID().lowercasedString)),
            ("type", .string(kind == .transaction ? "transaction-response" : "batch-response")),
            ("entry", .array(entries)),
        ]))
    }
}
