import CalciTrackCore

/// Registry visit → FHIR R4 Encounter (finished; visits are never in the future). The class is
/// HL7 v3 ActCode: AMB for clinic and wound-care visits, IMP for hospital, VR for telephone.
/// R4 Encounter has no element for the next due date, the pain score or a note: they are
/// CalciTrack extensions, so nothing is dropped.
public enum EncounterOutbound {
    /// The status of every one (a visit is recorded once it happened); search matches it (`FHIRStatusSearch`).
    public static let status = "finished"

    static func actClass(_ kind: String?) -> JSONValue {
        switch kind {
        case "hospital": FHIR.coding(CodeSystem.actCode, "IMP", "inpatient encounter")
        case "telephone": FHIR.coding(CodeSystem.actCode, "VR", "virtual")
        default: FHIR.coding(CodeSystem.actCode, "AMB", "ambulatory")
        }
    }

    public static func resource(_ visit: JSONValue) -> JSONValue {
        var extensions: [JSONValue] = []
        if let due = visit["nextDue"]?.stringValue { extensions.append(FHIR.ext("next-due", "valueDate", .string(due))) }
        if let pain = visit["painVas"]?.numberValue { extensions.append(FHIR.ext("pain-vas", "valueDecimal", .number(pain))) }
        if let note = visit["note"]?.stringValue { extensions.append(FHIR.ext("note", "valueString", .string(note))) }
        let date = visit["date"]
        return FHIR.object([
            ("resourceType", "Encounter"), ("id", .string(visit["id"]?.stringValue ?? "")), ("meta", FHIR.meta(visit)),
            ("extension", extensions.isEmpty ? nil : .array(extensions)),
            ("status", .string(status)), ("class", actClass(visit["kind"]?.stringValue)),
            ("type", visit["kind"]?.stringValue.map { .array([FHIR.concept([FHIR.local("visit-\($0)", $0)], text: $0)]) }),
            ("subject", FHIR.reference("Patient", visit["patientId"]?.stringValue ?? "")),
            ("period", date.map { FHIR.object([("start", $0), ("end", $0)]) }),
        ])
    }
}
