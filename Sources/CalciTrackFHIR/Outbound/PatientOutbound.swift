import CalciTrackCore

/// Registry patient (API JSON with authors) → FHIR R4 Patient: name, gender, birthDate and the
/// MRN as an identifier whose system names the site (docs/fhir.md, "Identity"). The case-format
/// sections (ssc, history, ...) are not Patient elements: the SSc section becomes its own
/// Condition (`ConditionOutbound.ssc`) and the weight an Observation (`ObservationOutbound.weight`).
public enum PatientOutbound {
    public static func mrnSystem(siteCode: String) -> String { CodeSystem.mrnPrefix + siteCode }

    public static func resource(_ patient: JSONValue) -> JSONValue {
        let id = patient["id"]?.stringValue ?? ""
        var identifier: JSONValue?
        if let mrn = patient["mrn"]?.stringValue, let site = patient["siteCode"]?.stringValue {
            identifier = .array([FHIR.object([
                ("use", "usual"),
                // v2-0203 "MR" = medical record number.
                ("type", FHIR.concept([FHIR.coding("http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical record number")])),
                ("system", .string(mrnSystem(siteCode: site))), ("value", .string(mrn)),
            ])])
        }
        var name: JSONValue?
        if let family = patient["familyName"]?.stringValue {
            let given = patient["givenName"]?.stringValue
            name = .array([FHIR.object([("use", "official"), ("family", .string(family)), ("given", given.map { .array([.string($0)]) })])])
        }
        // Registry sex vocabulary (female, male, other, unknown) is FHIR's administrative-gender.
        let gender = patient["sex"]?.stringValue.flatMap { ["female", "male", "other", "unknown"].contains($0) ? $0 : nil }
        return FHIR.object([
            ("resourceType", "Patient"), ("id", .string(id)), ("meta", FHIR.meta(patient)),
            ("identifier", identifier), ("active", true), ("name", name),
            ("gender", FHIR.string(gender)), ("birthDate", patient["birthDate"]),
        ])
    }
}
