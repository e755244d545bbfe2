import CalciTrackCore
import Fluent
import Vapor

/// The patient page and its printable summary. The assessment comes from the one path every
/// client uses (RegistryCase → engine); for researchers the case is date-shifted before it is
/// assessed, exactly like `GET /api/v1/patients/{id}/assessment`, so no real date reaches them.
struct PatientPageController: Sendable {
    func register(_ pages: any RoutesBuilder) {
        pages.get("patients", ":id", use: page)
        pages.get("patients", ":id", "summary", use: summary)
    }

    @Sendable func page(req: Request) async throws -> Response {
        let ctx = try await req.webContext()
        let model = try await Self.load(req, ctx: ctx)
        let saved = req.query[String.self, at: "saved"] != nil
        return .html(PatientPage(ctx: ctx, model: model, savedNotice: saved).render())
    }

    @Sendable func summary(req: Request) async throws -> Response {
        let ctx = try await req.webContext()
        let model = try await Self.load(req, ctx: ctx)
        return .html(PatientSummaryPage(ctx: ctx, model: model).render())
    }

    /// Loads, assesses and audits (a read of the patient and an assessment, like the API).
    static func load(_ req: Request, ctx: WebContext) async throws -> PatientPageModel {
        let id = try req.uuidParameter("id", "patient")
        let (patient, shift) = try await PatientAccess.load(id, ctx.principal, .read, on: req.db)
        let today = req.today
        async let recordsLoad = RegistryCase.records(of: id, on: req.db)
        async let proceduresLoad = ProcedureRecord.query(on: req.db).filter(\.$patientID == id).sort(\.$date).all()
        async let holdsLoad = HoldRecord.query(on: req.db).filter(\.$patientID == id).sort(\.$start).all()
        let (records, procedures, holds) = try await (recordsLoad, proceduresLoad, holdsLoad)
        var json = RegistryCase.json(patient: patient, records: records, asOf: today)
        json = RegistryCase.deidentified(json, by: shift, today: today)
        let decoded = try RegistryCase.decode(json, today: today)
        let assessment = Assessor().assess(decoded)
        let siteCode = try await Site.find(patient.$site.id, on: req.db)?.code ?? ""
        let pid = id.lowercasedString
        try await req.recordAudit([
            AuditEvent(action: "read", resourceType: "patients", resourceID: pid, patientID: pid, detail: "web patient page"),
            AuditEvent(action: "assess", resourceType: "patients", resourceID: pid, patientID: pid, detail: "asOf \(decoded.asOf) (web)"),
        ], actor: try await req.auditActor)
        return PatientPageModel(patient: patient, siteCode: siteCode, shift: shift, caseJSON: json, decoded: decoded, assessment: assessment,
                                records: records, procedures: procedures, holds: holds)
    }
}

/// Everything the patient page shows, already de-identified when `deidentified`.
struct PatientPageModel: Sendable {
    struct LesionView: Sendable {
        let recordID: String
        let label: String
        let place: String
        let status: String           // worsening, active, healed, unknown (the marker colour)
        let recordStatus: String
        /// Findings as of the page's date (labels), e.g. "Ulcerated", "Purulent": those of the
        /// latest measurement with findings, else the lesion's own (the case the engine assessed).
        let findings: [String]
        /// Every dated finding, oldest first (measurements that recorded findings).
        let findingsHistory: [FindingsEntry]
        let metrics: LesionMetrics
    }

    struct FindingsEntry: Sendable {
        let date: String
        let findings: [String]
    }

    /// Labels of the findings set in a case-format findings object, in the form's order.
    static func findingLabels(_ value: JSONValue?) -> [String] {
        guard case .object(let f)? = value else { return [] }
        return VisitForm.findings.filter { f[$0.0] == .bool(true) }.map(\.1)
    }

    struct Event: Sendable {
        let date: String
        let kind: String             // visit, procedure, infection, imaging, medication
        let text: String
    }

    let id: String
    let title: String
    let mrn: String?
    let siteCode: String
    let deidentified: Bool
    let asOf: LocalDate
    let facts: [(String, String)]
    let assessment: Assessment
    let lesions: [LesionView]
    let events: [Event]

