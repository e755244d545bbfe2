/// Canonical URIs of the code systems CalciTrack writes and reads (HL7 terminology,
/// https://terminology.hl7.org/external_terminologies.html). One place, so a typo cannot make a
/// code unreadable to an EHR.
public enum CodeSystem {
    public static let snomed = "http://snomed.info/sct"
    public static let icd10cm = "http://hl7.org/fhir/sid/icd-10-cm"
    public static let loinc = "http://loinc.org"
    public static let rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
    public static let ucum = "http://unitsofmeasure.org"
    public static let observationCategory = "http://terminology.hl7.org/CodeSystem/observation-category"
    public static let conditionClinical = "http://terminology.hl7.org/CodeSystem/condition-clinical"
    public static let conditionVerification = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
    public static let conditionCategory = "http://terminology.hl7.org/CodeSystem/condition-category"
    public static let actCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
    /// CalciTrack's own codes where no standard code exists (clinical-spec 12: "NF ... use local codes").
    public static let local = "https://calcitrack.org/fhir/CodeSystem/calcitrack"
    /// A patient's MRN identifier system is this prefix followed by the site code (docs/fhir.md "Identity").
    public static let mrnPrefix = "https://calcitrack.org/fhir/sid/mrn/"
    /// A registry site's code (the identifier of its Group, `GroupOutbound`).
    public static let siteIdentifier = "https://calcitrack.org/fhir/sid/site"
    /// CalciTrack's extensions are this base followed by their name (next-due, pain-vas, ...).
    public static let extensionBase = "https://calcitrack.org/fhir/StructureDefinition/"
}

/// The FHIR version every resource, the CapabilityStatement and the content type declare.
public enum FHIRVersion {
    public static let number = "4.0.1"
    /// R4 http.html#mime-type: responses SHALL name the UTF-8 charset.
    public static let contentType = "application/fhir+json; fhirVersion=4.0; charset=utf-8"
}
