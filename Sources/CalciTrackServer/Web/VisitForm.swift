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

    /// Lesion findings (case-format keys) with their labels. A lesion keeps one current state of
    /// findings, so the form starts from it and the clinician changes what changed.
    static let findings: [(String, String)] = [
        ("ulcerated", "Ulcerated"), ("purulent", "Purulent"), ("abscess", "Abscess"), ("erythema", "Erythema"), ("warmth", "Warmth"),
        ("edema", "Oedema"), ("pain", "Pain"), ("extrusion", "Extruding calcium"), ("bullae", "Bullae"), ("skinSloughing", "Skin sloughing"),
        ("necrosis", "Necrosis"), ("retiformPurpura", "Retiform purpura"), ("livedo", "Livedo"),
    ]

    static func currentFindings(_ lesion: LesionRecord) -> Set<String> {
        guard case .object(let f)? = lesion.findingsJSON else { return [] }
        return Set(f.entries.filter { $0.value == .bool(true) }.map(\.key))
    }

    subscript(name: String) -> String { values[name] ?? "" }
    func checked(_ name: String) -> Bool { !(values[name] ?? "").isEmpty }
    var isValid: Bool { errors.isEmpty && general.isEmpty }

    mutating func fail(_ name: String, _ message: String) {
        if errors[name] == nil { errors[name] = message }
    }

    static func blank(today: LocalDate, _ ctx: Context) -> VisitForm {
        var form = VisitForm()
        for lesion in ctx.lesions {
            for key in currentFindings(lesion) { form.values["les_\(lesion.id!.uuidString.lowercased())_f_\(key)"] = "on" }
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
    }

    struct Plan: Sendable {
        var visit = VisitRecord()
        var vitals: VitalsRecord?
        var labs: [LabRecord] = []
        var measurements: [MeasurementRecord] = []
        /// Lesions whose findings changed: the lesion and its whole new body (validated).
        var findingUpdates: [(UUID, JSONObject)] = []
        var newLesion: LesionRecord?
        var newLesionMeasurement: MeasurementRecord?
        var newMedication: MedicationRecord?
        var stops: [UUID] = []
        var holds: [HoldRecord] = []
        var procedure: ProcedureRecord?
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
        // Measurements and findings of existing lesions.
        for lesion in ctx.lesions {
            let name = "les_\(lesion.id!.uuidString.lowercased())"
            if let m = measurement(name, date: date, today: today, enabled: dateIsValid) {
                m.lesionID = lesion.id!
                plan.measurements.append(m)
            }
            let ticked = Set(Self.findings.map(\.0).filter { checked("\(name)_f_\($0)") })
            if ticked != Self.currentFindings(lesion) {
                let body = JSONObject(compacting: lesion.apiFields(.none).filter { $0.0 != "findings" }
                    + [("findings", .object(JSONObject(Self.findings.map(\.0).filter(ticked.contains).map { ($0, JSONValue.bool(true)) })))])
                if run(LesionRecord(), body.entries.map { ($0.key, $0.value) }, today: today, map: [:], fallback: "\(name)_f_ulcerated") {
                    plan.findingUpdates.append((lesion.id!, body))
                }
            }
        }
        // A new lesion, by site, with its first measurement.
        if text("new_label") != nil || text("new_site") != nil {
            let lesion = LesionRecord()
            let label = text("new_label") ?? .string([self["new_side"], self["new_site"]].filter { !$0.isEmpty }.joined(separator: "-"))
            if case .string(let l) = label, ctx.lesions.contains(where: { $0.label == l }) {
                fail("new_label", "A lesion named \(l) already exists; choose another label.")
            } else if run(lesion, [("label", label), ("site", text("new_site")), ("laterality", text("new_side")), ("morphology", text("new_morphology")),
                                   ("findings", .object(JSONObject(Self.findings.map(\.0).filter { checked("new_f_\($0)") }.map { ($0, JSONValue.bool(true)) })))],
                          today: today, map: ["label": "new_label", "site": "new_site", "laterality": "new_side", "morphology": "new_morphology"], fallback: "new_site") {
                plan.newLesion = lesion
            }
            plan.newLesionMeasurement = measurement("new", date: date, today: today, enabled: dateIsValid)
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
            let id = med.id!.uuidString.lowercased()
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
            if case .string(let l)? = lesion, !ctx.lesions.contains(where: { $0.id!.uuidString.lowercased() == l }) {
                fail("proc_lesion", "Choose one of this patient's lesions.")
            } else if dateIsValid, run(record, [("date", date), ("kind", text("proc_kind")), ("lesionId", lesion), ("note", text("proc_note"))], today: today,
                                       map: ["kind": "proc_kind", "lesionId": "proc_lesion", "note": "proc_note"], fallback: "proc_kind") {
                plan.procedure = record
            }
        }
        return isValid ? plan : nil
    }

    /// A measurement row (length, width, depth, healed) named `prefix`_…; nil when empty.
    mutating func measurement(_ prefix: String, date: JSONValue?, today: LocalDate, enabled: Bool) -> MeasurementRecord? {
        let length = number("\(prefix)_length"), width = number("\(prefix)_width"), depth = number("\(prefix)_depth")
        let healed = checked("\(prefix)_healed")
        guard enabled, length != nil || width != nil || depth != nil || healed else { return nil }
        let m = MeasurementRecord()
        var pairs: [(String, JSONValue?)] = [("date", date), ("lengthCm", length ?? (healed ? .number(0) : nil)),
                                             ("widthCm", width ?? (healed ? .number(0) : nil)), ("depthCm", depth)]
        if healed { pairs.append(("healed", .bool(true))) }
        return run(m, pairs, today: today, map: ["lengthCm": "\(prefix)_length", "widthCm": "\(prefix)_width", "depthCm": "\(prefix)_depth",
                                                 "healed": "\(prefix)_healed", "date": "visit_date"], fallback: "\(prefix)_length") ? m : nil
    }
}
