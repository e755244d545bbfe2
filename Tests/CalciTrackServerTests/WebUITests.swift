@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import Testing
import VaporTesting

/// The web pages (issue 4) through HTTP: sign-in with CSRF, redirects, worklist, patient page,
/// the visit form's all-or-nothing save, de-identification, audit entries, and HTML snapshots
/// of the main pages on fixed data (demo patients, today fixed at 2026-11-24).
@Suite struct WebUITests {
    /// A browser's cookie jar and the page CSRF token, over the test application.
    struct Browser {
        let app: Application
        var cookie: String?

        struct Page {
            let status: HTTPStatus
            let headers: HTTPHeaders
            let html: String
            var location: String? { headers.first(name: .location) }
            /// What a browser sends of the page as it is: ticked checkboxes (e.g. each lesion's
            /// findings as of today on the visit form) and the hidden fields that mark them shown.
            var ticked: [(String, String)] {
                guard let regex = try? NSRegularExpression(pattern: #"name="([^"]+)" value="(on" checked|shown")"#) else { return [] }
                return regex.matches(in: html, range: NSRange(html.startIndex..., in: html)).compactMap { m in
                    guard let name = Range(m.range(at: 1), in: html), let value = Range(m.range(at: 2), in: html) else { return nil }
                    return (String(html[name]), html[value].hasPrefix("on") ? "on" : "shown")
                }
            }

            /// The `_csrf` hidden field of the page's first form.
            var csrf: String? {
                guard let range = html.range(of: "name=\"_csrf\" value=\"") else { return nil }
                return String(html[range.upperBound...].prefix { $0 != "\"" })
            }
        }

        mutating func get(_ path: String) async throws -> Page {
            try await send(.GET, path, form: nil)
        }

        mutating func post(_ path: String, _ form: [(String, String)]) async throws -> Page {
            try await send(.POST, path, form: form)
        }

        /// Posts a form as a browser would: the page's ticked checkboxes, then `fields`.
        mutating func submit(_ path: String, from page: Page, _ fields: [(String, String)]) async throws -> Page {
            let given = Set(fields.map(\.0))
            return try await post(path, page.ticked.filter { !given.contains($0.0) } + fields)
        }

        private mutating func send(_ method: HTTPMethod, _ path: String, form: [(String, String)]?) async throws -> Page {
            var headers = HTTPHeaders()
            if let cookie { headers.add(name: .cookie, value: cookie) }
            var body: ByteBuffer?
            if let form {
                headers.contentType = .urlEncodedForm
                let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
                body = ByteBuffer(string: form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&"))
            }
            let response = try await app.testing().sendRequest(method, path, headers: headers, body: body) { req in req.url = URI(string: path) }
            if let set = response.headers.first(name: .setCookie), let pair = set.split(separator: ";").first { cookie = String(pair) }
            return Page(status: response.status, headers: response.headers, html: response.body.string)
        }

        /// Signs in through the login form.
        mutating func signIn(_ user: String, password: String = TestRegistry.password) async throws -> Page {
            let login = try await get("/login")
            return try await post("/login", [("_csrf", login.csrf ?? ""), ("username", user), ("password", password), ("next", "/")])
        }
    }

    /// A registry with the demo patients and a clinician of the demo site (`demoClin`).
    static func run(_ body: (TestRegistry, Browser) async throws -> Void) async throws {
        try await TestRegistry.run(demo: true) { r in
            try await Accounts.addUser(username: "demoClin", role: "clinician", password: TestRegistry.password, siteCodes: [DemoData.siteCode],
                                       actor: "test", bcryptCost: 4, on: r.app.db)
            try await body(r, Browser(app: r.app))
        }
    }

    static func patientID(_ r: TestRegistry, mrn: String) async throws -> String {
        try await Patient.query(on: r.app.db).filter(\.$mrn == mrn).first()!.id!.uuidString.lowercased()
    }

    @Test("Pages need sign-in: anonymous requests are sent to the login page and back afterwards")
    func signInRequired() async throws {
        try await Self.run { r, b in
            var b = b
            let page = try await b.get("/?status=all")
            #expect(page.status == .seeOther)
            #expect(page.location == "/login?next=/%3Fstatus%3Dall")
            let css = try await b.get("/static/app.css")
            #expect(css.status == .ok && css.headers.first(name: .cacheControl) == "public, max-age=3600" && css.html.contains("@media print"))
            let signedIn = try await b.signIn("demoClin")
            #expect(signedIn.status == .seeOther && signedIn.location == "/")
            let home = try await b.get("/")
            #expect(home.status == .ok && home.html.contains("data-role=\"clinician\"") && home.html.contains(">demoClin<"))
            let out = try await b.post("/logout", [("_csrf", home.csrf ?? "")])
            #expect(out.status == .seeOther && out.location == "/login?signedOut=1")
            #expect(try await b.get("/").status == .seeOther)
        }
    }

