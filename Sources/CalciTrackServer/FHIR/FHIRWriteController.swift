import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Vapor

/// The FHIR write interactions (issue 5): create (`POST /fhir/{type}`, conditional with
/// `If-None-Exist`), update (`PUT /fhir/{type}/{id}`, `If-Match`), delete, and transaction or
/// batch Bundles (`POST /fhir`, whose GET entries are reads). Same sign-in as the JSON API (bearer token, or session with
/// CSRF token); clinicians only (researchers read de-identified data, admins no patient data),
/// limited to their sites. Every write is one `AuditLog.write` transaction with its audit
/// entries and the summary refresh of each patient it touched.
struct FHIRWriteController: Sendable {
    /// Bundles are bigger than JSON API bodies.
    static let maxBundleSize: ByteCount = "64mb"

    func register(_ fhir: any RoutesBuilder) {
        fhir.on(.POST, body: .collect(maxSize: Self.maxBundleSize), use: bundle)
        fhir.on(.POST, ":type", body: .collect(maxSize: "8mb"), use: create)
        fhir.on(.POST, ":type", "$validate", body: .collect(maxSize: "8mb"), use: FHIRValidateOperation.validate)
        fhir.on(.PUT, ":type", ":id", body: .collect(maxSize: "8mb"), use: update)
        fhir.delete(":type", ":id", use: delete)
        // Conditional update and delete: the search criteria name the resource.
        fhir.on(.PUT, ":type", body: .collect(maxSize: "8mb"), use: conditionalUpdate)
        fhir.delete(":type", use: conditionalDelete)
    }

    /// The query of a conditional update/delete; without one the request names no resource.
    static func criteria(_ req: Request, type: String, _ interaction: ConditionalMatch.Interaction) throws -> String {
        guard let query = req.url.query, !query.isEmpty else {
            let method = interaction == .delete ? "DELETE" : "PUT"
            throw EntryFailure(.badRequest, .required, "\(method) /fhir/\(type) needs an id (\(type)/<id>) or search criteria (\(type)?identifier=system|value)", at: type)
        }
        _ = try ConditionalMatch.parse(query, type: type, for: interaction)
        return query
    }

    /// The version an `If-Match` header names (FHIR sends weak ETags).
    static func ifMatch(_ req: Request) throws -> Int? {
        try req.headers.first(name: .ifMatch).map { raw -> Int in
            guard let v = FHIRWriteResponse.version(fromETag: raw) else {
                throw EntryFailure(.badRequest, .value, "If-Match must be a version ETag such as W/\"3\", got \(raw)", at: "If-Match")
            }
            return v
        }
    }

    /// The version an update expects: If-Match, else the `meta.versionId` of the resource sent
    /// (clients that send no If-Match still send the version they read), and whether it came from meta.
    static func expectedVersion(_ req: Request, resource: JSONObject) throws -> (version: Int?, fromMeta: Bool) {
        if let v = try ifMatch(req) { return (v, false) }
        if case .object(let meta)? = resource["meta"], let v = meta["versionId"]?.stringValue.flatMap(Int.init) { return (v, true) }
        return (nil, false)
    }

    /// `PUT /fhir/{type}?criteria` (FHIR R4 http.html#cond-update): no match creates, one match
    /// is updated, several answer 412; only records of the caller's sites count.
    @Sendable func conditionalUpdate(req: Request) async throws -> Response {
        let type = req.parameters.get("type") ?? ""
        do {
            try Self.checkWritable(type, "update")
            let criteria = try Self.criteria(req, type: type, .update)
            let resource = try Self.resourceBody(req, type: type)
            let expected = try Self.expectedVersion(req, resource: resource)
            let entry = WriteEntry(method: .put, resourceType: type, resource: resource, conditional: criteria,
                                   ifMatch: expected.version, ifMatchFromMeta: expected.fromMeta, index: 0)
            return try await single(entry, req: req)
        } catch {
            return FHIRWriteResponse.outcome(for: error, resourceType: type, logger: req.logger)
        }
    }

