@testable import CalciTrackCore
import Foundation
import Testing

/// JSON fragments for the sepsis-screening, infection-triage and interaction tests. Every case is
/// built on `TestCases.json` (asOf 2024-01-10, female born 1970-01-01) and assessed with `TestCases.assess`.
enum TriageFixtures {
    static let asOf = "2024-01-10"
    static let defaultPatient = #""patient": {"sex": "female", "birthDate": "1970-01-01"}"#

    /// asOf shifted by `days` (negative = earlier), as ISO text.
    static func day(_ days: Int, from base: String = asOf) -> String {
        LocalDate(iso: base)!.adding(days: days).description
    }

    static func vitals(_ date: String = asOf, t: Double? = nil, hr: Double? = nil, rr: Double? = nil,
                       sbp: Double? = nil, mentation: Bool? = nil) -> String {
        var fields = [#""date": "\#(date)""#]
        if let t { fields.append(#""temperatureC": \#(t)"#) }
        if let hr { fields.append(#""heartRate": \#(hr)"#) }
        if let rr { fields.append(#""respiratoryRate": \#(rr)"#) }
        if let sbp { fields.append(#""systolicBP": \#(sbp)"#) }
        if let mentation { fields.append(#""alteredMentation": \#(mentation)"#) }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    static func lab(_ test: String, _ value: Double, _ unit: String, date: String = asOf) -> String {
        #"{"test": "\#(test)", "value": \#(value), "unit": "\#(unit)", "date": "\#(date)"}"#
    }

    static func med(_ drug: String, dose: Double? = nil, freq: String? = nil, route: String? = "oral",
                    start: String? = "2023-01-01", stop: String? = nil) -> String {
        var fields = [#""drug": "\#(drug)""#]
        if let dose { fields.append(#""doseMg": \#(dose)"#) }
        if let freq { fields.append(#""frequency": "\#(freq)""#) }
        if let route { fields.append(#""route": "\#(route)""#) }
        if let start { fields.append(#""start": "\#(start)""#) }
        fields.append(stop.map { #""stop": "\#($0)""# } ?? #""stop": null"#)
        return "{" + fields.joined(separator: ", ") + "}"
    }

    /// Lesion findings as a JSON fragment: `findings("purulent", "erythema")` → all named ones true.
    static func findings(_ names: String...) -> String {
        names.map { #""\#($0)": true"# }.joined(separator: ", ")
    }

    /// A purulent lesion (IDSA 2014 "purulent SSTI", clinical-spec 6.4).
    static let purulentLesion = TestCases.lesion(findings: findings("purulent", "erythema", "edema"))
    /// A non-purulent cellulitis: erythema with warmth, no purulence (case-format.md presence rule).
    static let cellulitisLesion = TestCases.lesion(findings: findings("erythema", "warmth"))
    /// A calcinosis lesion with no sign of infection.
    static let quietLesion = TestCases.lesion(findings: findings("ulcerated", "pain", "extrusion"))

    /// A complete case text. `patient` replaces the default patient object (e.g. to add weightKg).
    static func caseJSON(asOf: String = asOf, patient: String? = nil, vitals: [String] = [], labs: [String] = [],
                         meds: [String] = [], lesions: [String] = [], infection: String? = nil,
                         history: String? = nil, workup: String? = nil) -> String {
        var parts: [String] = []
        if let history { parts.append(#""history": {\#(history)}"#) }
        if !labs.isEmpty { parts.append(#""labs": [\#(labs.joined(separator: ", "))]"#) }
        if !vitals.isEmpty { parts.append(#""vitals": [\#(vitals.joined(separator: ", "))]"#) }
        if !meds.isEmpty { parts.append(#""medications": [\#(meds.joined(separator: ", "))]"#) }
        if !lesions.isEmpty { parts.append(#""lesions": [\#(lesions.joined(separator: ", "))]"#) }
        if let infection { parts.append(#""infection": {\#(infection)}"#) }
        if let workup { parts.append(#""workup": {\#(workup)}"#) }
        var text = TestCases.json(asOf: asOf, parts.joined(separator: ", "))
        if let patient {
            precondition(text.contains(defaultPatient), "TestCases.json changed its patient object")
            text = text.replacingOccurrences(of: defaultPatient, with: #""patient": \#(patient)"#)
        }
        return text
    }

    /// The case context the rules see (for calling one rule directly).
    static func context(_ text: String) throws -> CaseContext {
        let decoded = try TestCases.decode(text)
        return CaseContext(case: decoded.case, asOf: decoded.asOf)
    }

    static func alert(_ assessment: Assessment, _ id: String) -> Alert? {
        assessment.alerts.first { $0.id == id }
    }

    static func alert(_ alerts: [Alert], _ id: String) -> Alert? { alerts.first { $0.id == id } }

    static func alertIDs(_ assessment: Assessment) -> [String] { assessment.alerts.map(\.id) }

    struct MissingAlert: Error { let id: String }

    /// The alert with this id, or a short issue listing the alerts that did fire.
    static func requireAlert(_ assessment: Assessment, _ id: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Alert {
        guard let found = alert(assessment, id) else {
            Issue.record("no \(id) alert; alerts: \(alertIDs(assessment))", sourceLocation: sourceLocation)
            throw MissingAlert(id: id)
        }
        return found
    }
}
