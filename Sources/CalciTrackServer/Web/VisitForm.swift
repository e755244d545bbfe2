import CalciTrackCore
import Fluent
import Vapor

/// The visit form as posted: every value as typed (so the page can show it again) and the
/// error of each field. `plan` turns it into registry records through each record's own
/// validation (`apply`, the same rules as the API and the engine); nothing is written unless
/// every part is valid.
struct VisitForm: Sendable {
    var values: [String: String] = [:]
    var errors: [String: String] = [:]
    /// Errors that belong to no single field.
    var general: [String] = []

    static let labTests: [LabTest] = [.calcium, .phosphate, .creatinine, .egfr, .albumin, .crp, .wbc, .inr]

    /// Lesion findings (case-format keys) with their labels. Findings are dated by the
    /// measurement they are recorded with (migration 011); the form starts from each lesion's
    /// findings as of today and records them with today's measurement.
    static let findings: [(String, String)] = [
        ("ulcerated", "Ulcerated"), ("purulent", "Purulent"), ("abscess", "Abscess"), ("erythema", "Erythema"), ("warmth", "Warmth"),
        ("edema", "Oedema"), ("pain", "Pain"), ("extrusion", "Extruding calcium"), ("bullae", "Bullae"), ("skinSloughing", "Skin sloughing"),
        ("necrosis", "Necrosis"), ("retiformPurpura", "Retiform purpura"), ("livedo", "Livedo"),
    ]

    static func findingKeys(_ value: JSONValue?) -> Set<String> {
        guard case .object(let f)? = value else { return [] }
        return Set(f.entries.filter { $0.value == .bool(true) }.map(\.key))
    }

    /// Lesion statuses with what they mean on the form (a healed lesion that opens again is
    /// active: the engine marks it recurred from its measurements).
    static let statuses: [(String, String)] = [("active", "Active (open, or recurred)"), ("healed", "Healed"), ("excised", "Excised"), ("resolved", "Resolved")]

    subscript(name: String) -> String { values[name] ?? "" }
    func checked(_ name: String) -> Bool { !(values[name] ?? "").isEmpty }
    var isValid: Bool { errors.isEmpty && general.isEmpty }

    mutating func fail(_ name: String, _ message: String) {
        if errors[name] == nil { errors[name] = message }
    }

    static func blank(today: LocalDate, _ ctx: Context) -> VisitForm {
        var form = VisitForm()
        for lesion in ctx.lesions {
            let name = "les_\(lesion.id!.lowercasedString)"
            for key in ctx.currentFindings[lesion.id!] ?? [] { form.values["\(name)_f_\(key)"] = "on" }
            form.values["\(name)_status"] = lesion.status
            form.values["\(name)_findings"] = "shown"
        }
        form.values["visit_date"] = today.description
        form.values["visit_kind"] = "clinic"
        for test in labTests { form.values["lab_\(test.rawValue)_unit"] = Units.canonicalUnit(for: test) }
        return form
    }

    /// The lesions and medications the form lists (ids are the registry's).
    struct Context: Sendable {
        let lesions: [LesionRecord]
        let medications: [MedicationRecord]
        /// The patient's birth date: nothing of the visit can be dated before it (`BirthDateCheck`).
        var birthDate: String? = nil
        /// Each lesion's findings as of today: its latest measurement with findings, else its own.
        var currentFindings: [UUID: Set<String>] = [:]

        init(lesions: [LesionRecord], medications: [MedicationRecord], measurements: [MeasurementRecord] = []) {
            self.lesions = lesions
            self.medications = medications
            for lesion in lesions {
                // Measurements come by date, then entry order: the last with findings is the current state.
                let dated = measurements.last { $0.lesionID == lesion.id && $0.findings != nil }
                currentFindings[lesion.id!] = VisitForm.findingKeys(dated?.findingsJSON ?? lesion.findingsJSON)
            }
        }
    }

    struct Plan: Sendable {
        var visit = VisitRecord()
        var vitals: VitalsRecord?
        var labs: [LabRecord] = []
        var measurements: [MeasurementRecord] = []
        /// Lesions whose status changed: the lesion and its whole new body (validated).
        var statusUpdates: [(UUID, JSONObject)] = []
        var newLesion: LesionRecord?
        var newLesionMeasurement: MeasurementRecord?
        var newMedication: MedicationRecord?
        var stops: [UUID] = []
        var holds: [HoldRecord] = []
        var procedure: ProcedureRecord?
        var infection: InfectionEpisodeRecord?
        var imaging: ImagingRecord?
        var date = ""
    }

