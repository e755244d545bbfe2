import CalciTrackCore
import Fluent
import Vapor

/// The de-identified research export: one row per patient, pseudonymous record id, no name,
/// MRN or free text, dates shifted by the patient's offset (REDCap-style), ages and durations
/// true. Built from the patient rows, their worklist summary and their lesions, a batch of
/// patients at a time (two queries per batch, no per-patient engine run), so it streams at any
/// registry size. `dictionary` is the matching
/// REDCap data dictionary (its 18-column import format), so the CSV imports into a REDCap
/// project as is.
enum RegistryExport {
    struct Field {
        let name: String
        let type: String          // text, radio, yesno, notes
        let label: String
        var choices: [(String, String)] = []
        var validation: String = ""
        var note: String = ""
        var min: String = ""
        var max: String = ""
    }

    static func codes(_ values: [String]) -> [(String, String)] { values.map { (code($0), $0) } }

    /// REDCap choice codes hold letters, digits and underscores only.
    static func code(_ value: String) -> String { value.replacingOccurrences(of: "-", with: "_") }

    static let fields: [Field] = [
        Field(name: "record_id", type: "text", label: "Record ID (pseudonym; not the MRN)"),
        Field(name: "site_code", type: "text", label: "Site code"),
        Field(name: "sex", type: "radio", label: "Sex", choices: codes(Sex.allCases.map(\.rawValue))),
        Field(name: "age_years", type: "text", label: "Age at export (years; 90 = 90 or older, HIPAA Safe Harbor)", validation: "integer", min: "0", max: "90"),
        Field(name: "ssc_subtype", type: "radio", label: "SSc subtype", choices: codes(SScSubtype.allCases.map(\.rawValue))),
        Field(name: "disease_duration_years", type: "text", label: "SSc disease duration at export (years, from the diagnosis year)", validation: "integer", min: "0", max: "130"),
        Field(name: "anti_scl70", type: "radio", label: "Anti-Scl-70", choices: codes(AntibodyStatus.allCases.map(\.rawValue))),
        Field(name: "anti_centromere", type: "radio", label: "Anti-centromere", choices: codes(AntibodyStatus.allCases.map(\.rawValue))),
        Field(name: "lesion_count", type: "text", label: "Calcinosis lesions recorded", validation: "integer", min: "0"),
        Field(name: "lesion_sites", type: "notes", label: "Lesion sites (laterality site; semicolon-separated)"),
        Field(name: "lesion_morphologies", type: "notes", label: "Lesion morphologies (semicolon-separated, same order)"),
        Field(name: "open_lesions", type: "text", label: "Lesions not healed (registry status active)", validation: "integer", min: "0"),
        Field(name: "active_infection", type: "yesno", label: "Active infection (open episode or engine-detected)"),
        Field(name: "infection_severity", type: "radio", label: "Infection severity (engine, at the last update)", choices: codes(["mild", "moderate", "severe"])),
        Field(name: "worsening_lesion", type: "yesno", label: "A lesion worsening or recurred (engine)"),
        Field(name: "followup_status", type: "radio", label: "Follow-up status at export", choices: codes(PatientController.followUpFilters.filter { $0 != "needs-attention" })),
        Field(name: "last_contact", type: "text", label: "Last contact (date-shifted)", validation: "date_ymd"),
        Field(name: "next_due", type: "text", label: "Next visit due (date-shifted)", validation: "date_ymd"),
    ]

    /// REDCap's data dictionary header: the 18 columns of its import format.
    static let dictionaryHeader = [
        "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
        "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
        "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
        "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?", "Field Annotation",
    ]

    static func dictionary() -> String {
        var lines = [csvLine(dictionaryHeader)]
        for f in fields {
            let choices = f.choices.map { "\($0.0), \($0.1)" }.joined(separator: " | ")
            lines.append(csvLine([f.name, "calcitrack_registry", "", f.type, f.label, choices, f.note, f.validation, f.min, f.max,
                                  "", "", f.name == "record_id" ? "y" : "", "", "", "", "", ""]))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Writes the header and then one chunk per batch of patients (keyset paging by id).
    static func write(on db: any Database, today: LocalDate, batch: Int = 2000, _ emit: @Sendable (String) async throws -> Void) async throws {
        let sites = try await PatientController.siteCodes(on: db)
        try await emit(csvLine(fields.map(\.name)) + "\r\n")
        var last: UUID?
        while true {
            var query = Patient.query(on: db).sort(\.$id).limit(batch)
            if let last { query = query.filter(\.$id > last) }
            let patients = try await query.all()
            guard let tail = patients.last else { return }
            last = tail.id
            let lesions = try await LesionRecord.query(on: db).filter(\.$patientID ~~ patients.compactMap(\.id)).sort(\.$createdAt).all()
            let byPatient = Dictionary(grouping: lesions, by: \.patientID)
            try await emit(patients.map { row($0, lesions: byPatient[$0.id!] ?? [], site: sites[$0.$site.id] ?? "", today: today) + "\r\n" }.joined())
            if patients.count < batch { return }
        }
    }

    static func row(_ p: Patient, lesions own: [LesionRecord], site: String, today: LocalDate) -> String {
        let shift = DateShift(days: p.dateShiftDays)
        let ssc = p.ssc.flatMap { try? JSONParser.parse($0) }
        let birth = p.birthDate.flatMap(LocalDate.init(iso:))
        let diagnosed = ssc?["diagnosisDate"]?.stringValue.flatMap { PartialDate(text: $0, allowYearOnly: true) }
        let status = PatientSummary.followUpStatus(lastContact: p.lastContact, nextDue: p.nextDue, unhealed: p.hasUnhealedLesion, today: today)
        return csvLine([
            WorklistRow.pseudonym(p.id!), site, code(p.sex),
            birth.map { String(DeidentifiedAge.age(today.age(from: $0))) } ?? "",
            (ssc?["subtype"]?.stringValue).map(code) ?? "",
            diagnosed.map { String($0.earliest.wholeYears(until: today)) } ?? "",
            (ssc?["antibodies"]?["scl70"]?.stringValue).map(code) ?? "",
            (ssc?["antibodies"]?["centromere"]?.stringValue).map(code) ?? "",
            String(own.count),
            own.map { [$0.laterality, $0.site].compactMap { $0 }.joined(separator: " ") }.joined(separator: "; "),
            own.map { $0.morphology ?? "" }.joined(separator: "; "),
            String(own.filter { $0.status == "active" }.count),
            p.activeInfection ? "1" : "0",
            p.infectionSeverity.map(code) ?? "",
            p.worseningLesion ? "1" : "0",
            code(status),
            shift(p.lastContact)?.stringValue ?? "",
            shift(p.nextDue)?.stringValue ?? "",
        ])
    }

    /// RFC 4180: quote a field holding a comma, quote or line break; double inner quotes.
    static func csvLine(_ fields: [String]) -> String {
        fields.map { f in
            f.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : f
        }.joined(separator: ",")
    }
}