    init(patient: Patient, siteCode: String, shift: DateShift, caseJSON: JSONObject, decoded: DecodedCase, assessment: Assessment,
         records: RegistryCase.Records, procedures: [ProcedureRecord], holds: [HoldRecord]) {
        let c = decoded.case
        deidentified = shift.days != 0
        id = patient.id!.lowercasedString
        title = deidentified ? WorklistRow.pseudonym(patient.id!) : "\(patient.familyName), \(patient.givenName)"
        mrn = deidentified ? nil : patient.mrn
        self.siteCode = siteCode
        asOf = decoded.asOf
        self.assessment = assessment
        facts = Self.facts(c, assessment: assessment, asOf: decoded.asOf, deidentified: deidentified)

        // The findings of each lesion in the case the engine assessed (as of the page's date).
        var caseFindings: [String: JSONValue?] = [:]
        if case .array(let lesions)? = caseJSON["lesions"] {
            for case .object(let l) in lesions { if case .string(let id)? = l["id"] { caseFindings[id] = l["findings"] } }
        }
        var lesionsByRecord: [UUID: String] = [:]
        var views: [LesionView] = []
        for record in records.lesions {
            lesionsByRecord[record.id!] = record.label
            guard let m = assessment.lesions.first(where: { $0.id == record.label }) else { continue }
            let place = [m.laterality?.rawValue, m.site?.rawValue].compactMap { $0 }.joined(separator: " ")
            let status: String
            if m.trend == "worsening" || m.trend == "recurred" { status = "worsening" }
            else if m.healed == true { status = "healed" }
            else if m.areas.isEmpty { status = "unknown" }
            else { status = "active" }
            views.append(LesionView(recordID: record.id!.lowercasedString, label: record.label, place: place.isEmpty ? "site not given" : place,
                                    status: status, recordStatus: record.status,
                                    findings: Self.findingLabels(caseFindings[record.label] ?? nil),
                                    findingsHistory: records.measurements.filter { $0.lesionID == record.id && $0.findings != nil }.map {
                                        FindingsEntry(date: shift($0.date)?.stringValue ?? $0.date, findings: Self.findingLabels($0.findingsJSON))
                                    },
                                    metrics: m))
        }
        lesions = views
        events = Self.events(records, procedures: procedures, holds: holds, lesions: lesionsByRecord, shift: shift)
    }

    /// `deidentified`: the case's birth date is top-coded (DeidentifiedAge), so 90 reads "90 or older".
    static func facts(_ c: Case, assessment: Assessment, asOf: LocalDate, deidentified: Bool = false) -> [(String, String)] {
        var facts: [(String, String)] = []
        facts.append(("Age", c.patient.birthDate.map { birth in
            let years = asOf.age(from: birth)
            return deidentified ? DeidentifiedAge.text(years) + (years >= DeidentifiedAge.ceiling ? "" : " years") : "\(years) years"
        } ?? "not recorded"))
        facts.append(("Sex", c.patient.sex?.rawValue ?? "not recorded"))
        facts.append(("SSc subtype", c.ssc?.subtype?.rawValue ?? "not recorded"))
        if let diagnosed = c.ssc?.diagnosisDate {
            let years = diagnosed.earliest.wholeYears(until: asOf)
            facts.append(("Disease duration", "\(years) year\(years == 1 ? "" : "s") (diagnosed \(diagnosed.text))"))
        } else {
            facts.append(("Disease duration", "not recorded"))
        }
        if let a = c.ssc?.antibodies {
            let pairs: [(String, AntibodyStatus)] = [("anti-Scl-70", a.scl70), ("anti-centromere", a.centromere), ("anti-PM-Scl", a.pmScl), ("anti-RNA pol III", a.rnaPolIII)]
            let known = pairs.filter { $0.1 != .unknown }.map { "\($0.0) \($0.1 == .positive ? "+" : "−")" }
            facts.append(("Antibodies", known.isEmpty ? "not recorded" : known.joined(separator: ", ")))
        } else {
            facts.append(("Antibodies", "not recorded"))
        }
        facts.append(("Weight", c.patient.weightKg.map { "\(formatNumber($0)) kg" } ?? "not recorded"))
        let active = c.medications.filter { m in (m.start.map { $0 <= asOf } ?? true) && (m.stop.map { $0 > asOf } ?? true) }
        facts.append(("Active medications", active.isEmpty ? "none recorded" : active.map { m in
            [m.drug, m.doseMg.map { "\(formatNumber($0)) mg" }, m.frequency?.rawValue, m.route?.rawValue].compactMap { $0 }.joined(separator: " ")
        }.joined(separator: "; ")))
        return facts
    }