    @Test("Login: a wrong password shows the error on the page and is audited; a form without its CSRF token is refused")
    func loginErrors() async throws {
        try await Self.run { r, b in
            var b = b
            let login = try await b.get("/login")
            let wrong = try await b.post("/login", [("_csrf", login.csrf ?? ""), ("username", "demoClin"), ("password", "nope"), ("next", "/")])
            #expect(wrong.status == .unauthorized && wrong.html.contains("Wrong username or password."))
            #expect(wrong.html.contains("value=\"demoClin\""))
            let failed = try await AuditEntry.query(on: r.app.db).filter(\.$action == "login-failed").count()
            #expect(failed == 1)
            let forged = try await b.post("/login", [("_csrf", "forged"), ("username", "demoClin"), ("password", TestRegistry.password)])
            #expect(forged.status == .forbidden)
            // Five failures in a row for a username (LoginThrottle): the form says when to try again, 429.
            for _ in 0..<4 { _ = try await b.post("/login", [("_csrf", login.csrf ?? ""), ("username", "demoRes"), ("password", "nope")]) }
            _ = try await b.post("/login", [("_csrf", login.csrf ?? ""), ("username", "demoRes"), ("password", "nope")])
            let throttled = try await b.post("/login", [("_csrf", login.csrf ?? ""), ("username", "demoRes"), ("password", TestRegistry.password)])
            #expect(throttled.status == .tooManyRequests && throttled.html.contains("Too many failed sign-in attempts. Try again in 15 minutes."), "\(throttled.html)")
            let wait = Int(throttled.headers.first(name: "Retry-After") ?? "") ?? 0
            #expect(wait > 14 * 60 && wait <= 15 * 60, "\(throttled.headers)")
            // Signed in, a form post without the session's token is refused (HTML, not JSON).
            _ = try await b.signIn("demoClin")
            let noToken = try await b.post("/logout", [])
            #expect(noToken.status == .forbidden && noToken.html.contains("<h1>403 Forbidden</h1>"))
            // Open redirects are not followed.
            let login2 = try await b.get("/login?next=//evil.example")
            #expect(login2.status == .seeOther && login2.location == "/")
        }
    }

    @Test("Worklist: patients needing attention first, each with its reasons; search by MRN; audited as a search")
    func worklist() async throws {
        try await Self.run { r, b in
            var b = b
            _ = try await b.signIn("demoClin")
            let before = try await AuditEntry.query(on: r.app.db).filter(\.$action == "search").count()
            let page = try await b.get("/")
            #expect(page.status == .ok)
            let seed1 = try #require(page.html.range(of: "Seed, One")), seed2 = try #require(page.html.range(of: "Seed, Two"))
            #expect(seed1.lowerBound < seed2.lowerBound)
            // Seed 1's infection is severe because the engine, given the admission day's findings
            // (dated with that day's measurement), triages it so; stored by PatientSummary.
            #expect(page.html.contains("Open infection since 2023-09-01: severe at onset, not re-triaged since"))
            #expect(page.html.contains("Sepsis screen positive at onset (SIRS 3/4: temperature, heart rate, WBC)"))
            #expect(page.html.contains("Lesion worsening or recurred"))
            #expect(try await AuditEntry.query(on: r.app.db).filter(\.$action == "search").count() == before + 1)
            let search = try await b.get("/?q=SEED-2")
            #expect(search.html.contains("Seed, Two") && !search.html.contains("Seed, One"))
            let infection = try await b.get("/?status=infection")
            #expect(infection.html.contains("Seed, One") && !infection.html.contains("Seed, Two"))
            // clinA works at site A only: no demo patient.
            var other = Browser(app: r.app)
            _ = try await other.signIn("clinA")
            #expect(try await other.get("/?status=all").html.contains("No patients match."))
            let id = try await Self.patientID(r, mrn: "SEED-2")
            #expect(try await other.get("/patients/\(id)").status == .forbidden)
        }
    }

