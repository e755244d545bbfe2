import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Vapor

/// FHIR Bulk Data Access 2.0 `$export`, async pattern (docs/fhir.md "Bulk export"):
/// - `GET|POST /fhir/$export`, `/fhir/Patient/$export`, `/fhir/Group/<site id>/$export`: kick-off
///   (Accept: application/fhir+json, Prefer: respond-async; `_outputFormat`, `_type`, `_since`,
///   `_typeFilter`; POST: the same as a Parameters resource, plus `patient` at Patient and Group
///   level) → 202, Content-Location = status URL. A Group is a site's patients (`FHIRGroups`).
/// - `GET /fhir/$export-status/{job}`: 202 with X-Progress while running, 200 with the manifest
///   when complete, 500 with an OperationOutcome when it failed; `DELETE` cancels and deletes (202).
/// - `GET /fhir/$export-file/{job}/{Type}.ndjson`: an output file (application/fhir+ndjson).
/// Clinicians only, their sites' patients; a job is visible to the user who started it only
/// (anyone else: 404). Kick-off, cancel and each download are audited.
struct BulkExportController: Sendable {
    func register(_ fhir: any RoutesBuilder) {
        fhir.get("$export", use: systemKickoff)
        fhir.on(.POST, "$export", body: .collect(maxSize: Self.maxParametersSize), use: systemKickoff)
        // `:type`, not "Patient": the router does not backtrack from a constant segment (see FHIRReadController).
        fhir.get(":type", "$export", use: patientKickoff)
        fhir.on(.POST, ":type", "$export", body: .collect(maxSize: Self.maxParametersSize), use: patientKickoff)
        fhir.get(":type", ":id", "$export", use: groupKickoff)
        fhir.on(.POST, ":type", ":id", "$export", body: .collect(maxSize: Self.maxParametersSize), use: groupKickoff)
        fhir.get("$export-status", ":job", use: status)
        fhir.delete("$export-status", ":job", use: cancel)
        fhir.get("$export-file", ":job", ":file", use: file)
    }

    static let ndjson = "application/fhir+ndjson"
    /// A POST kick-off's Parameters: room for some thousands of `patient` references.
    static let maxParametersSize: ByteCount = "1mb"

    /// Clinicians only. FHIR resources carry identified data and no de-identified FHIR export
    /// exists, so researchers are refused (the de-identified JSON API is theirs).
    static func exporter(_ req: Request) async throws -> Principal {
        let principal = try await req.principal()
        switch principal.role {
        case .clinician: return principal
        case .researcher:
            throw FHIRError(.forbidden, .forbidden, "researchers cannot use $export: it writes identified FHIR resources and CalciTrack has no de-identified FHIR export; use the de-identified JSON API")
        case .admin:
            throw FHIRError(.forbidden, .forbidden, "admins manage users and sites; patient data needs the clinician role")
        }
    }

    @Sendable func systemKickoff(req: Request) async throws -> Response { try await kickoff(req, try await Self.exporter(req), level: .system) }

    /// Patient/$export: every resource CalciTrack exports is in a patient's compartment, so it
    /// exports what the system-level export does.
    @Sendable func patientKickoff(req: Request) async throws -> Response {
        guard req.parameters.get("type") == "Patient" else {
            throw FHIRError(.notFound, .notSupported, Self.levels)
        }
        return try await kickoff(req, try await Self.exporter(req), level: .patient)
    }

    static let levels = "$export is supported on the system (/fhir/$export), Patient (/fhir/Patient/$export) and a Group (/fhir/Group/<id>/$export)"

    /// Group/<id>/$export: the patients of the Group's site (a site of the caller's).
    @Sendable func groupKickoff(req: Request) async throws -> Response {
        guard req.parameters.get("type") == FHIRGroups.resourceType else { throw FHIRError(.notFound, .notSupported, Self.levels) }
        let principal = try await Self.exporter(req)
        let site = try await FHIRGroups.site(req.parameters.get("id") ?? "", principal, on: req.db)
        return try await kickoff(req, principal, level: .group, group: site)
    }

