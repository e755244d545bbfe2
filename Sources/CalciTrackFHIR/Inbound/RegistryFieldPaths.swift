/// Where a registry field comes from in the FHIR resource the Inbound mappers read it from, so an
/// OperationOutcome about a refused value names the element (issue 5: "errors are
/// OperationOutcome with the element path"), not only the resource type. The registry's
/// validation names its own fields (`givenName`, `value`, `doseMg`); this is the way back.
public enum RegistryFieldPaths {
    /// The element of `resourceType` a registry field is read from; nil when it has none (the
    /// caller names the resource). `field` may be a path (`vitals[0].temperatureC`): its last name counts.
    public static func element(resourceType: String, field: String) -> String? {
        let name = field.split(whereSeparator: { $0 == "." || $0 == "[" || $0 == "]" }).last.map(String.init) ?? field
        guard let path = paths[resourceType]?[name] else { return nil }
        return resourceType + "." + path
    }

    /// Per resource type: registry field → element (FHIRPath, `[x]` for a choice).
    static let paths: [String: [String: String]] = [
        "Patient": [
            "givenName": "name.given", "familyName": "name.family", "mrn": "identifier", "siteCode": "identifier.system",
            "sex": "gender", "birthDate": "birthDate",
        ],
        "Observation": [
            // Labs
            "test": "code", "value": "valueQuantity.value", "unit": "valueQuantity.code", "date": "effective[x]",
            // Vitals and weight
            "temperatureC": "valueQuantity.value", "heartRate": "valueQuantity.value", "respiratoryRate": "valueQuantity.value",
            "systolicBP": "component.valueQuantity.value", "weightKg": "valueQuantity.value",
            // Lesion measurements (72287-6 panel)
            "lengthCm": "component.valueQuantity.value", "widthCm": "component.valueQuantity.value", "depthCm": "component.valueQuantity.value",
            "areaCm2": "component.valueQuantity.value", "perimeterCm": "component.valueQuantity.value", "healed": "component",
            "painVas": "component", "lesionId": "focus",
        ],
        "MedicationStatement": [
            "drug": "medication[x]", "doseMg": "dosage.doseAndRate.doseQuantity", "frequency": "dosage.timing", "route": "dosage.route",
            "start": "effectivePeriod.start", "stop": "effectivePeriod.end", "indication": "reasonCode",
        ],
        "Condition": [
            "onset": "onset[x]", "resolvedDate": "abatement[x]", "organism": "evidence",
            "diagnosisDate": "onset[x]", "subtype": "code", "lesionId": "bodySite",
        ],
        "Encounter": ["date": "period.start", "kind": "type"],
        "Procedure": ["date": "performed[x]", "kind": "code", "lesionId": "bodySite"],
        "ImagingStudy": ["date": "started", "modality": "modality"],
        "BodyStructure": ["label": "identifier", "site": "location", "laterality": "locationQualifier", "morphology": "morphology"],
    ]
}