    @Test("Researchers see pseudonyms and shifted dates: no name or MRN on the worklist, patient page or summary; no visit form")
    func researcherDeidentified() async throws {
        try await Self.run { r, b in
            var b = b
            _ = try await b.signIn("research")
            let list = try await b.get("/?status=all")
            #expect(list.status == .ok && list.html.contains("De-identified view"))
            #expect(!list.html.contains("id=\"q\""))
            for mrn in ["SEED-1", "SEED-2"] {
                let id = try await Self.patientID(r, mrn: mrn)
                for path in ["/", "/?status=all", "/patients/\(id)", "/patients/\(id)/summary"] {
                    let page = try await b.get(path)
                    #expect(page.status == .ok, "\(path)")
                    for secret in ["Seed, ", "SEED-1", "SEED-2", "case report 1", "case report 2", "2023-09-01", "2018-04-16", "bone biopsy negative"] {
                        #expect(!page.html.contains(secret), "\(secret) on \(path)")
                    }
                }
                #expect(try await b.get("/patients/\(id)/visits/new").status == .forbidden)
            }
        }
    }

    @Test("Visit form: a visit dated before the patient's birth saves nothing and says so beside the date (BirthDateCheck)")
    func visitBeforeBirth() async throws {
        try await Self.run { r, b in
            var b = b
            _ = try await b.signIn("demoClin")
            let id = try await Self.patientID(r, mrn: "SEED-2")   // born 1947-06-01
            let form = try await b.get("/patients/\(id)/visits/new")
            let visits = try await VisitRecord.query(on: r.app.db).count()
            let page = try await b.submit("/patients/\(id)/visits", from: form, [("_csrf", form.csrf ?? ""), ("visit_date", "1947-05-31"), ("visit_kind", "clinic"),
                                                                             ("lab_calcium_value", "2.4"), ("lab_calcium_unit", "mmol/L")])
            #expect(page.status == .unprocessableEntity)
            #expect(page.html.contains("<span class=\"error\" id=\"visit_date-error\" role=\"alert\">Cannot be before the patient's birth date (1947-06-01).</span>"), "\(page.html.prefix(300))")
            #expect(try await VisitRecord.query(on: r.app.db).count() == visits)
        }
    }