    // MARK: form → records

    /// A number field: empty is absent; anything else must parse ("," accepted as decimal mark).
    mutating func number(_ name: String) -> JSONValue? {
        let text = self[name].trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: ".")
        guard !text.isEmpty else { return nil }
        guard let n = Double(text), n.isFinite else { fail(name, "Enter a number."); return nil }
        return .number(n)
    }

    mutating func text(_ name: String) -> JSONValue? {
        let t = self[name].trimmingCharacters(in: .whitespacesAndNewlines)
        return t.isEmpty ? nil : .string(t)
    }

    /// Runs a record's validation; its field errors land on the form fields `map` names
    /// (else on `fallback`).
    mutating func run<R: PatientRecord>(_ record: R, _ pairs: [(String, JSONValue?)], today: LocalDate, map: [String: String], fallback: String) -> Bool {
        do {
            try record.apply(JSONObject(compacting: pairs), today: today)
            return true
        } catch {
            for issue in error.fieldIssues.isEmpty ? [FieldIssue(field: "", value: nil, message: error.reason)] : error.fieldIssues {
                let key = issue.field.split(separator: ".").first.map(String.init) ?? issue.field
                fail(map[key] ?? fallback, Self.readable(issue.message, field: issue.field))
            }
            return false
        }
    }

    /// Engine messages name JSON keys; on a form the label already says what the field is.
    static func readable(_ message: String, field: String) -> String {
        var message = message
        if !field.isEmpty, message.hasPrefix(field + " ") { message = String(message.dropFirst(field.count + 1)) }
        guard let first = message.first else { return message }
        return first.uppercased() + message.dropFirst()
    }

    mutating func plan(_ ctx: Context, today: LocalDate) -> Plan? {
        var plan = Plan()
        let date = text("visit_date")
        plan.date = date?.stringValue ?? ""
        // The visit itself: date, kind, next due, pain.
        _ = run(plan.visit, [("date", date), ("kind", text("visit_kind")), ("nextDue", text("visit_next_due")),
                             ("painVas", number("visit_pain")), ("note", text("visit_note"))], today: today,
                map: ["date": "visit_date", "kind": "visit_kind", "nextDue": "visit_next_due", "painVas": "visit_pain", "note": "visit_note"], fallback: "visit_date")
        if errors["visit_date"] == nil, let born = ctx.birthDate, BirthDateCheck.violation(plan.visit, birthDate: born) != nil {
            fail("visit_date", "Cannot be before the patient's birth date (\(born)).")
        }
        let dateIsValid = errors["visit_date"] == nil
        // Vital signs, when any was entered.
        let vitals: [(String, JSONValue?)] = [("temperatureC", number("vit_temp")), ("heartRate", number("vit_hr")),
                                              ("respiratoryRate", number("vit_rr")), ("systolicBP", number("vit_sbp")),
                                              ("alteredMentation", checked("vit_altered") ? .bool(true) : nil)]
        if dateIsValid, vitals.contains(where: { $0.1 != nil }) {
            let record = VitalsRecord()
            if run(record, [("date", date)] + vitals, today: today,
                   map: ["temperatureC": "vit_temp", "heartRate": "vit_hr", "respiratoryRate": "vit_rr", "systolicBP": "vit_sbp", "alteredMentation": "vit_altered"],
                   fallback: "vit_temp") { plan.vitals = record }
        }
        // Labs: one row per test, value with its unit.
        for test in Self.labTests {
            let name = "lab_\(test.rawValue)"
            guard let value = number("\(name)_value"), dateIsValid else { continue }
            let record = LabRecord()
            if run(record, [("test", .string(test.rawValue)), ("value", value), ("unit", text("\(name)_unit")), ("date", date)], today: today,
                   map: ["value": "\(name)_value", "unit": "\(name)_unit"], fallback: "\(name)_value") { plan.labs.append(record) }
        }
        // Measurements, findings and status of existing lesions. Findings are recorded with the
        // day's measurement, which dates them; changed findings without a measurement cannot be.
        for lesion in ctx.lesions {
            let name = "les_\(lesion.id!.lowercasedString)"
            // Only boxes that were on the posted form say anything (see VisitFormPage.findings).
            let shown = self["\(name)_findings"] == "shown"
            let ticked = Set(Self.findings.map(\.0).filter { checked("\(name)_f_\($0)") })
            let findings = shown ? JSONValue.object(JSONObject(Self.findings.map(\.0).filter(ticked.contains).map { ($0, JSONValue.bool(true)) })) : nil
            if let m = measurement(name, date: date, today: today, enabled: dateIsValid, findings: findings) {
                m.lesionID = lesion.id!
                plan.measurements.append(m)
            } else if shown, ticked != ctx.currentFindings[lesion.id!] ?? [], errors["\(name)_length"] == nil {
                fail("\(name)_length", "Enter the size (or tick healed) to record changed findings: findings are dated by today's measurement.")
            }
            let status = self["\(name)_status"]
            if !status.isEmpty, status != lesion.status {
                let body = JSONObject(compacting: lesion.apiFields(.none).filter { $0.0 != "status" } + [("status", .string(status))])
                if run(LesionRecord(), body.entries.map { ($0.key, $0.value) }, today: today, map: ["status": "\(name)_status"], fallback: "\(name)_status") {
                    plan.statusUpdates.append((lesion.id!, body))
                }
            }
        }
        // A new lesion, by site, with its first measurement (which dates its findings). The
        // label is checked here for the message and again inside the write transaction.
        if text("new_label") != nil || text("new_site") != nil {
            let lesion = LesionRecord()
            let label = text("new_label") ?? .string([self["new_side"], self["new_site"]].filter { !$0.isEmpty }.joined(separator: "-"))
            let findings = JSONValue.object(JSONObject(Self.findings.map(\.0).filter { checked("new_f_\($0)") }.map { ($0, JSONValue.bool(true)) }))
            if case .string(let l) = label, ctx.lesions.contains(where: { $0.label == l }) {
                fail("new_label", Self.duplicateLabel(l))
            } else if run(lesion, [("label", label), ("site", text("new_site")), ("laterality", text("new_side")), ("morphology", text("new_morphology"))],
                          today: today, map: ["label": "new_label", "site": "new_site", "laterality": "new_side", "morphology": "new_morphology"], fallback: "new_site") {
                plan.newLesion = lesion
            }
            plan.newLesionMeasurement = measurement("new", date: date, today: today, enabled: dateIsValid, findings: findings)
            // Without a measurement the findings have no date: keep them as the lesion's own.
            if plan.newLesionMeasurement == nil, errors["new_length"] == nil, let lesion = plan.newLesion, case .object(let f) = findings, !f.entries.isEmpty {
                lesion.findings = JSONWriter.write(findings, pretty: false)
            }
        }
        // Medication changes: a new drug; stops and holds of current ones.
        if text("med_drug") != nil {
            let record = MedicationRecord()
            if run(record, [("drug", text("med_drug")), ("doseMg", number("med_dose")), ("frequency", text("med_frequency")),
                            ("route", text("med_route")), ("start", date), ("stop", .null)], today: today,
                   map: ["drug": "med_drug", "doseMg": "med_dose", "frequency": "med_frequency", "route": "med_route", "start": "visit_date"], fallback: "med_drug") {
                plan.newMedication = record
            }
        } else if text("med_dose") != nil {
            fail("med_drug", "Enter the drug for this dose.")
        }
        for med in ctx.medications {
            let id = med.id!.lowercasedString
            if checked("stop_\(id)") {
                if let start = med.start, let d = date?.stringValue, d < start { fail("stop_\(id)", "Cannot stop before it started (\(start)).") }
                else { plan.stops.append(med.id!) }
            }
            if checked("hold_\(id)") && dateIsValid {
                let hold = HoldRecord()
                if run(hold, [("start", date), ("reason", text("hold_\(id)_reason"))], today: today,
                       map: ["reason": "hold_\(id)_reason", "start": "visit_date"], fallback: "hold_\(id)_reason") {
                    hold.medicationID = med.id!
                    plan.holds.append(hold)
                }
            }
        }
        // A procedure.
        if text("proc_kind") != nil {
            let record = ProcedureRecord()
            let lesion = text("proc_lesion")
            if case .string(let l)? = lesion, !ctx.lesions.contains(where: { $0.id!.lowercasedString == l }) {
                fail("proc_lesion", "Choose one of this patient's lesions.")
            } else if dateIsValid, run(record, [("date", date), ("kind", text("proc_kind")), ("lesionId", lesion), ("note", text("proc_note"))], today: today,
                                       map: ["kind": "proc_kind", "lesionId": "proc_lesion", "note": "proc_note"], fallback: "proc_kind") {
                plan.procedure = record
            }
        }
        // An infection episode starting today.
        if text("inf_outcome") != nil || text("inf_organism") != nil || text("inf_antibiotic") != nil || text("inf_lesion") != nil {
            let record = InfectionEpisodeRecord()
            let lesion = text("inf_lesion")
            if case .string(let l)? = lesion, !ctx.lesions.contains(where: { $0.id!.lowercasedString == l }) {
                fail("inf_lesion", "Choose one of this patient's lesions.")
            } else if dateIsValid, run(record, [("onset", date), ("lesionId", lesion), ("organism", text("inf_organism")),
                                                ("mrsa", checked("inf_mrsa") ? .bool(true) : nil), ("cultureSource", text("inf_culture_source")),
                                                ("cultureResult", text("inf_culture_result")), ("antibiotic", text("inf_antibiotic")),
                                                ("antibioticRoute", text("inf_route")), ("antibioticStart", text("inf_antibiotic") == nil ? nil : date),
                                                ("outcome", text("inf_outcome")), ("note", text("inf_note"))], today: today,
                                       map: ["lesionId": "inf_lesion", "organism": "inf_organism", "mrsa": "inf_mrsa", "cultureSource": "inf_culture_source",
                                             "cultureResult": "inf_culture_result", "antibiotic": "inf_antibiotic", "antibioticRoute": "inf_route",
                                             "antibioticStart": "inf_antibiotic", "outcome": "inf_outcome", "note": "inf_note", "onset": "visit_date"],
                                       fallback: "inf_outcome") {
                plan.infection = record
            }
        }
        // An imaging study done today.
        if text("img_modality") != nil || text("img_findings") != nil || checked("img_inconclusive") {
            let record = ImagingRecord()
            if dateIsValid, run(record, [("date", date), ("modality", text("img_modality")), ("inconclusive", checked("img_inconclusive") ? .bool(true) : nil),
                                         ("findings", text("img_findings"))], today: today,
                                map: ["modality": "img_modality", "inconclusive": "img_inconclusive", "findings": "img_findings", "date": "visit_date"],
                                fallback: "img_modality") {
                plan.imaging = record
            }
        }
        return isValid ? plan : nil
    }

    static func duplicateLabel(_ label: String) -> String {
        "A lesion named \(label) already exists; choose another label."
    }

    /// A measurement row (length, width, depth, healed) named `prefix`_…; nil when empty.
    mutating func measurement(_ prefix: String, date: JSONValue?, today: LocalDate, enabled: Bool, findings: JSONValue? = nil) -> MeasurementRecord? {
        let length = number("\(prefix)_length"), width = number("\(prefix)_width"), depth = number("\(prefix)_depth")
        let healed = checked("\(prefix)_healed")
        guard enabled, length != nil || width != nil || depth != nil || healed else { return nil }
        let m = MeasurementRecord()
        var pairs: [(String, JSONValue?)] = [("date", date), ("lengthCm", length ?? (healed ? .number(0) : nil)),
                                             ("widthCm", width ?? (healed ? .number(0) : nil)), ("depthCm", depth)]
        if healed { pairs.append(("healed", .bool(true))) }
        pairs.append(("findings", findings))
        return run(m, pairs, today: today, map: ["lengthCm": "\(prefix)_length", "widthCm": "\(prefix)_width", "depthCm": "\(prefix)_depth",
                                                 "healed": "\(prefix)_healed", "date": "visit_date", "findings": "\(prefix)_f_ulcerated"],
                   fallback: "\(prefix)_length") ? m : nil
    }
}