    /// `DELETE /fhir/{type}?criteria` (FHIR R4 http.html#cond-delete, single): no match answers
    /// 200 with an OperationOutcome, one match is deleted, several answer 412.
    @Sendable func conditionalDelete(req: Request) async throws -> Response {
        let type = req.parameters.get("type") ?? ""
        do {
            try Self.checkWritable(type, "delete")
            let criteria = try Self.criteria(req, type: type, .delete)
            let entry = WriteEntry(method: .delete, resourceType: type, conditional: criteria, ifMatch: try Self.ifMatch(req), index: 0)
            return try await single(entry, req: req, render: false)
        } catch {
            return FHIRWriteResponse.outcome(for: error, resourceType: type, logger: req.logger)
        }
    }

    /// The signed-in clinician as a write authority (their sites; their only site is the
    /// default for a Patient without a CalciTrack MRN identifier).
    static func authority(_ req: Request) async throws -> (WriteAuthority, AuditActor) {
        let principal = try await req.principal()
        switch principal.role {
        case .admin: throw PatientAccess.adminRefused
        case .researcher: throw APIError(.forbidden, "researchers read de-identified data only; FHIR writes need the clinician role")
        case .clinician: break
        }
        var defaultSite: String?
        if principal.siteIDs.count == 1, let site = try await Site.find(principal.siteIDs.first!, on: req.db) { defaultSite = site.code }
        return (WriteAuthority(username: principal.username, sites: principal.siteIDs, defaultSiteCode: defaultSite), try await req.auditActor)
    }

    @Sendable func create(req: Request) async throws -> Response {
        let type = req.parameters.get("type") ?? ""
        do {
            try Self.checkWritable(type, "create")
            let resource = try Self.resourceBody(req, type: type)
            var ifNoneExist = req.headers.first(name: "If-None-Exist")
            if ifNoneExist?.isEmpty == true { ifNoneExist = nil }
            let entry = WriteEntry(method: .post, resourceType: type, resource: resource, ifNoneExist: ifNoneExist, index: 0)
            return try await single(entry, req: req)
        } catch {
            return FHIRWriteResponse.outcome(for: error, resourceType: type, logger: req.logger)
        }
    }

    @Sendable func update(req: Request) async throws -> Response {
        let type = req.parameters.get("type") ?? ""
        do {
            try Self.checkWritable(type, "update")
            let id = req.parameters.get("id") ?? ""
            let resource = try Self.resourceBody(req, type: type)
            if let rid = resource["id"]?.stringValue, rid != id {
                throw EntryFailure(.badRequest, .invalid, "the resource's id \(rid) differs from the id in the URL (\(id))", at: "\(type).id")
            }
            if resource["id"] == nil {
                throw EntryFailure(.badRequest, .required, "an update must carry the resource's id (FHIR http.html#update)", at: "\(type).id")
            }
            let expected = try Self.expectedVersion(req, resource: resource)
            let entry = WriteEntry(method: .put, resourceType: type, resource: resource, id: id,
                                   ifMatch: expected.version, ifMatchFromMeta: expected.fromMeta, index: 0)
            return try await single(entry, req: req)
        } catch {
            return FHIRWriteResponse.outcome(for: error, resourceType: type, logger: req.logger)
        }
    }

    @Sendable func delete(req: Request) async throws -> Response {
        let type = req.parameters.get("type") ?? ""
        do {
            try Self.checkWritable(type, "delete")
            let id = req.parameters.get("id") ?? ""
            let entry = WriteEntry(method: .delete, resourceType: type, id: id, ifMatch: try Self.ifMatch(req), index: 0)
            return try await single(entry, req: req, render: false)
        } catch {
            return FHIRWriteResponse.outcome(for: error, resourceType: type, logger: req.logger)
        }
    }

    /// One create, update or delete in its own transaction.
    private func single(_ entry: WriteEntry, req: Request, render: Bool = true) async throws -> Response {
        let (authority, actor) = try await Self.authority(req)
        let writer = FHIRWriter(authority: authority, today: req.today, mode: .transaction)
        let prepared = FHIRWriter.prepare(entry)
        let result = try await AuditLog.write(on: req.db, actor: actor) { tx in
            let (results, events) = try await writer.write([prepared], on: tx)
            if results[0].failed { throw EntryFailure(results[0].status, results[0].issues) }
            return (results[0], events)
        }
        if entry.method == .delete {
            return FHIRWriteResponse.outcome(.ok, result.issues.isEmpty ? [.init(.information, .informational, "\(entry.resourceType)/\(result.fhirID ?? entry.id ?? "") deleted")] : result.issues)
        }
        let resource = render ? try await FHIRWriteRendering.resource(for: result, on: req.db, today: req.today) : nil
        return FHIRWriteResponse.written(result, resource: resource, prefer: FHIRWriteResponse.preferred(req), base: FHIRReadController.baseURL(req))
    }

