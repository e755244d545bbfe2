import CalciTrackCore

/// A registry site → FHIR R4 Group of its patients (docs/fhir.md "Groups"): the cohort a Bulk
/// Data Group-level `$export` names. An actual group of persons, one member per patient of the
/// site (deleted patients left out), identified by the site's code.
public enum GroupOutbound {
    public static func site(id: String, code: String, name: String, patientIDs: [String]) -> JSONValue {
        FHIR.object([
            ("resourceType", "Group"), ("id", .string(id)),
            ("identifier", .array([FHIR.object([("system", .string(CodeSystem.siteIdentifier)), ("value", .string(code))])])),
            ("active", true), ("type", "person"), ("actual", true),
            ("name", .string("Patients of \(name) (site \(code))")),
            ("quantity", .number(Double(patientIDs.count))),
            ("member", patientIDs.isEmpty ? nil : .array(patientIDs.map { FHIR.object([("entity", FHIR.object([("reference", .string("Patient/\($0)"))]))]) })),
        ])
    }
}