    /// The story of the record in date order: visits, procedures, infection episodes, imaging,
    /// medication starts, stops and holds. Free-text notes are left out for researchers.
    static func events(_ r: RegistryCase.Records, procedures: [ProcedureRecord], holds: [HoldRecord], lesions: [UUID: String], shift: DateShift) -> [Event] {
        var events: [Event] = []
        let notes = shift.days == 0
        func date(_ iso: String?) -> String? { shift(iso)?.stringValue }
        func lesion(_ id: UUID?) -> String { id.flatMap { lesions[$0] }.map { " (lesion \($0))" } ?? "" }
        for v in r.visits {
            let due = date(v.nextDue).map { "; next due \($0)" } ?? ""
            let note = notes ? (v.note.map { " — \($0)" } ?? "") : ""
            events.append(Event(date: date(v.date) ?? v.date, kind: "visit", text: "Visit (\(v.kind ?? "clinic"))\(due)\(note)"))
        }
        for p in procedures {
            let note = notes ? (p.note.map { " — \($0)" } ?? "") : ""
            events.append(Event(date: date(p.date) ?? p.date, kind: "procedure", text: "Procedure: \(p.kind)\(lesion(p.lesionID))\(note)"))
        }
        for e in r.infections {
            var parts = ["Infection onset\(lesion(e.lesionID))"]
            if let organism = e.organism { parts.append(organism + (e.mrsa == true ? " (MRSA)" : "")) }
            if let antibiotic = e.antibiotic { parts.append("\(antibiotic)\(e.antibioticRoute.map { " \($0)" } ?? "")") }
            parts.append("outcome \(e.outcome)")
            events.append(Event(date: date(e.onset) ?? e.onset, kind: "infection", text: parts.joined(separator: "; ")))
            if let resolved = date(e.resolvedDate) { events.append(Event(date: resolved, kind: "infection", text: "Infection resolved\(lesion(e.lesionID))")) }
        }
        for i in r.imaging {
            events.append(Event(date: date(i.date) ?? i.date, kind: "imaging", text: "Imaging: \(i.modality)\(i.inconclusive == true ? " (inconclusive)" : "")"))
        }
        let drugs = Dictionary(uniqueKeysWithValues: r.medications.compactMap { m in m.id.map { ($0, m.drug) } })
        for m in r.medications {
            let dose = [m.doseMg.map { "\(formatNumber($0)) mg" }, m.frequency, m.route].compactMap { $0 }.joined(separator: " ")
            if let start = date(m.start) { events.append(Event(date: start, kind: "medication", text: "Started \(m.drug)\(dose.isEmpty ? "" : " \(dose)")")) }
            if let stop = date(m.stop) { events.append(Event(date: stop, kind: "medication", text: "Stopped \(m.drug)")) }
        }
        for h in holds {
            let drug = drugs[h.medicationID] ?? "medication"
            events.append(Event(date: date(h.start) ?? h.start, kind: "medication", text: "Held \(drug)" + (notes ? " — \(h.reason)" : "")))
            if let end = date(h.end) { events.append(Event(date: end, kind: "medication", text: "Resumed \(drug)")) }
        }
        // Stable: same-day events keep the order above (visit first).
        return events.enumerated().sorted { ($0.element.date, $0.offset) < ($1.element.date, $1.offset) }.map(\.element)
    }
}
