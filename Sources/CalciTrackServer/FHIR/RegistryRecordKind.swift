import CalciTrackCore
import CalciTrackFHIR

/// The registry records a FHIR resource can be written as (docs/fhir.md "Identity"). The raw
/// value is the JSON API's path segment, which is also the audit resource type.
enum RegistryRecordKind: String, Sendable, CaseIterable {
    case patient = "patients"
    /// A partial update of the patient row (the SSc Condition → `ssc`, a body weight → `weightKg`),
    /// merged with `InboundMapping.mergePatientUpdate`; never a record of its own.
    case patientSection = "patient-sections"
    case lesion = "lesions"
    case measurement = "measurements"
    case visit = "visits"
    case lab = "labs"
    case vitals = "vitals"
    case medication = "medications"
    case hold = "holds"
    case procedure = "procedures"
    case infection = "infection-episodes"
    case imaging = "imaging-studies"

    /// Parents are written before children in one batch: patients, then what measurements,
    /// holds, procedures and infection episodes point at.
    var writeOrder: Int {
        switch self {
        case .patient: 0
        case .patientSection: 1
        case .lesion, .medication: 2
        default: 3
        }
    }

    /// The resource type a record of this kind is read back as (a MedicationRequest is stored
    /// as a medication and served as a MedicationStatement, an imaging DiagnosticReport as an ImagingStudy).
    func servedType(requested: String) -> String {
        switch self {
        case .patient: "Patient"
        case .patientSection: requested == "Observation" ? "Observation" : "Condition"
        case .lesion: "BodyStructure"
        case .measurement, .lab, .vitals: "Observation"
        case .medication, .hold: "MedicationStatement"
        case .procedure: "Procedure"
        case .visit: "Encounter"
        case .infection: "Condition"
        case .imaging: "ImagingStudy"
        }
    }

    /// Resource types in the order a directory of NDJSON files is imported (references point
    /// from later files to earlier ones).
    static func fileOrder(ofResourceType type: String) -> Int {
        switch type {
        case "Patient": 0
        case "BodyStructure", "MedicationStatement", "MedicationRequest", "Encounter": 1
        case "Condition": 2
        default: 3
        }
    }
}

/// One registry record a FHIR resource maps to, with the references still to resolve.
struct MappedRecord: Sendable {
    var kind: RegistryRecordKind
    /// The JSON API body (`POST /api/v1/patients/{id}/{kind}`); for a patient, the patient body
    /// with `siteCode` when the MRN identifier names the site.
    var body: JSONObject
    /// Reference to the patient (`Patient/<id>`, `urn:uuid:...`); nil for a Patient.
    var subject: String?
    /// Reference to the parent: the BodyStructure of a measurement, the MedicationStatement of a hold.
    var parent: String?
    /// Reference to a BodyStructure a procedure or infection episode names (becomes `lesionId`).
    var lesion: String?
    /// The record of the same resource this one hangs under (a hold under its medication).
    var parentIndex: Int?
}

/// What a resource maps to, and what could not be mapped.
struct MappedResource: Sendable {
    var records: [MappedRecord]
    var issues: [OperationOutcome.Issue]

    private var errors: [OperationOutcome.Issue] { issues.filter { $0.severity == .error || $0.severity == .fatal } }
    var rejected: Bool { records.isEmpty || !errors.isEmpty }
    /// True when nothing of the resource is stored by design: a type or code CalciTrack has no
    /// registry home for (`not-supported` errors), or a resource derived from other records
    /// (the calcinosis Condition: a warning, no record).
    var notStorable: Bool { records.isEmpty && errors.allSatisfy { $0.code == .notSupported } && !issues.isEmpty }
    /// Nothing stored, and nothing wrong with the resource (a derived resource): 200 with a warning.
    var derived: Bool { records.isEmpty && errors.isEmpty && !issues.isEmpty }
}
