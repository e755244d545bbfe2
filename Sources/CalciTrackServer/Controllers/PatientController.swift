import CalciTrackCore
import Fluent
import Vapor

/// Patients: search and worklist, create, read, update (If-Match), delete (If-Match, soft).
struct PatientController: Sendable {
    func register(_ api: any RoutesBuilder) {
        api.get("patients", use: list)
        api.post("patients", use: create)
        api.get("patients", ":id", use: read)
        api.put("patients", ":id", use: update)
        api.delete("patients", ":id", use: delete)
    }

    static let followUpFilters = ["lost", "overdue", "due", "ok", "no-visits", "needs-attention"]
    static let sortOrders = ["name", "nextDue", "lastContact"]

    /// `GET /api/v1/patients`: search (q: name or MRN prefix) and worklist filters (site,
    /// activeInfection, followUp, worsening, sepsisScreen, highAlert, bodySite), paged by limit/offset.
    @Sendable func list(req: Request) async throws -> Response {
        let principal = try await req.require(.clinician, .researcher)
        let today = req.today
        var issues: [FieldIssue] = []
        func bool(_ name: String) -> Bool? {
            guard let text = req.query[String.self, at: name] else { return nil }
            switch text { case "true": return true; case "false": return false
            default: issues.append(FieldIssue(field: name, value: .string(text), message: "\(name) must be true or false")); return nil }
        }
        func int(_ name: String, _ range: ClosedRange<Int>, _ fallback: Int) -> Int {
            guard let text = req.query[String.self, at: name] else { return fallback }
            guard let n = Int(text), range.contains(n) else {
                issues.append(FieldIssue(field: name, value: .string(text), message: "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")); return fallback
            }
            return n
        }
        let q = req.query[String.self, at: "q"]?.trimmingCharacters(in: .whitespaces)
        if let q, !q.isEmpty, principal.role == .researcher {
            issues.append(FieldIssue(field: "q", value: .string(q), message: "researchers cannot search by name or MRN (de-identified access)"))
        }
        let siteText = req.query[String.self, at: "site"]
        let site = siteText.flatMap(UUID.init(uuidString:))
        if let siteText, site == nil { issues.append(FieldIssue(field: "site", value: .string(siteText), message: "site must be a site id (UUID)")) }
        let activeInfection = bool("activeInfection")
        let worsening = bool("worsening")
        let sepsisScreen = bool("sepsisScreen")
        let highAlert = bool("highAlert")
        let followUp = req.query[String.self, at: "followUp"]
        if let followUp, !Self.followUpFilters.contains(followUp) {
            issues.append(FieldIssue(field: "followUp", value: .string(followUp), message: "followUp must be one of: \(Self.followUpFilters.joined(separator: ", "))"))
        }
        let bodySite = req.query[String.self, at: "bodySite"]
        if let bodySite, BodySite(rawValue: bodySite) == nil {
            issues.append(FieldIssue(field: "bodySite", value: .string(bodySite), message: "bodySite must be one of: \(BodySite.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        let sort = req.query[String.self, at: "sort"] ?? Self.defaultSort(followUp: followUp)
        if !Self.sortOrders.contains(sort) {
            issues.append(FieldIssue(field: "sort", value: .string(sort), message: "sort must be one of: \(Self.sortOrders.joined(separator: ", "))"))
        }
        let limit = int("limit", 1...200, 50)
        let offset = int("offset", 0...10_000_000, 0)
        if !issues.isEmpty { throw APIError(validation: issues) }

        // Same role, sites, filters, page and day: the same answer until the next write (WorklistCache).
        // Follow-up status moves with the calendar: bring the stored one to today first (012).
        try await WorklistStanding.refresh(on: req.db, today: today)
        let cache = req.application.worklistCache
        let version = try await AuditLog.dataVersion(on: req.db)
        let countKey = Self.cacheKey(principal: principal, today: today,
                                     [q, siteText, activeInfection.map(String.init), worsening.map(String.init), followUp, bodySite,
                                      sepsisScreen.map(String.init), highAlert.map(String.init)])
        let pageKey = countKey + "\u{1F}" + [sort, String(limit), String(offset)].joined(separator: "\u{1F}")
        let page: WorklistCache.Page
        if let cached = cache.page(pageKey, version: version) {
            page = cached
        } else {
            var query = Patient.query(on: req.db)
            if principal.role == .clinician { query = query.filter(\.$site.$id ~~ Array(principal.siteIDs)) }
            if let site { query = query.filter(\.$site.$id == site) }
            if let q, !q.isEmpty { query = query.matching(search: q) }
            if let activeInfection { query = query.filter(\.$activeInfection == activeInfection) }
            if let worsening { query = query.filter(\.$worseningLesion == worsening) }
            if let sepsisScreen { query = query.filter(\.$sepsisScreenPositive == sepsisScreen) }
            if let highAlert { query = query.filter(\.$highAlert == highAlert) }
            if let bodySite { query = query.filter(\.$bodySites, .contains(inverse: false, .anywhere), ",\(bodySite),") }
            if let followUp { query = Self.filter(query, followUp: followUp) }
            let total: Int
            if let cached = cache.count(countKey, version: version) {
                total = cached
            } else {
                // COUNT(site_id), not Fluent's COUNT(id): site_id is NOT NULL, so the number is the
                // same, and it is in every worklist index, so the count reads the index alone (007).
                total = try await query.count(\.$site.$id)
                cache.store(count: total, for: countKey, version: version)
            }
            switch sort {
            case "nextDue": query = query.sort(\.$nextDue).sort(\.$familyName)
            case "lastContact": query = query.sort(\.$lastContact).sort(\.$familyName)
            default: query = query.sort(\.$familyName).sort(\.$givenName)
            }
            let patients = try await query.sort(\.$id).range(offset..<(offset + limit)).all()
            let siteCodes = try await Self.siteCodes(on: req.db, version: version, cache: cache)
            let items: [JSONValue] = patients.map { p in
                p.apiJSON(principal.role == .researcher ? DateShift(days: p.dateShiftDays) : .none, today: today, siteCode: siteCodes[p.$site.id])
            }
            let body = JSONValue.object(JSONObject([("total", .number(Double(total))), ("limit", .number(Double(limit))),
                                                    ("offset", .number(Double(offset))), ("items", .array(items))]))
            page = WorklistCache.Page(body: JSONWriter.write(body, pretty: false),
                                      ids: patients.compactMap { $0.id?.lowercasedString }, total: total)
            cache.store(page: page, for: pageKey, version: version)
        }
        try await req.recordAudit([AuditEvent(action: "search", resourceType: "patients",
                                              detail: "query \(req.url.query ?? ""); \(page.total) match(es); returned " + page.ids.joined(separator: " "))],
                                  actor: try await req.auditActor)
        var headers = HTTPHeaders()
        headers.contentType = .json
        return Response(status: .ok, headers: headers, body: .init(string: page.body))
    }

    /// A worklist is read most urgent first: the longest lost, or the most overdue; a search by name.
    static func defaultSort(followUp: String?) -> String {
        switch followUp {
        case "lost": "lastContact"
        case nil, "no-visits": "name"
        default: "nextDue"
        }
    }

    /// Follow-up status filters over the stored status (`WorklistStanding`, current once
    /// `WorklistStanding.refresh` has run for `today`); "needs-attention" is lost, overdue or due.
    static func filter(_ query: QueryBuilder<Patient>, followUp: String) -> QueryBuilder<Patient> {
        followUp == "needs-attention"
            ? query.filter(\.$followUpStatus ~~ ["lost", "overdue", "due"])
            : query.filter(\.$followUpStatus == followUp)
    }

    /// What a worklist answer depends on besides the data: who asks (the role decides
    /// de-identification; a clinician sees their sites), the day (follow-up status moves with
    /// it), and the filters.
    static func cacheKey(principal: Principal, today: LocalDate, _ filters: [String?]) -> String {
        let sites = principal.role == .clinician ? principal.siteIDs.map(\.uuidString).sorted().joined(separator: ",") : "*"
        return ([today.description, principal.role.rawValue, sites] + filters.map { $0 ?? "-" }).joined(separator: "\u{1F}")
    }

    static func siteCodes(on db: any Database) async throws -> [UUID: String] {
        Dictionary(uniqueKeysWithValues: try await Site.query(on: db).all().compactMap { s in s.id.map { ($0, s.code) } })
    }

    static func siteCodes(on db: any Database, version: Int, cache: WorklistCache) async throws -> [UUID: String] {
        if let cached = cache.siteCodes(version: version) { return cached }
        let codes = try await siteCodes(on: db)
        cache.store(siteCodes: codes, version: version)
        return codes
    }

    @Sendable func create(req: Request) async throws -> Response {
        let principal = try await req.require(.clinician)
        let input = try PatientInput.validate(try req.jsonObject(), today: req.today)
        guard principal.siteIDs.contains(input.siteID) else {
            throw APIError.invalid("siteId", .string(input.siteID.lowercasedString), "siteId must be one of your sites")
        }
        let today = req.today
        let patient = try await AuditLog.write(on: req.db, actor: try await req.auditActor) { tx in
            if try await Patient.query(on: tx).filter(\.$site.$id == input.siteID).filter(\.$mrn == input.mrn).withDeleted().count() > 0 {
                throw APIError.invalid("mrn", .string(input.mrn), "a patient with this MRN already exists at this site")
            }
            let patient = Patient()
            input.store(in: patient)
            patient.dateShiftDays = Self.randomShift()
            patient.version = 1
            patient.createdBy = principal.username
            patient.updatedBy = principal.username
            let summary = try PatientSummary.compute(patient: patient, records: .empty, today: today)
            summary.store(in: patient)
            try await patient.create(on: tx)
            try await RegistryCase.storeSections(summary.caseRecords, of: patient.requireID(), on: tx)
            return (patient, [AuditEvent(action: "create", resourceType: "patients", resourceID: patient.id?.lowercasedString,
                                         patientID: patient.id?.lowercasedString, detail: "version 1")])
        }
        return try await respond(patient, req: req, status: .created)
    }

    /// REDCap-style date shifting: a per-patient offset of 1-364 days back, drawn once.
    static func randomShift() -> Int { -Int.random(in: 1...364) }

    @Sendable func read(req: Request) async throws -> Response {
        let principal = try await req.principal()
        let id = try req.uuidParameter("id", "patient")
        let (patient, shift) = try await PatientAccess.load(id, principal, .read, on: req.db)
        try await req.recordAudit([AuditEvent(action: "read", resourceType: "patients", resourceID: id.lowercasedString, patientID: id.lowercasedString)],
                                  actor: try await req.auditActor)
        return try await respond(patient, req: req, shift: shift)
    }

    @Sendable func update(req: Request) async throws -> Response {
        let principal = try await req.principal()
        let id = try req.uuidParameter("id", "patient")
        let expected = try VersionCheck.required(req)
        let input = try PatientInput.validate(try req.jsonObject(), today: req.today)
        let today = req.today
        let patient = try await AuditLog.write(on: req.db, actor: try await req.auditActor) { tx in
            let (patient, _) = try await PatientAccess.load(id, principal, .write, on: tx)
            try VersionCheck.check(expected, current: patient.version, what: "patient")
            guard principal.siteIDs.contains(input.siteID) else {
                throw APIError.invalid("siteId", .string(input.siteID.lowercasedString), "siteId must be one of your sites")
            }
            if try await Patient.query(on: tx).filter(\.$site.$id == input.siteID).filter(\.$mrn == input.mrn).filter(\.$id != id).withDeleted().count() > 0 {
                throw APIError.invalid("mrn", .string(input.mrn), "a patient with this MRN already exists at this site")
            }
            let born = input.body["birthDate"]?.stringValue
            if let violation = try await BirthDateCheck.storedViolation(patientID: id, oldBirthDate: patient.birthDate, newBirthDate: born, on: tx) {
                throw BirthDateCheck.storedError(violation, birthDate: born ?? "")
            }
            input.store(in: patient)
            patient.version += 1
            patient.updatedBy = principal.username
            try await patient.update(on: tx)
            try await PatientSummary.refresh(id, on: tx, today: today)
            return (patient, [AuditEvent(action: "update", resourceType: "patients", resourceID: id.lowercasedString,
                                         patientID: id.lowercasedString, detail: "version \(patient.version)")])
        }
        guard let fresh = try await Patient.find(id, on: req.db) else { throw APIError.notFound("patient") }
        _ = patient
        return try await respond(fresh, req: req)
    }

    @Sendable func delete(req: Request) async throws -> Response {
        let principal = try await req.principal()
        let id = try req.uuidParameter("id", "patient")
        let expected = try VersionCheck.required(req)
        try await AuditLog.write(on: req.db, actor: try await req.auditActor) { tx in
            let (patient, _) = try await PatientAccess.load(id, principal, .write, on: tx)
            try VersionCheck.check(expected, current: patient.version, what: "patient")
            try await patient.delete(on: tx)
            return ((), [AuditEvent(action: "delete", resourceType: "patients", resourceID: id.lowercasedString,
                                    patientID: id.lowercasedString, detail: "version \(patient.version) deleted (kept, hidden)")])
        }
        return Response(status: .noContent)
    }

    private func respond(_ patient: Patient, req: Request, status: HTTPResponseStatus = .ok, shift: DateShift = .none) async throws -> Response {
        let code = try await Site.find(patient.$site.id, on: req.db)?.code
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .eTag, value: VersionCheck.etag(patient.version))
        if status == .created, let id = patient.id { headers.replaceOrAdd(name: .location, value: "/api/v1/patients/\(id.lowercasedString)") }
        return Response.json(patient.apiJSON(shift, today: req.today, siteCode: code), status: status, headers: headers)
    }
}
