import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Vapor

/// The read side of the FHIR R4 API under /fhir (issue 5): metadata, read, vread, instance
/// history, search (`FHIRSearch`) and Patient/$everything. Same authentication as the JSON API;
/// researchers are refused (FHIR resources carry identified data); clinicians see their sites'
/// patients; every read is audited.
struct FHIRReadController: Sendable {
    func register(_ fhir: any RoutesBuilder) {
        fhir.get("metadata", use: metadata)
        fhir.get("_history", use: FHIRSystemHistory.history)
        // `:type` also here: Vapor's router does not backtrack from a constant "Patient" segment to `:type`.
        fhir.get(":type", ":id", "$everything", use: everything)
        fhir.get(":type", use: search)
        fhir.on(.POST, ":type", "_search", body: .collect(maxSize: "1mb"), use: searchViaPost)
        fhir.get(":type", "_history", use: FHIRTypeHistory.history)
        fhir.get(":type", ":id", use: read)
        fhir.get(":type", ":id", "_history", use: history)
        fhir.get(":type", ":id", "_history", ":vid", use: vread)
    }

    /// The FHIR base of links and Locations: `CALCITRACK_PUBLIC_URL` + /fhir where it is set (a
    /// server behind a TLS proxy is reached by https), else the request's Host over http.
    static func baseURL(_ req: Request) -> String {
        if let base = req.application.cdsHooks.publicBaseURL { return base + "/fhir" }
        let host = req.headers.first(name: .host) ?? "localhost"
        return "http://\(host)/fhir"
    }

    /// The caller, who must be a clinician (researchers: identified data; admins: no patient data).
    static func reader(_ req: Request) async throws -> Principal {
        let principal = try await req.principal()
        switch principal.role {
        case .clinician: return principal
        case .researcher:
            throw FHIRError(.forbidden, .forbidden, "researchers cannot use the FHIR API: FHIR resources carry identified data; use the de-identified JSON API")
        case .admin:
            throw FHIRError(.forbidden, .forbidden, "admins manage users and sites; patient data needs the clinician role")
        }
    }

