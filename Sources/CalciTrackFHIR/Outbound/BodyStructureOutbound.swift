import CalciTrackCore

/// Registry lesion → FHIR R4 BodyStructure: site, laterality and morphology. clinical-spec 12
/// gives no codes for body sites, laterality or calcinosis morphology, so they are text
/// (never invented codes); the lesion's label, status and findings go in `description`.
public enum BodyStructureOutbound {
    /// "right thigh", "hand", "finger (bilateral)".
    static func siteText(_ lesion: JSONValue) -> String {
        let site = lesion["site"]?.stringValue ?? "unspecified site"
        switch lesion["laterality"]?.stringValue {
        case "left", "right": return "\(lesion["laterality"]!.stringValue!) \(site)"
        case let side?: return "\(site) (\(side))"
        case nil: return site
        }
    }

    public static func resource(_ lesion: JSONValue) -> JSONValue {
        let id = lesion["id"]?.stringValue ?? ""
        let pid = lesion["patientId"]?.stringValue ?? ""
        var description = "Calcinosis lesion \(lesion["label"]?.stringValue ?? "")"
        if let status = lesion["status"]?.stringValue { description += "; status \(status)" }
        if lesion["periarticularMass"]?.boolValue == true { description += "; periarticular mass" }
        if case .object(let findings)? = lesion["findings"] {
            let present = findings.entries.filter { $0.value == .bool(true) }.map(\.key)
            let absent = findings.entries.filter { $0.value == .bool(false) }.map(\.key)
            if !present.isEmpty { description += "; findings present: " + present.joined(separator: ", ") }
            if !absent.isEmpty { description += "; absent: " + absent.joined(separator: ", ") }
        }
        if let note = lesion["note"]?.stringValue { description += "; note: \(note)" }
        return FHIR.object([
            ("resourceType", "BodyStructure"), ("id", .string(id)), ("meta", FHIR.meta(lesion)),
            ("identifier", lesion["label"]?.stringValue.map { .array([FHIR.object([("system", .string("https://calcitrack.org/fhir/sid/lesion-label/\(pid)")), ("value", .string($0))])]) }),
            ("active", .bool(lesion["status"]?.stringValue == "active")),
            ("morphology", lesion["morphology"]?.stringValue.map { FHIR.concept([], text: "calcinosis, \($0)") }),
            ("location", lesion["site"]?.stringValue.map { FHIR.concept([], text: $0) }),
            ("locationQualifier", lesion["laterality"]?.stringValue.map { .array([FHIR.concept([], text: $0)]) }),
            ("description", .string(description)),
            ("patient", FHIR.reference("Patient", pid)),
        ])
    }
}