    func kickoff(_ req: Request, _ principal: Principal, level: BulkExportKickoff.Level, group: Site? = nil) async throws -> Response {
        // A Group export reads the Group's site only; the others, every site of the caller's.
        let siteIDs: Set<UUID> = group.map { [$0.id!] } ?? principal.siteIDs
        let viaPost = req.method == .POST
        // A POST takes its parameters from the Parameters body; its query string must be empty,
        // so nothing sent is ignored.
        if viaPost, let query = req.url.query, !query.isEmpty {
            throw FHIRError(.badRequest, .notSupported, "a POST $export takes its parameters in the Parameters body, not the query string (got \(query))", at: "url")
        }
        let request = try BulkExportKickoff.parse(accept: req.headers.first(name: .accept), prefer: req.headers.first(name: "Prefer"),
                                                  pairs: viaPost ? try BulkExportKickoff.pairs(parameters: req.body.data) : FHIRSearch.pairs(req),
                                                  level: level, viaPost: viaPost)
        if let patients = request.patients {
            try await Self.checkExportable(patients, within: siteIDs, scope: group.map { "a member of Group/\($0.id!.lowercasedString)" } ?? "a patient you can export", on: req.db)
        }
        let runner = req.application.bulkExports
        try await runner.purgeExpired(on: req.db)
        let base = FHIRReadController.baseURL(req)
        let requestURL = "http://\(req.headers.first(name: .host) ?? "localhost")" + req.url.string
        let job = BulkExportJob(id: UUID(), ownerID: principal.userID, ownerUsername: principal.username, requestURL: requestURL,
                                types: request.types, since: request.since, transactionTime: Date())
        job.heartbeatAt = job.transactionTime
        let jobID = job.id!.lowercasedString
        var detail = "types \(job.typesText)"
        if let since = request.since { detail += "; _since \(ISOTimestamp.iso(since))" }
        if !request.filterTexts.isEmpty { detail += "; _typeFilter " + request.filterTexts.joined(separator: " , ") }
        if !request.elements.isEmpty {
            detail += "; _elements " + request.elements.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue): \($0.value.sorted().joined(separator: ","))" }.joined(separator: "; ")
        }
        if let group { detail += "; Group/\(group.id!.lowercasedString) (site \(group.code))" }
        detail += request.patients.map { "; \($0.count) patient(s) named" } ?? (group == nil ? "; sites of \(principal.username)" : "")
        // A named patient's export is in that patient's audit trail (who read my record?).
        let events = [AuditEvent(action: "export", resourceType: "fhir/$export", resourceID: jobID, detail: detail)]
            + (request.patients ?? []).map { AuditEvent(action: "export", resourceType: "fhir/$export", resourceID: jobID, patientID: $0.lowercasedString, detail: detail) }
        try await AuditLog.write(on: req.db, actor: try await req.auditActor) { tx in
            try await job.create(on: tx)
            return ((), events)
        }
        await runner.start(job, siteIDs: siteIDs, filters: request.filters, patients: request.patients, elements: request.elements,
                           db: req.application.db, today: req.today, logger: req.logger)
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentLocation, value: "\(base)/$export-status/\(jobID)")
        return FHIRResponse.json(OperationOutcome(.information, .informational, "export \(jobID) started; poll the Content-Location URL").json,
                                 status: .accepted, headers: headers)
    }

    /// `patient`: each must be a patient of `sites` (the caller's, or the Group's site), not deleted.
    /// Bulk Data 2.0 asks for an error naming the patients not present (or not members of the
    /// Group); an unknown id and one of another site get the same answer, which reveals nothing.
    static func checkExportable(_ patients: [UUID], within sites: Set<UUID>, scope: String, on db: any Database) async throws {
        var found = Set<UUID>()
        for chunk in patients.chunked(500) {
            let rows = try await Patient.query(on: db).filter(\.$id ~~ Array(chunk)).all()  // soft-deleted patients are left out
            for p in rows where sites.contains(p.$site.id) { found.insert(p.id!) }
        }
        let missing = patients.filter { !found.contains($0) }
        guard missing.isEmpty else {
            throw FHIRError(.badRequest, OperationOutcome(missing.prefix(50).map { id in
                OperationOutcome.Issue(.error, .notFound, "patient Patient/\(id.lowercasedString) is not \(scope) (no such patient, deleted, or at another site)", at: ["patient"])
            }))
        }
    }

    /// The caller's job, after expired ones are deleted; 404 for an unknown job or another user's.
    static func ownJob(_ req: Request) async throws -> (BulkExportJob, UUID) {
        let principal = try await exporter(req)
        let text = req.parameters.get("job") ?? ""
        try await req.application.bulkExports.purgeExpired(on: req.db)
        guard let id = UUID(uuidString: text), let job = try await BulkExportJob.find(id, on: req.db), job.ownerID == principal.userID else {
            throw FHIRError(.notFound, .notFound, "export \(text) is not known (exports are deleted \(Int(BulkExportRunner.lifetime / 3600)) h after they start)")
        }
        return (job, id)
    }

    @Sendable func status(req: Request) async throws -> Response {
        var (job, id) = try await Self.ownJob(req)
        let runner = req.application.bulkExports
        if job.state == .running, !(await runner.isRunning(id)) {
            // No task of this process runs it: it finished just now, another server process
            // runs it (its heartbeat is recent), or a restart cut it off (none for a while).
            job = try await BulkExportJob.find(id, on: req.db) ?? job
            if job.state == .running, job.isCutOff(now: Date()) {
                job.stateText = BulkExportJob.State.failed.rawValue
                job.error = "the server stopped while this export ran (no sign of it for over \(Int(BulkExportRunner.heartbeatTimeout)) s); start a new export"
                job.finishedAt = Date()
                try await job.update(on: req.db)
            }
        }
        switch job.state {
        case .running:
            var headers = HTTPHeaders()
            headers.replaceOrAdd(name: "X-Progress", value: job.progress)
            headers.replaceOrAdd(name: .retryAfter, value: "2")
            return Response(status: .accepted, headers: headers)
        case .complete:
            let base = FHIRReadController.baseURL(req)
            var manifest = JSONObject([
                ("transactionTime", .string(ISOTimestamp.isoMillis(job.transactionTime))),
                ("request", .string(job.requestURL)),
                ("requiresAccessToken", .bool(true)),
                ("output", .array(job.outputs.map { output in
                    .object(JSONObject([("type", .string(output.type.rawValue)),
                                        ("url", .string("\(base)/$export-file/\(id.lowercasedString)/\(output.type.rawValue).ndjson")),
                                        ("count", .number(Double(output.count)))]))
                })),
                ("error", .array([])),
            ])
            // A `_since` export lists what was deleted since (Bulk Data 2.0 manifest `deleted`), empty when nothing was.
            if let bundles = job.deletedBundles {
                manifest["deleted"] = .array(bundles == 0 ? [] : [.object(JSONObject([
                    ("type", "Bundle"), ("url", .string("\(base)/$export-file/\(id.lowercasedString)/\(BulkExportJob.deletedFile)")),
                    ("count", .number(Double(bundles))),
                ]))])
            }
            var headers = HTTPHeaders()
            headers.replaceOrAdd(name: .contentType, value: "application/json")
            headers.replaceOrAdd(name: .expires, value: FHIRDates.httpDate(job.transactionTime.addingTimeInterval(BulkExportRunner.lifetime)))
            return Response(status: .ok, headers: headers, body: .init(string: JSONWriter.write(.object(manifest), pretty: false)))
        case .failed, nil:
            throw FHIRError(.internalServerError, .exception, job.error ?? "the export failed")
        }
    }

    @Sendable func cancel(req: Request) async throws -> Response {
        let (_, id) = try await Self.ownJob(req)
        try await req.application.bulkExports.remove(id, on: req.db)
        try await req.recordAudit([AuditEvent(action: "export-cancel", resourceType: "fhir/$export", resourceID: id.lowercasedString)],
                                  actor: try await req.auditActor)
        return FHIRResponse.json(OperationOutcome(.information, .informational, "export \(id.lowercasedString) cancelled and its files deleted").json,
                                 status: .accepted)
    }

    @Sendable func file(req: Request) async throws -> Response {
        let (job, id) = try await Self.ownJob(req)
        let name = req.parameters.get("file") ?? ""
        if name == BulkExportJob.deletedFile, job.state == .complete, let bundles = job.deletedBundles, bundles > 0 {
            return try await Self.serve(req, id: id, name: name, path: "\(req.application.bulkExports.jobDirectory(id))/\(name)",
                                        detail: "\(bundles) Bundle(s) of deleted resources")
        }
        guard job.state == .complete, name.hasSuffix(".ndjson"),
              let type = FHIRResourceType(rawValue: String(name.dropLast(".ndjson".count))),
              let output = job.outputs.first(where: { $0.type == type }) else {
            throw FHIRError(.notFound, .notFound, "export \(id.lowercasedString) has no file \(name)")
        }
        return try await Self.serve(req, id: id, name: name, path: req.application.bulkExports.file(id, type), detail: "\(output.count) \(type.rawValue) resource(s)")
    }

    /// Streams one of a job's files, after its download is audited.
    static func serve(_ req: Request, id: UUID, name: String, path: String, detail: String) async throws -> Response {
        guard FileManager.default.fileExists(atPath: path) else { throw FHIRError(.notFound, .notFound, "export \(id.lowercasedString) has no file \(name)") }
        try await req.recordAudit([AuditEvent(action: "export-download", resourceType: "fhir/$export", resourceID: "\(id.lowercasedString)/\(name)",
                                              detail: detail)], actor: try await req.auditActor)
        let response = try await req.fileio.asyncStreamFile(at: path)
        response.headers.replaceOrAdd(name: .contentType, value: Self.ndjson)
        return response
    }
}