    static func resourceType(_ req: Request) throws -> FHIRResourceType {
        let text = req.parameters.get("type") ?? ""
        guard let type = FHIRResourceType(rawValue: text) else {
            throw FHIRError(.notFound, .notSupported, "resource type \(text) is not supported; supported: \(FHIRResourceType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return type
    }

    @Sendable func metadata(req: Request) async throws -> Response {
        FHIRResponse.json(FHIRCapabilities.statement(baseURL: Self.baseURL(req), now: ISOTimestamp.iso(Date())))
    }

    /// Loads the patient behind a resource and checks the clinician's sites (deleted: 410).
    /// `goneWhenDeleted` false for a vread: a version before a deletion is still served (R4
    /// http.html#vread; only the version that is the deletion answers 410).
    static func checkAccess(patientID: UUID, _ principal: Principal, type: FHIRResourceType, id: String, goneWhenDeleted: Bool = true,
                            on db: any Database) async throws {
        guard let patient = try await Patient.query(on: db).withDeleted().filter(\.$id == patientID).first() else { throw FHIRError.notFound(type.rawValue, id) }
        guard principal.siteIDs.contains(patient.$site.id) else {
            throw FHIRError(.forbidden, .forbidden, "\(type.rawValue)/\(id) belongs to a patient of a site you are not a member of")
        }
        if goneWhenDeleted, patient.deletedAt != nil { throw FHIRError.gone(type.rawValue, id) }
    }

    @Sendable func read(req: Request) async throws -> Response {
        let context = FHIRReadContext(req, principal: try await Self.reader(req))
        if req.parameters.get("type") == FHIRGroups.resourceType {
            return try await FHIRGroups.read(req.parameters.get("id") ?? "", context).response(req)
        }
        let type = try Self.resourceType(req)
        // A malformed subset is refused before the read (and its audit entry).
        let keep = try ReadSubset.elements(FHIRSearch.pairs(req), type: type.rawValue)
        let answer = ReadSubset.apply(try await Self.read(type, req.parameters.get("id") ?? "", context), keeping: keep)
        return ConditionalRead.answer(try await answer.response(req), req)
    }

    static func read(_ type: FHIRResourceType, _ id: String, _ context: FHIRReadContext) async throws -> FHIRReadAnswer {
        let db = context.db, today = context.today
        guard let found = try await FHIRResolver.row(type, id, on: db, today: today) else { throw FHIRError.notFound(type.rawValue, id) }
        try await Self.checkAccess(patientID: found.patientID, context.principal, type: type, id: id, on: db)
        if found.row.deleted { throw FHIRError.gone(type.rawValue, id) }
        let resource: JSONValue?
        if type == .Flag {
            resource = try await FHIRAlerts.flags(patientID: found.patientID, on: db, today: today).first { $0["id"]?.stringValue == id }
        } else {
            resource = try await FHIRResolver.map(type, id, kind: found.kind, record: found.row.json, on: db, today: today)
        }
        guard let resource else { throw FHIRError.notFound(type.rawValue, id) }
        return FHIRReadAnswer(resource: resource, audit: [AuditEvent(action: "read", resourceType: "fhir/\(type.rawValue)", resourceID: id,
                                                                     patientID: found.patientID.lowercasedString)])
    }

    /// Stored versions of the row behind a resource, newest first; a row written before history
    /// was kept (or by the bulk generator) has its current version only.
    static func versions(_ found: FHIRResolver.Found, on db: any Database) async throws -> [(version: Int, deleted: Bool, recordedAt: Date?, body: JSONValue)] {
        var list = try await ResourceHistory.versions(kind: found.kind.rawValue, id: found.rowID, on: db)
            .map { (version: $0.version, deleted: $0.deleted, recordedAt: Optional($0.recordedAt), body: $0.body) }
        var current = 0
        if case .number(let n)? = found.row.json["version"] { current = Int(n) }
        if !found.row.deleted, !list.contains(where: { $0.version == current }) {
            list.insert((current, false, nil, found.row.json), at: 0)
        }
        return list.sorted { $0.version > $1.version }
    }

    static func historyCapable(_ type: FHIRResourceType, _ id: String) -> Bool {
        type != .Flag && !(type == .Condition && id.hasPrefix("calcinosis-"))
    }

    @Sendable func vread(req: Request) async throws -> Response {
        let context = FHIRReadContext(req, principal: try await Self.reader(req))
        let type = try Self.resourceType(req)
        let keep = try ReadSubset.elements(FHIRSearch.pairs(req), type: type.rawValue)
        return try await ReadSubset.apply(try await Self.vread(type, req.parameters.get("id") ?? "", req.parameters.get("vid") ?? "", context), keeping: keep).response(req)
    }

    static func vread(_ type: FHIRResourceType, _ id: String, _ vid: String, _ context: FHIRReadContext) async throws -> FHIRReadAnswer {
        let db = context.db, today = context.today
        guard let found = try await FHIRResolver.row(type, id, on: db, today: today) else { throw FHIRError.notFound(type.rawValue, id) }
        try await Self.checkAccess(patientID: found.patientID, context.principal, type: type, id: id, goneWhenDeleted: false, on: db)
        guard Self.historyCapable(type, id) else {
            throw FHIRError(.notFound, .notSupported, "\(type.rawValue)/\(id) is derived from several records and has no version history")
        }
        guard let version = Int(vid), version >= 1 else { throw FHIRError(.badRequest, .value, "version id must be a positive integer, got \(vid)", at: "vid") }
        guard let stored = try await Self.versions(found, on: db).first(where: { $0.version == version }) else {
            throw FHIRError(.notFound, .notFound, "\(type.rawValue)/\(id) has no version \(vid)")
        }
        if stored.deleted { throw FHIRError(.gone, .deleted, "\(type.rawValue)/\(id) version \(vid) is its deletion") }
        guard let resource = try await FHIRResolver.map(type, id, kind: found.kind, record: stored.body, on: db, today: today) else {
            throw FHIRError(.notFound, .notFound, "\(type.rawValue)/\(id) did not exist in version \(vid)")
        }
        return FHIRReadAnswer(resource: resource, audit: [AuditEvent(action: "read", resourceType: "fhir/\(type.rawValue)", resourceID: "\(id)/_history/\(vid)",
                                                                     patientID: found.patientID.lowercasedString)])
    }

    @Sendable func history(req: Request) async throws -> Response {
        let context = FHIRReadContext(req, principal: try await Self.reader(req))
        return try await Self.history(try Self.resourceType(req), req.parameters.get("id") ?? "", pairs: FHIRSearch.pairs(req), context).response(req)
    }

    static func history(_ type: FHIRResourceType, _ id: String, pairs: [(String, String)], _ context: FHIRReadContext) async throws -> FHIRReadAnswer {
        let db = context.db, today = context.today
        // R4 http.html#history: _count and _since on every level (the next link pages by _offset:
        // an instance has few versions). Without _count, every version on one page.
        let q = try FHIRTypeHistory.parse(pairs, scope: "instance _history")
        if q.cursor != nil { throw FHIRError(.badRequest, .notSupported, "_cursor pages type and system history; an instance history pages by _offset", at: "_cursor") }
        let count = pairs.contains { $0.0 == "_count" } ? q.count : Int.max
        guard let found = try await FHIRResolver.row(type, id, on: db, today: today) else { throw FHIRError.notFound(type.rawValue, id) }
        // A deleted resource's history is still readable (FHIR history lists the deletion).
        guard let patient = try await Patient.query(on: db).withDeleted().filter(\.$id == found.patientID).first(),
              context.principal.siteIDs.contains(patient.$site.id) else {
            throw FHIRError(.forbidden, .forbidden, "\(type.rawValue)/\(id) belongs to a patient of a site you are not a member of")
        }
        guard Self.historyCapable(type, id) else {
            throw FHIRError(.notFound, .notSupported, "\(type.rawValue)/\(id) is derived from several records and has no version history")
        }
        let base = context.base
        var entries: [JSONValue] = []
        for stored in try await Self.versions(found, on: db) {
            // A current version without a history row (written before 009) counts as recent.
            if let since = q.since, let at = stored.recordedAt, at < since { continue }
            if let entry = try await Self.historyEntry(type, id, kind: found.kind, version: stored.version, deleted: stored.deleted,
                                                       recordedAt: stored.recordedAt, body: stored.body, base: base, on: db, today: today) {
                entries.append(entry)
            }
        }
        let url = "\(base)/\(type.rawValue)/\(id)/_history"
        let since = q.sinceText.map { "&_since=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? ""
        var links = [FHIRBundle.object([("relation", "self"), ("url", .string(url + (pairs.isEmpty ? "" : "?" + pairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&"))))])]
        if count < Int.max, q.offset + count < entries.count {
            links.append(FHIRBundle.object([("relation", "next"), ("url", .string("\(url)?_count=\(count)&_offset=\(q.offset + count)\(since)"))]))
        }
        let total = entries.count
        let shown = Array(entries.dropFirst(q.offset).prefix(count))
        let bundle = FHIRBundle.object([
            ("resourceType", "Bundle"), ("type", "history"), ("total", .number(Double(total))),
            ("link", .array(links)),
            ("entry", .array(shown)),
        ])
        return FHIRReadAnswer(resource: bundle, audit: [AuditEvent(action: "read", resourceType: "fhir/\(type.rawValue)", resourceID: "\(id)/_history",
                                                                   patientID: found.patientID.lowercasedString, detail: "\(shown.count) version(s)")])
    }

    /// One entry of a history Bundle: the version as a resource with its request and response,
    /// or the deletion (request DELETE, no resource). nil when the stored body maps to nothing.
    static func historyEntry(_ type: FHIRResourceType, _ id: String, kind: RecordKind, version: Int, deleted: Bool, recordedAt: Date?,
                             body: JSONValue, base: String, on db: any Database, today: LocalDate) async throws -> JSONValue? {
        if deleted {
            return FHIRBundle.object([
                ("fullUrl", .string("\(base)/\(type.rawValue)/\(id)")),
                ("request", FHIRBundle.object([("method", "DELETE"), ("url", .string("\(type.rawValue)/\(id)"))])),
                ("response", FHIRBundle.object([("status", "410 Gone"), ("etag", .string("W/\"\(version)\"")),
                                                ("lastModified", recordedAt.map { .string(ISOTimestamp.iso($0)) })])),
            ])
        }
        guard let resource = try await FHIRResolver.map(type, id, kind: kind, record: body, on: db, today: today) else { return nil }
        return FHIRBundle.object([
            ("fullUrl", .string("\(base)/\(type.rawValue)/\(id)")), ("resource", resource),
            ("request", FHIRBundle.object([("method", version == 1 ? "POST" : "PUT"),
                                           ("url", .string(version == 1 ? type.rawValue : "\(type.rawValue)/\(id)"))])),
            ("response", FHIRBundle.object([("status", version == 1 ? "201 Created" : "200 OK"), ("etag", .string("W/\"\(version)\"")),
                                            ("lastModified", resource["meta"]?["lastUpdated"])])),
        ])
    }

    @Sendable func search(req: Request) async throws -> Response {
        try await search(req, pairs: FHIRSearch.pairs(req), query: req.url.query ?? "")
    }

    /// `POST [base]/[type]/_search` (R4 http.html#search): the parameters as a form body
    /// (`application/x-www-form-urlencoded`), with any the URL carries, answered as the GET search
    /// (clients use it for long queries or to keep parameters out of URLs and logs).
    @Sendable func searchViaPost(req: Request) async throws -> Response {
        guard req.headers.contentType?.subType == "x-www-form-urlencoded" else {
            throw FHIRError(.unsupportedMediaType, .notSupported, "POST _search takes its parameters as application/x-www-form-urlencoded, got \(req.headers.contentType?.description ?? "no Content-Type")")
        }
        let form = req.body.string ?? ""
        let query = [req.url.query ?? "", form].filter { !$0.isEmpty }.joined(separator: "&")
        return try await search(req, pairs: FHIRSearch.pairs(query: query), query: query)
    }

    private func search(_ req: Request, pairs: [(String, String)], query: String) async throws -> Response {
        let context = FHIRReadContext(req, principal: try await Self.reader(req))
        if req.parameters.get("type") == FHIRGroups.resourceType {
            return try await FHIRGroups.search(pairs: pairs, query: query, context).response(req)
        }
        let lenient = (req.headers.first(name: "Prefer") ?? "").lowercased().contains("handling=lenient")
        return try await FHIRSearch.run(type: try Self.resourceType(req), pairs: pairs, query: query, lenient: lenient, context).response(req)
    }

    @Sendable func everything(req: Request) async throws -> Response {
        let context = FHIRReadContext(req, principal: try await Self.reader(req))
        guard try Self.resourceType(req) == .Patient else {
            throw FHIRError(.notFound, .notSupported, "$everything is supported on Patient only")
        }
        return try await Self.everything(req.parameters.get("id") ?? "", pairs: FHIRSearch.pairs(req), context).response(req)
    }

    static func everything(_ id: String, pairs: [(String, String)], _ context: FHIRReadContext) async throws -> FHIRReadAnswer {
        guard let pid = UUID.parse(id) else { throw FHIRError.notFound("Patient", id) }
        try await Self.checkAccess(patientID: pid, context.principal, type: .Patient, id: id, on: context.db)
        let query = try PatientEverything.parse(pairs)
        let resources = try await query.resources(patientID: pid, on: context.db, today: context.today)
        let (shown, more) = query.page(resources)
        let base = context.base
        let url = "\(base)/Patient/\(id)/$everything"
        func text(_ pairs: [(String, String)]) -> String { pairs.map { "\($0.0)=\(FHIRSearch.encode($0.1))" }.joined(separator: "&") }
        func link(_ pairs: [(String, String)]) -> String {
            let query = text(pairs)
            return url + (query.isEmpty ? "" : "?\(query)")
        }
        let queryText = text(pairs)
        let next = more ? link(pairs.filter { $0.0 != "_offset" } + [("_offset", String(query.offset + shown.count))]) : nil
        let bundle = FHIRBundle.searchset(shown.map { ($0, "match") }, total: resources.count, base: base, selfURL: link(pairs), nextURL: next)
        return FHIRReadAnswer(resource: bundle, audit: [AuditEvent(action: "read", resourceType: "fhir/Patient", resourceID: "\(id)/$everything",
                                                                   patientID: id, detail: (queryText.isEmpty ? "" : "query \(queryText); ") + "\(shown.count) resource(s)")])
    }
}

enum FHIRBundle {
    static func object(_ pairs: [(String, JSONValue?)]) -> JSONValue {
        .object(JSONObject(pairs.compactMap { k, v in v.map { (k, $0) } }))
    }

    static func searchset(_ entries: [(JSONValue, String)], total: Int?, base: String, selfURL: String, nextURL: String?) -> JSONValue {
        var links = [object([("relation", "self"), ("url", .string(selfURL))])]
        if let nextURL { links.append(object([("relation", "next"), ("url", .string(nextURL))])) }
        return object([
            ("resourceType", "Bundle"), ("type", "searchset"), ("total", total.map { .number(Double($0)) }),
            ("link", .array(links)),
            ("entry", entries.isEmpty ? nil : .array(entries.map { resource, mode in
                // An OperationOutcome of the search (mode outcome) has no id and no URL on this server.
                object([("fullUrl", resource["id"] == nil ? .string("urn:uuid:\(UUID().lowercasedString)")
                                        : .string("\(base)/\(resource["resourceType"]?.stringValue ?? "")/\(resource["id"]?.stringValue ?? "")")),
                        ("resource", resource), ("search", object([("mode", .string(mode))]))])
            })),
        ])
    }
}