    @Test("Visit form: one invalid value saves nothing and is shown beside its field; the corrected form saves every record in one go")
    func visitForm() async throws {
        try await Self.run { r, b in
            var b = b
            _ = try await b.signIn("demoClin")
            let id = try await Self.patientID(r, mrn: "SEED-2")
            let form = try await b.get("/patients/\(id)/visits/new")
            #expect(form.status == .ok)
            let tibia = try await LesionRecord.query(on: r.app.db).filter(\.$label == "right-tibia").first()!.id!.uuidString.lowercased()
            let colchicineRecord = try await MedicationRecord.query(on: r.app.db).filter(\.$drug == "colchicine").first()!
            let colchicine = colchicineRecord.id!.uuidString.lowercased()
            var fields: [(String, String)] = [
                ("_csrf", form.csrf ?? ""), ("visit_date", "2026-11-24"), ("visit_kind", "wound-care"), ("visit_next_due", "2026-12-08"),
                ("vit_temp", "47"), ("vit_hr", "88"), ("lab_calcium_value", "2.4"), ("lab_calcium_unit", "mmol/L"),
                ("les_\(tibia)_length", "1.5"), ("les_\(tibia)_width", "1.0"),
                ("les_\(tibia)_f_ulcerated", "on"), ("les_\(tibia)_f_pain", "on"), ("les_\(tibia)_f_extrusion", "on"),
                ("les_\(tibia)_f_purulent", "on"), ("les_\(tibia)_f_erythema", "on"),
                ("new_site", "elbow"), ("new_side", "left"), ("new_morphology", "stone"), ("new_length", "1"), ("new_width", "1"),
                ("med_drug", "diltiazem"), ("med_dose", "60"), ("med_frequency", "tid"), ("med_route", "oral"),
                ("hold_\(colchicine)", "on"), ("hold_\(colchicine)_reason", "diarrhoea"),
                ("proc_kind", "debridement"), ("proc_lesion", tibia), ("proc_note", "sharp debridement"),
                ("inf_outcome", "ongoing"), ("inf_lesion", tibia), ("inf_organism", "Staphylococcus aureus"), ("inf_culture_source", "wound-swab"),
                ("inf_culture_result", "pending"), ("img_modality", "ultrasound"), ("img_findings", "superficial calcific deposit"),
            ]
            let counts = { @Sendable () async throws -> [Int] in
                [try await VisitRecord.query(on: r.app.db).count(), try await MeasurementRecord.query(on: r.app.db).count(),
                 try await LabRecord.query(on: r.app.db).count(), try await LesionRecord.query(on: r.app.db).count(),
                 try await MedicationRecord.query(on: r.app.db).count(), try await HoldRecord.query(on: r.app.db).count(),
                 try await ProcedureRecord.query(on: r.app.db).count(), try await VitalsRecord.query(on: r.app.db).count(),
                 try await InfectionEpisodeRecord.query(on: r.app.db).count(), try await ImagingRecord.query(on: r.app.db).count()]
            }
            let before = try await counts()
            #expect(try await b.get("/").html.contains("Lost to follow-up (last contact 2018-04-16)"))
            let audit = try await r.auditCount()
            let invalid = try await b.submit("/patients/\(id)/visits", from: form, fields)
            #expect(invalid.status == .unprocessableEntity)
            #expect(invalid.html.contains("id=\"vit_temp-error\""))
            #expect(invalid.html.contains("Must be between 25 and 45"))
            #expect(invalid.html.contains("aria-invalid=\"true\""))
            #expect(invalid.html.contains("value=\"88\"") && invalid.html.contains("<option value=\"mmol/L\" selected>"))
            #expect(invalid.html.contains("id=\"les_\(tibia)_f_purulent\" name=\"les_\(tibia)_f_purulent\" value=\"on\" checked"))
            #expect(try await counts() == before)
            fields[4] = ("vit_temp", "37.1")
            let saved = try await b.submit("/patients/\(id)/visits", from: form, fields)
            #expect(saved.status == .seeOther && saved.location == "/patients/\(id)?saved=1")
            #expect(try await counts() == zip(before, [1, 2, 1, 1, 1, 1, 1, 1, 1, 1]).map { $0 + $1 })
            let lab = try await LabRecord.query(on: r.app.db).filter(\.$date == "2026-11-24").first()
            #expect(lab?.unit == "mmol/L" && lab?.loinc != nil)
            // One create entry per record (and the hold), in the same transaction.
            #expect(try await r.auditCount() >= audit + 11)
            let page = try await b.get("/patients/\(id)?saved=1")
            #expect(page.html.contains("Visit saved."))
            #expect(page.html.contains("Lesion right-tibia: 1.18 cm²"))
            #expect(page.html.contains("data-lesion=\"left-elbow\""))
            #expect(page.html.contains("Held colchicine — diarrhoea"))
            // The hold is a new version of colchicine's MedicationStatement.
            #expect(try await MedicationRecord.find(colchicineRecord.id!, on: r.app.db)?.version == colchicineRecord.version + 1)
            #expect(page.html.contains("Started diltiazem 60 mg tid oral"))
            // The findings are dated by today's measurement (the lesion itself is unchanged) and
            // reach the engine: a purulent infection is triaged.
            let lesion = try await LesionRecord.query(on: r.app.db).filter(\.$label == "right-tibia").first()!
            #expect(lesion.version == 1)
            let today = try await MeasurementRecord.query(on: r.app.db).filter(\.$lesionID == lesion.id!).filter(\.$date == "2026-11-24").first()
            #expect(VisitForm.findingKeys(today?.findingsJSON) == ["ulcerated", "pain", "extrusion", "purulent", "erythema"])
            #expect(page.html.contains("purulent infection") && !page.html.contains("Infection: none detected"))
            #expect(page.html.contains("<time datetime=\"2026-11-24\">2026-11-24</time>: Ulcerated, Purulent, Erythema, Pain, Extruding calcium"))
            #expect(page.html.contains("Infection onset (lesion right-tibia); Staphylococcus aureus; outcome ongoing"))
            #expect(page.html.contains("Imaging: ultrasound"))
            // The worklist summary was refreshed in the same transaction: no longer lost to follow-up.
            let patient = try await Patient.find(UUID(uuidString: id), on: r.app.db)!
            #expect(patient.lastContact == "2026-11-24" && patient.nextDue == "2026-12-08")
            // The cached worklist moved on with the write.
            #expect(!(try await b.get("/").html.contains("Lost to follow-up (last contact 2018-04-16)")))
        }
    }

