import CalciTrackCore

/// Registry procedure → FHIR R4 Procedure. clinical-spec 12.1 gives no SNOMED codes for the
/// calcinosis procedures, so the kind is a local code (none invented). The lesion it treated is
/// the standard `procedure-targetBodyStructure` extension.
public enum ProcedureOutbound {
    /// The status of every one (a procedure is recorded once done); search matches it (`FHIRStatusSearch`).
    public static let status = "completed"

    static let displays = [
        "debridement": "Debridement", "excision": "Surgical excision", "burr": "Burr (high-speed drill) removal",
        "co2-laser": "CO2 laser", "eswl": "Extracorporeal shock wave lithotripsy", "npwt": "Negative pressure wound therapy",
        "incision-and-drainage": "Incision and drainage", "flap": "Flap reconstruction", "biopsy": "Biopsy", "other": "Other procedure",
    ]

    public static func resource(_ procedure: JSONValue) -> JSONValue {
        let kind = procedure["kind"]?.stringValue ?? "other"
        return FHIR.object([
            ("resourceType", "Procedure"), ("id", .string(procedure["id"]?.stringValue ?? "")), ("meta", FHIR.meta(procedure)),
            ("extension", procedure["lesionId"]?.stringValue.map {
                .array([FHIR.object([("url", "http://hl7.org/fhir/StructureDefinition/procedure-targetBodyStructure"),
                                     ("valueReference", FHIR.reference("BodyStructure", $0))])])
            }),
            ("status", .string(status)),
            ("code", FHIR.concept([FHIR.local("procedure-\(kind)", displays[kind] ?? kind)], text: displays[kind] ?? kind)),
            ("subject", FHIR.reference("Patient", procedure["patientId"]?.stringValue ?? "")),
            ("performedDateTime", procedure["date"]),
            ("note", procedure["note"]?.stringValue.map { .array([FHIR.annotation($0)]) }),
        ])
    }
}
