import CalciTrackCore

/// Registry imaging study → FHIR R4 ImagingStudy (not DiagnosticReport: docs/fhir.md keeps
/// DiagnosticReport out of the registry). Modality is the DICOM code (DCM: CR radiograph, US, CT,
/// MR); the report's findings, the inconclusive flag and the rubric scores (no standard codes,
/// clinical-spec 12.4 NF) are `description` and notes.
public enum ImagingStudyOutbound {
    /// The status of every one (a study is recorded with its findings); search matches it (`FHIRStatusSearch`).
    public static let status = "available"

    static let dicom = "http://dicom.nema.org/resources/ontology/DCM"
    static let modalities = ["radiograph": ("CR", "Computed Radiography"), "ultrasound": ("US", "Ultrasound"),
                             "ct": ("CT", "Computed Tomography"), "mri": ("MR", "Magnetic Resonance")]

    public static func resource(_ study: JSONValue) -> JSONValue {
        let modality = study["modality"]?.stringValue ?? ""
        var notes: [JSONValue] = []
        if let findings = study["findings"]?.stringValue { notes.append(FHIR.annotation("findings: \(findings)")) }
        if study["inconclusive"]?.boolValue == true { notes.append(FHIR.annotation("inconclusive")) }
        if case .object(let scores)? = study["scores"], !scores.entries.isEmpty {
            notes.append(FHIR.annotation("scores: " + scores.entries.map { "\($0.key) \(JSONWriter.write($0.value, pretty: false))" }.joined(separator: ", ")))
        }
        return FHIR.object([
            ("resourceType", "ImagingStudy"), ("id", .string(study["id"]?.stringValue ?? "")), ("meta", FHIR.meta(study)),
            ("status", .string(status)),
            ("modality", modalities[modality].map { .array([FHIR.coding(dicom, $0.0, $0.1)]) }),
            ("subject", FHIR.reference("Patient", study["patientId"]?.stringValue ?? "")),
            ("started", study["date"]),
            ("description", .string("\(modality) of calcinosis" + (study["inconclusive"]?.boolValue == true ? " (inconclusive)" : ""))),
            ("note", notes.isEmpty ? nil : .array(notes)),
        ])
    }
}
