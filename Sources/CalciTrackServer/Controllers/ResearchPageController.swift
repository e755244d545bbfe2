import CalciTrackCore
import Fluent
import SQLKit
import Vapor

/// The registry overview for researchers (counts, lesion sites beside the published
/// frequencies, morphology, response rates) and the de-identified CSV export with its REDCap
/// data dictionary. Researcher role only: clinicians see their sites' patients, not the registry.
struct ResearchPageController: Sendable {
    /// Response rates need the engine per patient; beyond this many patients the page says how
    /// many it assessed instead of taking minutes.
    static let responseSample = 500

    func register(_ pages: any RoutesBuilder) {
        pages.get("research", use: overview)
        pages.get("research", "export.csv", use: export)
        pages.get("research", "dictionary.csv", use: dictionary)
    }

    @Sendable func overview(req: Request) async throws -> Response {
        let ctx = try await req.webContext()
        _ = try await req.require(.researcher)
        let today = req.today
        var model = try await ResearchOverview.load(on: req.db, today: today)
        // Response rates need the engine; a sample of patients with lesions, in id order.
        let sample = try await Patient.query(on: req.db).filter(\.$bodySites != nil).sort(\.$id).limit(Self.responseSample).all()
        for p in sample {
            let records = try await RegistryCase.records(of: p.id!, on: req.db)
            let decoded = try RegistryCase.decode(RegistryCase.json(patient: p, records: records, asOf: today), today: today)
            for lesion in Assessor().assess(decoded).lesions { model.responses[lesion.response, default: 0] += 1 }
        }
        model.responsePatients = sample.count
        try await req.recordAudit([AuditEvent(action: "read", resourceType: "registry-overview", detail: "web overview of \(model.patients) patient(s), de-identified aggregates")],
                                  actor: try await req.auditActor)
        return .html(ResearchPage(ctx: ctx, model: model).render())
    }

    /// Streamed in batches, so a registry of any size is exported in bounded memory.
    @Sendable func export(req: Request) async throws -> Response {
        _ = try await req.require(.researcher)
        let count = try await Patient.query(on: req.db).count()
        try await req.recordAudit([AuditEvent(action: "export", resourceType: "patients", detail: "de-identified CSV (web), \(count) patient(s)")],
                                  actor: try await req.auditActor)
        let db = req.db, today = req.today
        let response = Self.download("", filename: "calcitrack-deidentified-\(today).csv")
        response.body = .init(managedAsyncStream: { writer in
            try await RegistryExport.write(on: db, today: today) { chunk in try await writer.writeBuffer(ByteBuffer(string: chunk)) }
        })
        return response
    }

    @Sendable func dictionary(req: Request) async throws -> Response {
        _ = try await req.require(.researcher)
        return Self.download(RegistryExport.dictionary(), filename: "calcitrack-redcap-dictionary.csv")
    }

    static func download(_ text: String, filename: String) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(filename)\"")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(status: .ok, headers: headers, body: .init(string: text))
    }
}

/// De-identified aggregates of the whole registry.
struct ResearchOverview: Sendable {
    /// Published frequencies of calcinosis sites (clinical-spec 2.2), per patient with calcinosis.
    struct SiteGroup: Sendable {
        let name: String
        let sites: Set<String>
        let published: String
        let source: String
    }

    static let siteGroups: [SiteGroup] = [
        SiteGroup(name: "Hands", sites: ["hand", "finger", "thumb", "wrist"], published: "70 % (65–83 %)", source: "Valenzuela 2020 (V); Seed-1 citing Elahmar 2022 / Saketkoo 2023 (S)"),
        SiteGroup(name: "Thumbs", sites: ["thumb"], published: "19 %", source: "Valenzuela 2020 (V)"),
        SiteGroup(name: "Proximal upper extremity", sites: ["upper-arm", "shoulder", "elbow"], published: "27 %", source: "Seed-1 (S)"),
        SiteGroup(name: "Knee / proximal lower extremity", sites: ["knee", "thigh"], published: "10–22 %", source: "Seed-1 (S)"),
        SiteGroup(name: "Hip", sites: ["hip"], published: "6.7 %", source: "Seed-1 (S)"),
        SiteGroup(name: "Lower leg, ankle, foot", sites: ["lower-leg", "ankle", "foot", "toe"], published: "case reports only", source: "Seed-2 (S)"),
        SiteGroup(name: "Other sites", sites: ["forearm", "face", "jaw", "trunk", "buttock", "other"], published: "not reported", source: "—"),
    ]

    /// Bartoli 2016, visible and palpable calcinoses (n = 154), clinical-spec 2.1.
    static let publishedMorphology = ["stone": "68.2 %", "mousse": "31.8 %", "network": "3 % (non-visible palpable)", "plaque": "13.8 % (non-visible palpable)"]

    var patients = 0
    var withLesions = 0
    var responsePatientsTotal = 0
    var lesions = 0
    var openLesions = 0
    var activeInfection = 0
    var worsening = 0
    var followUp: [String: Int] = [:]
    var siteCounts: [(SiteGroup, Int)] = []
    var morphology: [(String, Int)] = []
    var responses: [String: Int] = [:]
    var responsePatients = 0
    var sites: [(String, Int)] = []

    /// Counts by SQL aggregates: nothing per patient is loaded, so the page costs the same at
    /// any registry size.
    static func load(on db: any Database, today: LocalDate) async throws -> ResearchOverview {
        var m = ResearchOverview()
        let sql = db as! any SQLDatabase
        let live = "FROM lesions l JOIN patients p ON p.id = l.patient_id AND p.deleted_at IS NULL WHERE l.deleted_at IS NULL"
        func int(_ query: String) async throws -> Int {
            try await sql.raw(SQLQueryString(query)).first()?.decode(column: "n", as: Int.self) ?? 0
        }
        m.patients = try await Patient.query(on: db).count()
        m.withLesions = try await int("SELECT COUNT(DISTINCT l.patient_id) AS n \(live)")
        m.responsePatientsTotal = m.withLesions
        m.lesions = try await int("SELECT COUNT(*) AS n \(live)")
        m.openLesions = try await int("SELECT COUNT(*) AS n \(live) AND l.status = 'active'")
        m.activeInfection = try await Patient.query(on: db).filter(\.$activeInfection == true).count()
        m.worsening = try await Patient.query(on: db).filter(\.$worseningLesion == true).count()
        try await WorklistStanding.refresh(on: db, today: today)
        for status in ["lost", "overdue", "due", "ok", "no-visits"] {
            m.followUp[status] = try await PatientController.filter(Patient.query(on: db), followUp: status).count()
        }
        for group in siteGroups {
            // Site names come from the fixed vocabulary above, never from input.
            let list = group.sites.sorted().map { "'\($0)'" }.joined(separator: ", ")
            let other = group.sites.contains("other") ? " OR l.site IS NULL" : ""
            m.siteCounts.append((group, try await int("SELECT COUNT(DISTINCT l.patient_id) AS n \(live) AND (l.site IN (\(list))\(other))")))
        }
        let rows = try await sql.raw(SQLQueryString("SELECT COALESCE(l.morphology, 'not recorded') AS m, COUNT(*) AS n \(live) GROUP BY COALESCE(l.morphology, 'not recorded')")).all()
        m.morphology = try rows.map { (try $0.decode(column: "m", as: String.self), try $0.decode(column: "n", as: Int.self)) }
            .sorted { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        return m
    }
}
