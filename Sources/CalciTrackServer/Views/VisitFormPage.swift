import CalciTrackCore
import Plot

/// The visit form. Errors appear beside their fields and in a summary at the top that links
/// to each field; the values typed are kept. Units are picked per lab value.
struct VisitFormPage {
    let ctx: WebContext
    let patient: Patient
    let context: VisitForm.Context
    let form: VisitForm

    private var pid: String { patient.id!.lowercasedString }

    func render() -> HTML {
        PageLayout(title: "Record a visit · \(patient.familyName)", ctx: ctx, section: .worklist).render(
            .h1(.text("Record a visit — \(patient.familyName), \(patient.givenName)")),
            .p(.class("muted"), .text("MRN \(patient.mrn). Leave empty what was not measured. Nothing is saved until every entry is valid.")),
            errorSummary,
            // The fragment brings a re-shown form (422) straight to its error summary, without script.
            H.form(action: "/patients/\(pid)/visits#error-summary", [("novalidate", ""), ("id", "visit-form")],
                H.hidden("_csrf", ctx.csrf),
                visitSection, vitalsSection, labsSection, lesionsSection, medicationSection, procedureSection, infectionSection, imagingSection,
                .div(.class("actions"),
                    .button(.type(.submit), .id("save-visit"), .text("Save visit")),
                    .a(.class("button secondary"), .href("/patients/\(pid)"), .text("Cancel")))
            )
        )
    }

    private var errorSummary: Node<HTML.BodyContext> {
        guard !form.isValid else { return .empty }
        return .div(.class("notice error"), .id("error-summary"), .attribute(named: "role", value: "alert"), .attribute(named: "tabindex", value: "-1"),
            .h2(.text("Nothing was saved: please correct \(form.errors.count + form.general.count == 1 ? "this entry" : "these entries")")),
            .ul(
                .forEach(form.errors.sorted { $0.key < $1.key }) { name, message in .li(.a(.href("#\(name)"), .text("\(label(for: name)): \(message)"))) },
                .forEach(form.general) { .li(.text($0)) }
            ))
    }

    /// The label of a field, for the error summary.
    func label(for name: String) -> String {
        let fixed = ["visit_date": "Date", "visit_kind": "Kind of visit", "visit_next_due": "Next visit due", "visit_pain": "Pain", "visit_note": "Note",
                     "vit_temp": "Temperature", "vit_hr": "Heart rate", "vit_rr": "Respiratory rate", "vit_sbp": "Systolic BP", "vit_altered": "Altered mentation",
                     "new_site": "New lesion site", "new_side": "New lesion side", "new_morphology": "New lesion morphology", "new_label": "New lesion label",
                     "new_length": "New lesion length", "new_width": "New lesion width", "med_drug": "Drug", "med_dose": "Dose", "med_frequency": "Frequency",
                     "med_route": "Route", "proc_kind": "Procedure", "proc_lesion": "Procedure lesion", "proc_note": "Procedure note",
                     "inf_lesion": "Infected lesion", "inf_organism": "Organism", "inf_mrsa": "MRSA", "inf_culture_source": "Culture source",
                     "inf_culture_result": "Culture result", "inf_antibiotic": "Antibiotic", "inf_route": "Antibiotic route", "inf_outcome": "Infection outcome",
                     "inf_note": "Infection note", "img_modality": "Imaging modality", "img_inconclusive": "Imaging inconclusive", "img_findings": "Imaging findings"]
        if let text = fixed[name] { return text }
        for test in VisitForm.labTests where name.hasPrefix("lab_\(test.rawValue)_") {
            return Self.testName(test) + (name.hasSuffix("_unit") ? " unit" : "")
        }
        for lesion in context.lesions where name.hasPrefix("les_\(lesion.id!.lowercasedString)_") {
            return "Lesion \(lesion.label) " + (name.split(separator: "_").last.map(String.init) ?? "")
        }
        for med in context.medications where name.contains(med.id!.lowercasedString) {
            return (name.hasPrefix("stop") ? "Stop " : name.hasSuffix("reason") ? "Reason for holding " : "Hold ") + med.drug
        }
        return name
    }

    // MARK: fields

    private func text(_ label: String, _ name: String, type: String = "text", hint: String? = nil, _ extra: [(String, String)] = []) -> Node<HTML.BodyContext> {
        var attributes = extra
        let error = form.errors[name]
        var described: [String] = []
        if hint != nil { described.append("\(name)-hint") }
        if error != nil { described.append("\(name)-error"); attributes.append(("aria-invalid", "true")) }
        if !described.isEmpty { attributes.append(("aria-describedby", described.joined(separator: " "))) }
        return H.field(label, id: name, error: error, hint: hint, control: H.input(id: name, name: name, type: type, value: form[name], attributes))
    }

    /// Numbers are typed as text with a decimal keypad, so a wrong entry reaches the server and
    /// is answered beside the field (a number input would drop it silently).
    private func number(_ label: String, _ name: String, hint: String? = nil) -> Node<HTML.BodyContext> {
        text(label, name, hint: hint, [("inputmode", "decimal")])
    }