    /// `POST /fhir`: a transaction (all or nothing) or batch (each entry on its own) Bundle (`BundleProcessing`).
    @Sendable func bundle(req: Request) async throws -> Response {
        do {
            let body = try Self.resourceBody(req, type: "Bundle")
            let request = try BundleRequest.read(body)
            return try await BundleProcessing.run(request, req: req)
        } catch {
            return FHIRWriteResponse.outcome(for: error, resourceType: "Bundle", logger: req.logger)
        }
    }

    /// A write names a type the CapabilityStatement declares with that interaction: 404 for a
    /// type this server does not serve (the inbound mapping also reads, e.g., MedicationRequest
    /// for imports, but a POST of one must not answer with a MedicationStatement), 405 for one it
    /// only reads (Flag, Group).
    static func checkWritable(_ type: String, _ interaction: String) throws {
        let support = FHIRResourceType(rawValue: type).flatMap(FHIRCapabilities.support)
        if let support, support.interactions.contains(interaction) { return }
        if support != nil || type == FHIRGroups.resourceType {
            throw EntryFailure(.methodNotAllowed, .notSupported, "\(type) is read-only here: \(interaction) is not supported (GET /fhir/metadata lists each type's interactions)", at: type)
        }
        throw EntryFailure(.notFound, .notSupported, "\(type) is not a resource type this server stores (GET /fhir/metadata lists them)", at: type)
    }

    /// Media types a write body may declare (R4 http.html#mime-type; application/json and the
    /// DSTU2 application/json+fhir are what many clients still send).
    static let jsonMediaTypes: Set<String> = ["application/fhir+json", "application/json", "application/json+fhir"]

    /// The request body as a JSON object of the URL's resource type (or one of `allowing`, e.g.
    /// the Parameters of an operation). A body declared as anything but JSON is refused with 415
    /// (XML is not supported); a body without Content-Type is read as JSON.
    static func resourceBody(_ req: Request, type: String, allowing: Set<String> = []) throws -> JSONObject {
        if let declared = req.headers.first(name: .contentType) {
            let media = declared.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard jsonMediaTypes.contains(media) else {
                throw EntryFailure(.unsupportedMediaType, .notSupported, "Content-Type \(declared) is not supported: send application/fhir+json", at: "Content-Type")
            }
        }
        guard var buffer = req.body.data, buffer.readableBytes > 0 else {
            throw EntryFailure(.badRequest, .required, "a \(type) resource is required as the body (Content-Type: application/fhir+json)", at: type)
        }
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            throw EntryFailure(.badRequest, .structure, "the body is not valid JSON: \(error.description)", at: type)
        }
        guard case .object(let object) = value else {
            throw EntryFailure(.badRequest, .structure, "the body must be a JSON object (a \(type) resource)", at: type)
        }
        if let declared = object["resourceType"]?.stringValue, declared != type, !allowing.contains(declared) {
            throw EntryFailure(.badRequest, .invalid, "the body is a \(declared) but the URL names \(type)", at: "\(declared).resourceType")
        }
        if object["resourceType"] == nil {
            throw EntryFailure(.badRequest, .required, "resourceType is required", at: "\(type).resourceType")
        }
        return object
    }
}

/// How a written record is shown back to the client: as the read side serves it (Outbound
/// mapping of the stored record), so the client sees what CalciTrack kept.
enum FHIRWriteRendering {
    static func resource(for result: EntryResult, on db: any Database, today: LocalDate) async throws -> JSONObject? {
        guard let id = result.fhirID, let type = FHIRResourceType(rawValue: result.resourceType),
              let found = try await FHIRResolver.row(type, id, on: db, today: today), !found.row.deleted,
              case .object(let resource)? = try await FHIRResolver.map(type, id, kind: found.kind, record: found.row.json, on: db, today: today)
        else { return nil }
        return resource
    }
}