    @Test("Findings history: seed 1's admission findings are kept with their measurement; the case as of onset is the admission case, today's is the discharge state")
    func findingsHistory() async throws {
        try await Self.run { r, b in
            var b = b
            let id = try await Self.patientID(r, mrn: "SEED-1")
            let patient = try await Patient.find(UUID(uuidString: id), on: r.app.db)!
            let records = try await RegistryCase.records(of: patient.id!, on: r.app.db)
            func triage(_ asOf: String) throws -> InfectionTriage {
                Assessor().assess(try RegistryCase.decode(RegistryCase.json(patient: patient, records: records, asOf: LocalDate(iso: asOf)!), today: TestRegistry.today)).infection
            }
            // As of admission: purulent, three systemic signs, severe (seed-1-admission.expected.json).
            let admission = try triage("2023-09-01")
            #expect(admission.present && admission.purulent && admission.severity == .severe && admission.sirs.criteriaMet == 3)
            // As of discharge (and today): the discharge findings, no infection sign on the lesions.
            #expect(try triage("2023-09-04").present == false)
            #expect(try triage(TestRegistry.today.description).present == false)
            // The worklist columns, stored in the write transaction.
            #expect(patient.infectionSeverity == nil && patient.infectionOnset == "2023-09-01" && patient.onsetSeverity == "severe")
            #expect(patient.onsetSepsisScreen == "SIRS 3/4: temperature, heart rate, WBC")
            // The patient page shows the findings by date.
            _ = try await b.signIn("demoClin")
            let page = try await b.get("/patients/\(id)")
            #expect(page.html.contains("<time datetime=\"2023-09-01\">2023-09-01</time>: Ulcerated, Purulent, Erythema, Oedema, Pain, Extruding calcium"))
            #expect(page.html.contains("<time datetime=\"2023-09-04\">2023-09-04</time>: Ulcerated, Pain"))
            #expect(page.html.contains("Findings (as of 2026-11-24): Ulcerated, Pain"))
            // A measurement's findings are validated as the case format's lesion findings.
            let m = MeasurementRecord()
            #expect(throws: APIError.self) { try m.apply(JSONObject([("date", "2026-11-20"), ("lengthCm", 1), ("widthCm", 1), ("findings", .object(JSONObject([("pus", true)])))]), today: TestRegistry.today) }
        }
    }

