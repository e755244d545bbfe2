import CalciTrackCore

/// Registry → FHIR R4 Observation:
/// - lab result → laboratory Observation, LOINC from Core's `LabCodes` (clinical-spec 12.4), UCUM unit (12.6);
/// - vitals row → one vital-signs Observation per value present (FHIR vital-signs profiles;
///   systolic BP inside the 85354-9 panel, the diastolic component marked absent: the registry
///   does not record it);
/// - patient weight → 29463-7 body weight;
/// - lesion measurement → 72287-6 wound size panel (12.4) with `focus` the lesion's BodyStructure.
public enum ObservationOutbound {
    /// The status of every one (every Observation the registry holds is a final result); search matches it (`FHIRStatusSearch`).
    public static let status = "final"

    static func category(_ code: String, _ display: String) -> JSONValue {
        .array([FHIR.concept([FHIR.coding(CodeSystem.observationCategory, code, display)])])
    }
    static let laboratory = category("laboratory", "Laboratory")
    static let vitalSigns = category("vital-signs", "Vital Signs")
    static let exam = category("exam", "Exam")

    /// Registry lab units → UCUM codes (12.6). Units the registry accepts are UCUM already,
    /// except eGFR's "mL/min/1.73m2" (UCUM: mL/min/{1.73_m2}).
    public static func ucum(_ unit: String) -> String {
        unit == "mL/min/1.73m2" ? "mL/min/{1.73_m2}" : unit
    }

    public static func lab(_ lab: JSONValue) -> JSONValue {
        let id = lab["id"]?.stringValue ?? ""
        let test = lab["test"]?.stringValue ?? ""
        let unit = lab["unit"]?.stringValue ?? ""
        var codings: [JSONValue] = []
        if let labTest = LabTest(rawValue: test), let code = LabCodes.loinc(for: labTest, unit: unit) {
            codings.append(FHIR.coding(CodeSystem.loinc, code.loinc, code.display))
        } else if let loinc = lab["loinc"]?.stringValue {
            codings.append(FHIR.coding(CodeSystem.loinc, loinc))
        }
        codings.append(FHIR.local("lab-\(test)", test))
        return FHIR.object([
            ("resourceType", "Observation"), ("id", .string(id)), ("meta", FHIR.meta(lab)),
            ("status", .string(status)), ("category", laboratory),
            ("code", FHIR.concept(codings, text: test)),
            ("subject", FHIR.reference("Patient", lab["patientId"]?.stringValue ?? "")),
            ("effectiveDateTime", lab["date"]),
            ("valueQuantity", lab["value"]?.numberValue.map { FHIR.quantity($0, ucum: ucum(unit), unit: unit) }),
        ])
    }

    /// The FHIR vital-signs profile, LOINC code and UCUM unit of each vital (12.4, 12.6).
    struct VitalSpec {
        let vital: ResourceID.Vital
        let field: String
        let profile: String
        let loinc: String
        let display: String
        let ucum: String
    }

    static let vitalSpecs: [VitalSpec] = [
        VitalSpec(vital: .temperature, field: "temperatureC", profile: "bodytemp", loinc: "8310-5", display: "Body temperature", ucum: "Cel"),
        VitalSpec(vital: .heartRate, field: "heartRate", profile: "heartrate", loinc: "8867-4", display: "Heart rate", ucum: "/min"),
        VitalSpec(vital: .respiratoryRate, field: "respiratoryRate", profile: "resprate", loinc: "9279-1", display: "Respiratory rate", ucum: "/min"),
        VitalSpec(vital: .systolic, field: "systolicBP", profile: "bp", loinc: "85354-9", display: "Blood pressure panel with all children optional", ucum: "mm[Hg]"),
    ]

    /// The vitals a row holds, in `vitalSpecs` order.
    public static func vitalsPresent(_ row: JSONValue) -> [ResourceID.Vital] {
        vitalSpecs.filter { row[$0.field]?.numberValue != nil }.map(\.vital)
    }

    /// Every vital-sign Observation of a vitals row. `alteredMentation` is not a vital sign in
    /// FHIR and has no code in clinical-spec 12.4: it is not exported (docs/fhir.md lists it).
    public static func vitals(_ row: JSONValue) -> [JSONValue] {
        vitalsPresent(row).compactMap { vital(row, $0) }
    }

