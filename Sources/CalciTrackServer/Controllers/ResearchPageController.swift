import CalciTrackCore
import Fluent
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
        async let patientsLoad = Patient.query(on: req.db).sort(\.$id).all()
        async let lesionsLoad = LesionRecord.query(on: req.db).all()
        let (patients, lesions) = try await (patientsLoad, lesionsLoad)
        var model = ResearchOverview(patients: patients, lesions: lesions, today: today)
        for p in patients.prefix(Self.responseSample) {
            let records = try await RegistryCase.records(of: p.id!, on: req.db)
            guard !records.lesions.isEmpty else { continue }
            let decoded = try RegistryCase.decode(RegistryCase.json(patient: p, records: records, asOf: today), today: today)
            for lesion in Assessor().assess(decoded).lesions { model.responses[lesion.response, default: 0] += 1 }
        }
        model.responsePatients = min(patients.count, Self.responseSample)
        try await req.recordAudit([AuditEvent(action: "read", resourceType: "registry-overview", detail: "web overview of \(patients.count) patient(s), de-identified aggregates")],
                                  actor: try await req.auditActor)
        return .html(ResearchPage(ctx: ctx, model: model).render())
    }

    @Sendable func export(req: Request) async throws -> Response {
        _ = try await req.require(.researcher)
        let (csv, count) = try await RegistryExport.rows(on: req.db, today: req.today)
        try await req.recordAudit([AuditEvent(action: "export", resourceType: "patients", detail: "de-identified CSV (web), \(count) patient(s)")],
                                  actor: try await req.auditActor)
        return Self.download(csv, filename: "calcitrack-deidentified-\(req.today).csv")
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

    init(patients: [Patient], lesions: [LesionRecord], today: LocalDate) {
        self.patients = patients.count
        self.lesions = lesions.count
        openLesions = lesions.filter { $0.status == "active" }.count
        let byPatient = Dictionary(grouping: lesions, by: \.patientID)
        withLesions = byPatient.count
        activeInfection = patients.filter(\.activeInfection).count
        worsening = patients.filter(\.worseningLesion).count
        for p in patients {
            followUp[PatientSummary.followUpStatus(lastContact: p.lastContact, nextDue: p.nextDue, unhealed: p.hasUnhealedLesion, today: today), default: 0] += 1
        }
        siteCounts = Self.siteGroups.map { group in (group, byPatient.values.filter { $0.contains { group.sites.contains($0.site ?? "other") } }.count) }
        let morph = Dictionary(grouping: lesions, by: { $0.morphology ?? "not recorded" }).mapValues(\.count)
        morphology = morph.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.map { ($0.key, $0.value) }
    }
}