    private func select(_ label: String, _ name: String, _ choices: [(String, String)]) -> Node<HTML.BodyContext> {
        H.field(label, id: name, error: form.errors[name], control: H.select(id: name, name: name, choices, selected: form[name],
                                                                            describedBy: form.errors[name] == nil ? nil : "\(name)-error"))
    }

    private func checkbox(_ label: String, _ name: String) -> Node<HTML.BodyContext> {
        .div(.class(form.errors[name] == nil ? "field check" : "field check has-error"),
            .element(named: "label", nodes: [.attribute(named: "for", value: name),
                H.input(id: name, name: name, type: "checkbox", value: "on", form.checked(name) ? [("checked", "")] : []),
                .text(" " + label)]),
            .unwrap(form.errors[name]) { .span(.class("error"), .id("\(name)-error"), .text($0)) })
    }

    /// The lesion's findings as a group of checkboxes, ticked as last recorded.
    /// `shown`: the hidden field that tells the server these boxes were on the page, so that an
    /// unticked box means "not seen" rather than "not asked" (a post without it leaves the
    /// lesion's findings as they are).
    private func findings(_ legend: String, prefix: String, shown: String? = nil) -> Node<HTML.BodyContext> {
        .element(named: "fieldset", nodes: [.class("findings"), .element(named: "legend", text: legend)]
                 + (shown.map { [H.hidden($0, "shown")] } ?? [])
                 + VisitForm.findings.map { key, label in checkbox(label, prefix + key) })
    }

    private func fieldset(_ legend: String, _ nodes: Node<HTML.BodyContext>...) -> Node<HTML.BodyContext> {
        .element(named: "fieldset", nodes: [.element(named: "legend", text: legend)] + nodes)
    }

    private static func choices<V: CaseIterable & RawRepresentable>(_ type: V.Type, empty: String? = "—") -> [(String, String)] where V.RawValue == String {
        (empty.map { [("", $0)] } ?? []) + V.allCases.map { ($0.rawValue, $0.rawValue) }
    }

    static func unitText(_ unit: String) -> String {
        switch unit {
        case "umol/L": "µmol/L"
        case "10*9/L": "×10⁹/L"
        case "10*3/uL": "×10³/µL"
        case "/mm3": "/mm³"
        case "mm[Hg]": "mmHg"
        case "mL/min/1.73m2": "mL/min/1.73 m²"
        case "mL/min/{1.73_m2}": "mL/min/1.73 m² (UCUM)"
        case "1": "ratio"
        default: unit
        }
    }

    // MARK: sections

    private var visitSection: Node<HTML.BodyContext> {
        fieldset("Visit",
            .div(.class("row"),
                text("Date", "visit_date", type: "date"),
                select("Kind of visit", "visit_kind", Self.choices(VisitKind.self, empty: nil)),
                text("Next visit due", "visit_next_due", type: "date"),
                number("Pain (0–10)", "visit_pain", hint: "visual analogue scale")),
            text("Note", "visit_note"))
    }

    private var vitalsSection: Node<HTML.BodyContext> {
        fieldset("Vital signs",
            .div(.class("row"),
                number("Temperature (°C)", "vit_temp"),
                number("Heart rate (/min)", "vit_hr"),
                number("Respiratory rate (/min)", "vit_rr"),
                number("Systolic BP (mmHg)", "vit_sbp")),
            checkbox("Altered mentation", "vit_altered"))
    }

    private var labsSection: Node<HTML.BodyContext> {
        fieldset("Laboratory results",
            .table(.class("form-table"),
                .thead(.tr(.th(.text("Test")), .th(.text("Value")), .th(.text("Unit")))),
                .tbody(.forEach(VisitForm.labTests) { test in
                    let name = "lab_\(test.rawValue)"
                    let valueError = form.errors["\(name)_value"], unitError = form.errors["\(name)_unit"]
                    return .tr(
                        .td(H.label(Self.testName(test), for: "\(name)_value")),
                        .td(.class(valueError == nil ? "" : "has-error"),
                            H.input(id: "\(name)_value", name: "\(name)_value", value: form["\(name)_value"],
                                    [("inputmode", "decimal")] + (valueError == nil ? [] : [("aria-invalid", "true"), ("aria-describedby", "\(name)_value-error")])),
                            .unwrap(valueError) { .span(.class("error"), .id("\(name)_value-error"), .text($0)) }),
                        .td(.class(unitError == nil ? "" : "has-error"),
                            H.select(id: "\(name)_unit", name: "\(name)_unit", Units.accepted(for: test).map { ($0, Self.unitText($0)) }, selected: form["\(name)_unit"],
                                     ariaLabel: "Unit of \(Self.testName(test))"),
                            .unwrap(unitError) { .span(.class("error"), .text($0)) })
                    )
                })))
    }

    static func testName(_ test: LabTest) -> String {
        switch test {
        case .egfr: "eGFR"
        case .crp: "CRP"
        case .wbc: "White cells"
        case .inr: "INR"
        case .pth: "PTH"
        case .paco2: "PaCO₂"
        default: test.rawValue.prefix(1).uppercased() + test.rawValue.dropFirst()
        }
    }