    public static func vital(_ row: JSONValue, _ vital: ResourceID.Vital) -> JSONValue? {
        guard let spec = vitalSpecs.first(where: { $0.vital == vital }), let value = row[spec.field]?.numberValue,
              let rowID = row["id"]?.stringValue else { return nil }
        var pairs: [(String, JSONValue?)] = [
            ("resourceType", "Observation"), ("id", .string(ResourceID.vital(rowID, vital))),
            ("meta", FHIR.meta(row, profile: "http://hl7.org/fhir/StructureDefinition/\(spec.profile)")),
            ("status", .string(status)), ("category", vitalSigns),
            ("code", FHIR.concept([FHIR.coding(CodeSystem.loinc, spec.loinc, spec.display)], text: spec.display)),
            ("subject", FHIR.reference("Patient", row["patientId"]?.stringValue ?? "")),
            ("effectiveDateTime", row["date"]),
        ]
        if vital == .systolic {
            pairs.append(("component", .array([
                FHIR.object([("code", FHIR.concept([FHIR.coding(CodeSystem.loinc, "8480-6", "Systolic blood pressure")])),
                             ("valueQuantity", FHIR.quantity(value, ucum: "mm[Hg]", unit: "mmHg"))]),
                FHIR.object([("code", FHIR.concept([FHIR.coding(CodeSystem.loinc, "8462-4", "Diastolic blood pressure")])),
                             ("dataAbsentReason", FHIR.concept([FHIR.coding("http://terminology.hl7.org/CodeSystem/data-absent-reason", "not-asked", "Not Asked")]))]),
            ])))
        } else {
            pairs.append(("valueQuantity", FHIR.quantity(value, ucum: spec.ucum)))
        }
        return FHIR.object(pairs)
    }

    /// Id of the body weight Observation built from the patient's `weightKg` (the registry keeps
    /// one current weight per patient, not a dated series).
    public static func weightID(patientID: String) -> String { "weight-\(patientID)" }

    /// Body weight (29463-7, kg) from the patient record, effective when the patient record was last updated.
    public static func weight(patient: JSONValue) -> JSONValue? {
        guard let kg = patient["weightKg"]?.numberValue, let pid = patient["id"]?.stringValue else { return nil }
        return FHIR.object([
            ("resourceType", "Observation"), ("id", .string(weightID(patientID: pid))),
            ("meta", FHIR.meta(patient, profile: "http://hl7.org/fhir/StructureDefinition/bodyweight")),
            ("status", .string(status)), ("category", vitalSigns),
            ("code", FHIR.concept([FHIR.coding(CodeSystem.loinc, "29463-7", "Body weight")], text: "Body weight")),
            ("subject", FHIR.reference("Patient", pid)),
            ("effectiveDateTime", patient["updatedAt"] ?? patient["createdAt"]),
            ("valueQuantity", FHIR.quantity(kg, ucum: "kg")),
        ])
    }

    /// Wound size panel (72287-6) with length 39126-8, width 39125-0, depth 39127-6 (cm) and
    /// area 89260-4 (cm2) (12.4, 12.6; HL7 wound IG). Perimeter, healed and pain have no LOINC
    /// code in 12.4 (pain VAS: NF), so they are components with local codes.
    public static func measurement(_ m: JSONValue) -> JSONValue {
        var components: [JSONValue] = []
        func quantity(_ field: String, _ code: JSONValue, _ ucum: String) {
            guard let v = m[field]?.numberValue else { return }
            components.append(FHIR.object([("code", FHIR.concept([code])), ("valueQuantity", FHIR.quantity(v, ucum: ucum))]))
        }
        quantity("lengthCm", FHIR.coding(CodeSystem.loinc, "39126-8", "Length of Wound"), "cm")
        quantity("widthCm", FHIR.coding(CodeSystem.loinc, "39125-0", "Width of Wound"), "cm")
        quantity("depthCm", FHIR.coding(CodeSystem.loinc, "39127-6", "Depth of Wound"), "cm")
        quantity("areaCm2", FHIR.coding(CodeSystem.loinc, "89260-4", "Area of wound"), "cm2")
        quantity("perimeterCm", FHIR.local("wound-perimeter", "Perimeter of wound"), "cm")
        if let healed = m["healed"]?.boolValue {
            components.append(FHIR.object([("code", FHIR.concept([FHIR.local("wound-healed", "Wound healed")])), ("valueBoolean", .bool(healed))]))
        }
        if let pain = m["painVas"]?.numberValue {
            components.append(FHIR.object([("code", FHIR.concept([FHIR.local("pain-vas", "Pain, 0-10 visual analogue scale")])),
                                           ("valueQuantity", FHIR.quantity(pain, ucum: "{score}"))]))
        }
        return FHIR.object([
            ("resourceType", "Observation"), ("id", .string(m["id"]?.stringValue ?? "")), ("meta", FHIR.meta(m)),
            ("status", .string(status)), ("category", exam),
            ("code", FHIR.concept([FHIR.coding(CodeSystem.loinc, "72287-6", "Wound size panel")], text: "Wound size panel")),
            ("subject", FHIR.reference("Patient", m["patientId"]?.stringValue ?? "")),
            ("focus", m["lesionId"]?.stringValue.map { .array([FHIR.reference("BodyStructure", $0)]) }),
            ("effectiveDateTime", m["date"]),
            ("component", components.isEmpty ? nil : .array(components)),
        ])
    }
}