    @Test("Worklist flags: high alerts and a positive sepsis screen come from the summary columns, with their reasons, and filter like the other flags")
    func worklistFlags() async throws {
        try await Self.run { r, b in
            var b = b
            _ = try await b.signIn("demoClin")
            let id = try await Self.patientID(r, mrn: "SEED-1")
            let patient = try await Patient.find(UUID(uuidString: id), on: r.app.db)!
            // What today's assessment says, and what the columns hold, agree.
            let records = try await RegistryCase.records(of: patient.id!, on: r.app.db)
            let assessment = Assessor().assess(try RegistryCase.decode(RegistryCase.json(patient: patient, records: records, asOf: TestRegistry.today), today: TestRegistry.today))
            let high = assessment.alerts.filter { $0.level == .high }.map(\.id)
            #expect(patient.highAlert == !high.isEmpty)
            #expect((patient.highAlerts ?? "").split(separator: "\n").map { String($0.prefix { $0 != ":" }) } == high)
            #expect(patient.sepsisScreenPositive == false)
            let page = try await b.get("/")
            for alert in high { #expect(page.html.contains("High alert \(alert): "), "\(alert)") }
            let alerts = try await b.get("/?status=alerts")
            #expect(alerts.html.contains("Seed, One") == !high.isEmpty)
            #expect(try await b.get("/?status=sepsis").html.contains("No patients match."))
            // A febrile, tachycardic visit with an open infection: the screen is positive now.
            let form = try await b.get("/patients/\(id)/visits/new")
            let saved = try await b.submit("/patients/\(id)/visits", from: form, [("_csrf", form.csrf ?? ""), ("visit_date", "2026-11-24"), ("visit_kind", "clinic"),
                                                                   ("vit_temp", "38.9"), ("vit_hr", "112"), ("vit_rr", "24"), ("vit_sbp", "95")])
            #expect(saved.status == .seeOther)
            let after = try await Patient.find(UUID(uuidString: id), on: r.app.db)!
            #expect(after.sepsisScreenPositive && after.sepsisScreen == "SIRS 3/4: temperature, heart rate, respiration, qSOFA 2/3")
            let sepsis = try await b.get("/?status=sepsis")
            #expect(sepsis.html.contains("Seed, One") && sepsis.html.contains("Sepsis screen positive (SIRS 3/4: temperature, heart rate, respiration, qSOFA 2/3)"))
            // The API filters on the same columns.
            let token = try await Accounts.issueToken(username: "demoClin", label: "flags", actor: "test", on: r.app.db)
            var headers = HTTPHeaders()
            headers.bearerAuthorization = BearerAuthorization(token: token)
            let api = try await r.app.testing().sendRequest(.GET, "/api/v1/patients?sepsisScreen=true", headers: headers)
            #expect(api.status == .ok && api.body.string.contains("\"sepsisScreenPositive\":true") && api.body.string.contains("\"total\":1"))
        }
    }

    @Test("Visit form: lesion status is recorded; a new lesion's label is checked inside the write transaction (two saves at once: one lesion)")
    func visitFormLesionStatusAndLabel() async throws {
        try await Self.run { r, b in
            var b = b
            _ = try await b.signIn("demoClin")
            let id = try await Self.patientID(r, mrn: "SEED-2")
            let left = try await LesionRecord.query(on: r.app.db).filter(\.$label == "left-leg").first()!
            let form = try await b.get("/patients/\(id)/visits/new")
            #expect(form.html.contains("<option value=\"active\" selected>Active (open, or recurred)</option>"))
            let saved = try await b.submit("/patients/\(id)/visits", from: form, [("_csrf", form.csrf ?? ""), ("visit_date", "2026-11-24"), ("visit_kind", "clinic"),
                                                                   ("les_\(left.id!.uuidString.lowercased())_status", "excised")])
            #expect(saved.status == .seeOther)
            let updated = try await LesionRecord.find(left.id, on: r.app.db)!
            #expect(updated.status == "excised" && updated.version == 2)
            // Changed findings without a measurement cannot be dated: an error, nothing saved.
            let visits = try await VisitRecord.query(on: r.app.db).count()
            let undated = try await b.submit("/patients/\(id)/visits", from: form, [("_csrf", form.csrf ?? ""), ("visit_date", "2026-11-24"),
                                                                     ("les_\(left.id!.uuidString.lowercased())_f_necrosis", "on")])
            #expect(undated.status == .unprocessableEntity && undated.html.contains("findings are dated by today"))
            #expect(try await VisitRecord.query(on: r.app.db).count() == visits)
            // Two saves of the same new label at once: exactly one lesion; the other form answers
            // 422 with the error beside the label.
            let fields = [("_csrf", form.csrf ?? ""), ("visit_date", "2026-11-24"), ("new_site", "elbow"), ("new_side", "left"), ("new_label", "elbow-x"),
                          ("new_length", "1"), ("new_width", "1")]
            var b2 = b
            async let first = b.submit("/patients/\(id)/visits", from: form, fields)
            async let second = b2.submit("/patients/\(id)/visits", from: form, fields)
            let statuses = try await [first.status, second.status]
            #expect(statuses.filter { $0 == .seeOther }.count == 1 && statuses.filter { $0 == .unprocessableEntity }.count == 1)
            #expect(try await LesionRecord.query(on: r.app.db).filter(\.$label == "elbow-x").count() == 1)
        }
    }

    @Test("Visit form: a future date and a non-number are errors beside their fields")
    func visitFormErrors() async throws {
        try await Self.run { r, b in
            var b = b
            _ = try await b.signIn("demoClin")
            let id = try await Self.patientID(r, mrn: "SEED-1")
            let form = try await b.get("/patients/\(id)/visits/new")
            let page = try await b.post("/patients/\(id)/visits", [("_csrf", form.csrf ?? ""), ("visit_date", "2027-01-01"), ("vit_hr", "fast"), ("lab_crp_value", "12")])
            #expect(page.status == .unprocessableEntity)
            #expect(page.html.contains("id=\"visit_date-error\""))
            #expect(page.html.contains("id=\"vit_hr-error\"") && page.html.contains("Enter a number."))
        }
    }

    /// Splits RFC 4180 CSV text into rows of fields.
    static func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var chars = Array(text).makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let n = chars.next() { if n == "\"" { field.append("\"") } else { quoted = false; pending = n } } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { row.append(field); field = "" }
            else if c == "\r\n" || c == "\n" { row.append(field); rows.append(row); row = []; field = "" }
            else { field.append(c) }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    @Test("Research: overview and de-identified CSV for researchers only; the REDCap dictionary has 18 columns and names every CSV column")
    func research() async throws {
        try await Self.run { r, b in
            var b = b
            _ = try await b.signIn("research")
            let page = try await b.get("/research")
            #expect(page.status == .ok && page.html.contains("Lesion sites beside the published frequencies") && page.html.contains("70 % (65–83 %)"))
            let export = try await b.get("/research/export.csv")
            #expect(export.status == .ok && export.headers.first(name: .contentDisposition)?.contains("attachment") == true)
            let rows = Self.parseCSV(export.html)
            #expect(rows.count == 3)
            for secret in ["Seed", "SEED-1", "SEED-2", "2023-09-01", "2018-04-16", "biopsy"] { #expect(!export.html.contains(secret), "\(secret)") }
            #expect(try await AuditEntry.query(on: r.app.db).filter(\.$action == "export").count() == 1)
            let dictionary = Self.parseCSV(try await b.get("/research/dictionary.csv").html)
            #expect(dictionary.allSatisfy { $0.count == 18 })
            #expect(dictionary.first?.first == "Variable / Field Name")
            #expect(dictionary.dropFirst().map { $0[0] } == rows.first)
            var clinician = Browser(app: r.app)
            _ = try await clinician.signIn("demoClin")
            #expect(try await clinician.get("/research").status == .forbidden)
            #expect(try await clinician.get("/research/export.csv").status == .forbidden)
        }
    }

    @Test("Data in attributes is escaped: a hostile lesion label, search text and next path stay text")
    func escaping() async throws {
        try await Self.run { r, b in
            var b = b
            let hostile = #"x" onmouseover="alert(1)"><script>alert(2)</script>"#
            let login = try await b.get("/login?next=/%22%3E%3Cscript%3Ealert(3)%3C/script%3E")
            #expect(!login.html.contains("<script>") && login.html.contains("&quot;&gt;&lt;script&gt;"))
            _ = try await b.signIn("demoClin")
            let search = try await b.get("/?q=" + hostile.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            // Inside an attribute the quote is written &quot;, so nothing breaks out of it.
            #expect(!search.html.contains("<script>") && !search.html.contains(#"="x" onmouseover"#) && search.html.contains("x&quot; onmouseover"))
            let id = try await Self.patientID(r, mrn: "SEED-2")
            let lesion = LesionRecord()
            try lesion.apply(JSONObject([("label", .string(hostile)), ("site", "knee"), ("laterality", "left")]), today: TestRegistry.today)
            lesion.patientID = UUID(uuidString: id)!
            lesion.version = 1; lesion.createdBy = "test"; lesion.updatedBy = "test"
            try await lesion.create(on: r.app.db)
            for path in ["/patients/\(id)", "/patients/\(id)/summary", "/patients/\(id)/visits/new"] {
                let page = try await b.get(path)
                #expect(page.status == .ok)
                #expect(!page.html.contains("<script>alert"), "\(path)")
                #expect(!page.html.contains(#"="x" onmouseover"#), "\(path)")
            }
        }
    }

    // MARK: access matrix

    /// Every web route × every role, signed in through the login form (pages take no bearer
    /// tokens; anonymous requests go to the login page, 303). Called by `RoleRouteMatrixTests`,
    /// whose table must cover every route; returns the routes it checked.
    static func roleMatrix(_ r: TestRegistry, patient: String) async throws -> Set<String> {
        typealias Row = (anonymous: Int, clinA: Int, clinB: Int, research: Int, admin: Int)
        let roles: [String?] = [nil, "clinA", "clinB", "research", "admin"]
        var browsers: [String: Browser] = [:]
        var covered = Set<String>()
        for role in roles {
            var b = Browser(app: r.app)
            if let role { _ = try await b.signIn(role) }
            browsers[role ?? "anonymous"] = b
        }
        func check(_ method: HTTPMethod, _ template: String, _ path: String, _ expect: Row, form: [(String, String)]? = nil) async throws {
            covered.insert("\(method.rawValue) \(template)")
            for role in roles {
                let key = role ?? "anonymous"
                var b = browsers[key]!
                // The form token a browser of this role has: the login form's, or the pages' one.
                let csrf = try await b.get(role == nil ? "/login" : "/").csrf ?? ""
                let page = method == .GET ? try await b.get(path) : try await b.post(path, [("_csrf", csrf)] + (form ?? []))
                browsers[key] = b
                let want = [expect.anonymous, expect.clinA, expect.clinB, expect.research, expect.admin][roles.firstIndex(of: role)!]
                #expect(Int(page.status.code) == want, "\(method) \(path) as \(key): \(page.status.code)")
            }
        }
        try await check(.GET, "/static/app.css", "/static/app.css", (200, 200, 200, 200, 200))
        try await check(.GET, "/login", "/login", (200, 303, 303, 303, 303))
        try await check(.GET, "/", "/", (303, 200, 200, 200, 200))
        try await check(.GET, "/patients/:id", "/patients/\(patient)", (303, 200, 403, 200, 403))
        try await check(.GET, "/patients/:id/summary", "/patients/\(patient)/summary", (303, 200, 403, 200, 403))
        try await check(.GET, "/patients/:id/visits/new", "/patients/\(patient)/visits/new", (303, 200, 403, 403, 403))
        try await check(.POST, "/patients/:id/visits", "/patients/\(patient)/visits", (303, 303, 403, 403, 403),
                        form: [("visit_date", "2026-11-01"), ("visit_kind", "clinic")])
        try await check(.GET, "/research", "/research", (303, 403, 403, 200, 403))
        try await check(.GET, "/research/export.csv", "/research/export.csv", (303, 403, 403, 200, 403))
        try await check(.GET, "/research/dictionary.csv", "/research/dictionary.csv", (303, 403, 403, 200, 403))
        // A wrong password answers 401 on the page; anonymous with the login form's token.
        try await check(.POST, "/login", "/login", (401, 403, 403, 403, 403), form: [("username", "nobody"), ("password", "wrong password")])
        try await check(.POST, "/logout", "/logout", (303, 303, 303, 303, 303))
        return covered
    }

    // MARK: snapshots

    static let snapshotDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")

    /// Record ids and tokens differ per run; everything else on the page is fixed by the data
    /// and the clock.
    static func normalise(_ html: String) -> String {
        var text = html.replacingOccurrences(of: #"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"#, with: "<uuid>", options: .regularExpression)
        text = text.replacingOccurrences(of: #"name="_csrf" value="[^"]*""#, with: #"name="_csrf" value="<csrf>""#, options: .regularExpression)
        return text.replacingOccurrences(of: "><", with: ">\n<")
    }

    /// Compares with Snapshots/NAME.html; writes it when missing or when UPDATE_SNAPSHOTS=1.
    static func assertSnapshot(_ html: String, _ name: String) throws {
        let file = snapshotDirectory.appendingPathComponent(name + ".html")
        let text = normalise(html)
        if ProcessInfo.processInfo.environment["UPDATE_SNAPSHOTS"] == "1" || !FileManager.default.fileExists(atPath: file.path) {
            try FileManager.default.createDirectory(at: snapshotDirectory, withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        if expected != text {
            let a = expected.split(separator: "\n", omittingEmptySubsequences: false), b = text.split(separator: "\n", omittingEmptySubsequences: false)
            let line = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
            Issue.record("snapshot \(name) differs at line \(line + 1):\n- \(line < a.count ? a[line] : "")\n+ \(line < b.count ? b[line] : "")\n(UPDATE_SNAPSHOTS=1 to accept)")
        }
    }

    @Test("HTML snapshots of the login page, worklist, patient page, summary and visit form (demo data, 2026-11-24)")
    func snapshots() async throws {
        try await Self.run { r, b in
            var b = b
            try Self.assertSnapshot(try await b.get("/login").html, "login")
            _ = try await b.signIn("demoClin")
            try Self.assertSnapshot(try await b.get("/").html, "worklist")
            let id = try await Self.patientID(r, mrn: "SEED-2")
            try Self.assertSnapshot(try await b.get("/patients/\(id)").html, "patient-seed-2")
            try Self.assertSnapshot(try await b.get("/patients/\(id)/summary").html, "summary-seed-2")
            try Self.assertSnapshot(try await b.get("/patients/\(id)/visits/new").html, "visit-form-seed-2")
            let seed1 = try await Self.patientID(r, mrn: "SEED-1")
            try Self.assertSnapshot(try await b.get("/patients/\(seed1)").html, "patient-seed-1")
        }
    }
}