    private var lesionsSection: Node<HTML.BodyContext> {
        fieldset("Lesions (sizes in cm)",
            .if(context.lesions.isEmpty, .p(.class("muted"), .text("No lesions recorded yet."))),
            .forEach(context.lesions) { lesion in
                let name = "les_\(lesion.id!.lowercasedString)"
                let place = [lesion.laterality, lesion.site].compactMap { $0 }.joined(separator: " ")
                return .div(.class("lesion-row"), .attribute(named: "data-lesion", value: H.attr(lesion.label)),
                    .h3(.text("Lesion \(lesion.label)\(place.isEmpty ? "" : " — \(place)") (\(lesion.status))")),
                    .div(.class("row"),
                        number("Length of \(lesion.label)", "\(name)_length"),
                        number("Width of \(lesion.label)", "\(name)_width"),
                        number("Depth of \(lesion.label)", "\(name)_depth"),
                        checkbox("\(lesion.label) healed", "\(name)_healed"),
                        select("Status of \(lesion.label)", "\(name)_status", VisitForm.statuses)),
                    findings("Findings of \(lesion.label) today (recorded with the measurement)", prefix: "\(name)_f_", shown: "\(name)_findings"))
            },
            .h3(.text("New lesion")),
            .div(.class("row"),
                select("Site", "new_site", Self.choices(BodySite.self)),
                select("Side", "new_side", Self.choices(Laterality.self)),
                select("Morphology", "new_morphology", Self.choices(Morphology.self)),
                text("Label", "new_label", hint: "optional; default side-site"),
                number("Length", "new_length"),
                number("Width", "new_width")),
            findings("Findings of the new lesion", prefix: "new_f_"))
    }

    private var medicationSection: Node<HTML.BodyContext> {
        fieldset("Medication changes",
            .if(!context.medications.isEmpty, .table(.class("form-table"),
                .thead(.tr(.th(.text("Current medication")), .th(.text("Stop today")), .th(.text("Hold")), .th(.text("Reason for hold"))))
                , .tbody(.forEach(context.medications) { med in
                    let id = med.id!.lowercasedString
                    let dose = [med.doseMg.map { "\(formatNumber($0)) mg" }, med.frequency, med.route].compactMap { $0 }.joined(separator: " ")
                    return .tr(.td(.text("\(med.drug) \(dose)")),
                        .td(checkbox("Stop \(med.drug)", "stop_\(id)")),
                        .td(checkbox("Hold \(med.drug)", "hold_\(id)")),
                        .td(text("Reason for holding \(med.drug)", "hold_\(id)_reason")))
                }))),
            .h3(.text("Start a medication")),
            .div(.class("row"),
                text("Drug", "med_drug", hint: "generic name, e.g. diltiazem"),
                number("Dose (mg)", "med_dose"),
                select("Frequency", "med_frequency", Self.choices(Frequency.self)),
                select("Route", "med_route", Self.choices(Route.self))))
    }

    /// An infection episode with onset on the visit date; active while its outcome is ongoing.
    private var infectionSection: Node<HTML.BodyContext> {
        fieldset("Infection episode (onset today)",
            .div(.class("row"),
                select("Infection outcome", "inf_outcome", [("", "—")] + InfectionEpisodeRecord.outcomes.map { ($0, $0) }),
                select("Infected lesion", "inf_lesion", [("", "—")] + context.lesions.map { ($0.id!.lowercasedString, $0.label) }),
                text("Organism", "inf_organism"),
                checkbox("MRSA", "inf_mrsa")),
            .div(.class("row"),
                select("Culture source", "inf_culture_source", [("", "—")] + InfectionEpisodeRecord.cultureSources.map { ($0, $0) }),
                select("Culture result", "inf_culture_result", [("", "—")] + InfectionEpisodeRecord.cultureResults.map { ($0, $0) }),
                text("Antibiotic", "inf_antibiotic", hint: "generic name; started today"),
                select("Antibiotic route", "inf_route", Self.choices(Route.self))),
            text("Infection note", "inf_note"))
    }

    /// An imaging study done on the visit date (the engine does not advise repeating it).
    private var imagingSection: Node<HTML.BodyContext> {
        fieldset("Imaging study (today)",
            .div(.class("row"),
                select("Imaging modality", "img_modality", Self.choices(ImagingModality.self)),
                checkbox("Imaging inconclusive", "img_inconclusive"),
                text("Imaging findings", "img_findings")))
    }

    private var procedureSection: Node<HTML.BodyContext> {
        fieldset("Procedure",
            .div(.class("row"),
                select("Procedure", "proc_kind", [("", "—")] + ProcedureRecord.kinds.map { ($0, $0) }),
                select("On lesion", "proc_lesion", [("", "—")] + context.lesions.map { ($0.id!.lowercasedString, $0.label) }),
                text("Procedure note", "proc_note")))
    }
}
