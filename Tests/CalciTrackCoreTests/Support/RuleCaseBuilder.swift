@testable import CalciTrackCore
import Foundation
import Testing

/// JSON fragments and shortcuts for the classification, wound, follow-up, treatment/advice and seed
/// tests. Cases default to asOf 2024-01-10 and a female patient born 1970-01-01, as `TestCases.json`;
/// `caseJSON` also lets a test give its own patient object (e.g. with `weightKg`), which
/// `TestCases.json` cannot (the parser rejects a duplicate `patient` key).
enum RuleCaseBuilder {
    static let asOf = "2024-01-10"
    static let defaultPatient = #"{"sex": "female", "birthDate": "1970-01-01"}"#

    /// A valid case; `parts` are root-level members such as `"labs": [...]` (empty strings skipped).
    static func caseJSON(asOf: String = asOf, patient: String = defaultPatient, _ parts: [String]) -> String {
        var text = #"{"formatVersion": 1, "id": "rule-test", "asOf": "\#(asOf)", "patient": \#(patient)"#
        for part in parts where !part.isEmpty { text += ", " + part }
        return text + "}"
    }

    static func caseJSON(asOf: String = asOf, patient: String = defaultPatient, _ parts: String...) -> String {
        caseJSON(asOf: asOf, patient: patient, parts)
    }

    /// `base` shifted by `days` (negative = earlier), as ISO text.
    static func day(_ days: Int, from base: String = asOf) -> String {
        LocalDate(iso: base)!.adding(days: days).description
    }

    static func lab(_ test: String, _ value: Double, _ unit: String, date: String = asOf) -> String {
        #"{"test": "\#(test)", "value": \#(value), "unit": "\#(unit)", "date": "\#(date)"}"#
    }

    static func labs(_ rows: [String]) -> String { #""labs": [\#(rows.joined(separator: ", "))]"# }

    /// Normal calcium 9.2 mg/dL, phosphate 3.5 mg/dL and eGFR 90 (Seed-2's "within normal limits").
    static let normalLabs = [lab("calcium", 9.2, "mg/dL"), lab("phosphate", 3.5, "mg/dL"), lab("egfr", 90, "mL/min/1.73m2")]

    static func ssc(_ subtype: String = "limited", diagnosisDate: String? = nil, antibodies: String = "",
                    features: [String] = []) -> String {
        var fields = [#""subtype": "\#(subtype)""#]
        if let diagnosisDate { fields.append(#""diagnosisDate": "\#(diagnosisDate)""#) }
        if !antibodies.isEmpty { fields.append(#""antibodies": {\#(antibodies)}"#) }
        fields.append(#""features": [\#(features.map { "\"\($0)\"" }.joined(separator: ", "))]"#)
        return #""ssc": {\#(fields.joined(separator: ", "))}"#
    }

    static func lesions(_ rows: [String]) -> String { #""lesions": [\#(rows.joined(separator: ", "))]"# }

    /// A lesion with a free-form extra member (e.g. `"periarticularMass": true`).
    static func lesion(id: String = "L1", site: String = "thigh", laterality: String = "right", findings: String = "",
                       extra: String = "", measurements: [String] = [measurement(asOf, length: 2, width: 1)]) -> String {
        #"{"id": "\#(id)", "site": "\#(site)", "laterality": "\#(laterality)", "morphology": "stone", "findings": {\#(findings)}"#
            + (extra.isEmpty ? "" : ", " + extra) + #", "measurements": [\#(measurements.joined(separator: ", "))]}"#
    }

    static func measurement(_ date: String, length: Double? = nil, width: Double? = nil, area: Double? = nil,
                            perimeter: Double? = nil, healed: Bool? = nil) -> String {
        var fields = [#""date": "\#(date)""#]
        if let length { fields.append(#""lengthCm": \#(length)"#) }
        if let width { fields.append(#""widthCm": \#(width)"#) }
        if let area { fields.append(#""areaCm2": \#(area)"#) }
        if let perimeter { fields.append(#""perimeterCm": \#(perimeter)"#) }
        if let healed { fields.append(#""healed": \#(healed)"#) }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    static func visit(_ date: String, nextDue: String? = nil) -> String {
        #"{"date": "\#(date)", "kind": "clinic""# + (nextDue.map { #", "nextDue": "\#($0)""# } ?? "") + "}"
    }

    static func visits(_ rows: [String]) -> String { #""visits": [\#(rows.joined(separator: ", "))]"# }

    static func exposure(_ date: String, site: String = "thigh", laterality: String = "right",
                         kind: String = "calcium-gluconate-extravasation") -> String {
        #"{"date": "\#(date)", "site": "\#(site)", "laterality": "\#(laterality)", "kind": "\#(kind)"}"#
    }

    static func medication(_ drug: String, dose: Double? = nil, frequency: String = "daily", route: String = "oral",
                           start: String = "2023-01-01", stop: String? = nil) -> String {
        #"{"drug": "\#(drug)""# + (dose.map { #", "doseMg": \#($0)"# } ?? "")
            + #", "frequency": "\#(frequency)", "route": "\#(route)", "start": "\#(start)", "stop": "#
            + (stop.map { "\"\($0)\"" } ?? "null") + "}"
    }

    static func patient(weightKg: Double?) -> String {
        #"{"sex": "female", "birthDate": "1970-01-01""# + (weightKg.map { #", "weightKg": \#($0)"# } ?? "") + "}"
    }

    /// Reads a dotted path ("calcinosisType.value") from an assessment's JSON; nil when a key is absent
    /// (a present key holding null gives `.null`).
    static func value(_ json: JSONValue, _ path: String) -> JSONValue? {
        var current: JSONValue? = json
        for key in path.split(separator: ".") { current = current?[String(key)] }
        return current
    }

    /// The seed cases shipped in ../shared/cases, by file stem.
    static let seedNames = ["seed-1-admission", "seed-1-discharge", "seed-2-followup"]

    static func seedURL(_ name: String, _ suffix: String) -> URL {
        TestCases.sharedDirectory.appendingPathComponent("cases").appendingPathComponent("\(name).\(suffix).json")
    }

    static func decodeSeed(_ name: String) throws -> DecodedCase {
        let data = try Data(contentsOf: seedURL(name, "case"))
        return try CaseDecoder.decode(Array(data), today: TestCases.today)
    }
}
