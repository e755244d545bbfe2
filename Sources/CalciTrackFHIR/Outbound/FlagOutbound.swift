import CalciTrackCore

/// The assessment's alerts → FHIR R4 Flag, computed on read and never stored (docs/fhir.md:
/// read-only). Ids are derived from the rule id and the patient (`alert-<rule>-<patient>`, with
/// `-2`, `-3`, ... when a rule fires more than once), so the same alert keeps its id between reads
/// while it fires.
public enum FlagOutbound {
    static func ruleSlug(_ rule: String) -> String {
        String(rule.lowercased().map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" }.prefix(16))
    }

    public static func id(rule: String, patientID: String, occurrence: Int) -> String {
        "alert-\(ruleSlug(rule))-\(patientID)" + (occurrence > 1 ? "-\(occurrence)" : "")
    }

    /// The patient part of an id `id(rule:patientID:occurrence:)` made (36 characters, before an
    /// occurrence suffix), or nil: a search by `_id` alone finds its patient from it.
    public static func patientID(inFlagID id: String) -> String? {
        guard id.hasPrefix("alert-") else { return nil }
        var rest = Substring(id)
        if let dash = rest.lastIndex(of: "-"), rest[rest.index(after: dash)...].count <= 3, rest[rest.index(after: dash)...].allSatisfy(\.isNumber) {
            rest = rest[..<dash]
        }
        return rest.count > 36 + 6 ? String(rest.suffix(36)) : nil
    }

    public static func resources(_ alerts: [Alert], patientID: String, asOf: LocalDate) -> [JSONValue] {
        var seen: [String: Int] = [:]
        return alerts.map { alert in
            seen[alert.id, default: 0] += 1
            var text = alert.message
            if let action = alert.action { text += " Action: \(action)" }
            return FHIR.object([
                ("resourceType", "Flag"), ("id", .string(id(rule: alert.id, patientID: patientID, occurrence: seen[alert.id]!))),
                ("extension", .array([FHIR.ext("alert-level", "valueCode", .string(alert.level.rawValue))])),
                ("status", "active"),
                ("category", .array([FHIR.concept([FHIR.coding("http://terminology.hl7.org/CodeSystem/flag-category", "clinical", "Clinical")])])),
                ("code", FHIR.concept([FHIR.local("alert-\(alert.id)", alert.id)], text: text)),
                ("subject", FHIR.reference("Patient", patientID)),
                ("period", FHIR.object([("start", .string(asOf.description))])),
            ])
        }
    }
}
