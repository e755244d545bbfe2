import CalciTrackCore

/// FHIR R4 resource JSON → the registry record bodies the JSON API accepts (docs/fhir.md,
/// "Inbound"). Pure: no I/O, no registry look-ups; the caller (FHIR write, Bundle import,
/// CDS Hooks prefetch) resolves references and writes.
///
/// Usage:
/// ```swift
/// let result = InboundMapping.map(resource)          // resource: a FHIR R4 resource (JSONObject)
/// if result.isRejected { /* answer result.outcome (422 / Bundle entry outcome); write nothing */ }
/// for record in result.records {
///     // record.kind tells where the body goes:
///     //   .patient          POST /api/v1/patients (or PUT /patients/{id}): the body lacks `siteId`;
///     //                     `siteCode` is set when the MRN identifier's system named the site
///     //                     (https://calcitrack.org/fhir/sid/mrn/<site code>), else the caller picks the site.
///     //   .patientUpdate    a partial patient body to merge into the stored one, then PUT: each top-level
///     //                     key replaces the stored value, except objects (`ssc`, `history`), whose keys are
///     //                     merged, and arrays inside them (`ssc.features`), which are united.
///     //   any other kind    POST /api/v1/patients/{patient}/{kind.rawValue}, except
///     //                     .measurements  POST /api/v1/lesions/{lesion}/measurements
///     //                     .holds         POST /api/v1/medications/{medication}/holds
///     // record.references[role] is a FHIR reference string ("Patient/123", "urn:uuid:...",
///     //   "BodyStructure/<uuid>") the caller resolves to a registry UUID:
///     //   .patient     the patient the record belongs to (absent for .patient records);
///     //   .lesion      for .measurements the lesion in the URL; for .procedures and
///     //                .infectionEpisodes the body's `lesionId` (the caller adds it);
///     //   .medication  for .holds the medication in the URL, when it is another resource.
///     // record.parentRecord: index in `records` of the record this one hangs under when both
///     //   come from the same resource (a MedicationStatement `on-hold` gives a medication and its hold).
///     // record.date: the clinical date of the record (for a weight, the day it was measured:
///     //   keep the latest when several weights arrive).
/// }
/// // result.issues: warnings (elements not stored) and information to return in the OperationOutcome.
/// ```
/// Several vital-sign Observations of one day are one registry vitals row (the engine reads the
/// latest row only): merge them with `InboundMapping.mergeVitals` before writing.
/// Bodies are not validated against the registry's ranges here: the API's `apply` (the engine's
/// decoder) does that, with the same messages as for any other client.
public enum InboundMapping {
    public static func map(_ resource: JSONObject) -> InboundResult {
        guard case .string(let type)? = resource["resourceType"] else {
            return InboundResult(rejecting: .init(.error, .structure, "resourceType is required (a string naming an R4 resource type)", at: ["resourceType"]))
        }
        var reader = ResourceReader(type: type, resource)
        var records: [InboundRecord] = []
        switch type {
        case "Patient": records = PatientInbound.map(&reader)
        case "Condition": records = ConditionInbound.map(&reader)
        case "Observation": records = ObservationInbound.map(&reader)
        case "BodyStructure": records = BodyStructureInbound.map(&reader)
        case "MedicationStatement", "MedicationRequest": records = MedicationInbound.map(&reader)
        case "Procedure": records = ProcedureInbound.map(&reader)
        case "Encounter": records = EncounterInbound.map(&reader)
        case "ImagingStudy", "DiagnosticReport": records = ImagingInbound.map(&reader)
        default:
            return InboundResult(rejecting: .init(.error, .notSupported,
                "\(type) is not stored by CalciTrack (it stores Patient, Condition, Observation, BodyStructure, MedicationStatement, "
                + "MedicationRequest, Procedure, Encounter, ImagingStudy and imaging DiagnosticReport)", at: [type]))
        }
        reader.finish()
        // A rejected resource stores nothing: its errors say why; warnings about single elements would be noise.
        if reader.rejected { return InboundResult(records: [], issues: reader.issues.filter { $0.severity == .error || $0.severity == .fatal }) }
        return InboundResult(records: records, issues: reader.issues)
    }

    /// A `.patientUpdate` body merged into a stored patient body (or case root): top-level
    /// values replace, objects (`ssc`, `history`) merge key by key, arrays inside them
    /// (`ssc.features`) are united in order.
    public static func mergePatientUpdate(_ update: JSONObject, into stored: JSONObject) -> JSONObject {
        var out = stored
        for (key, value) in update.entries {
            guard case .object(let section) = value, case .object(var existing)? = out[key] else { out[key] = value; continue }
            for (k, v) in section.entries {
                if case .array(let new) = v, case .array(let old)? = existing[k] {
                    existing[k] = .array(old + new.filter { !old.contains($0) })
                } else {
                    existing[k] = v
                }
            }
            out[key] = .object(existing)
        }
        return out
    }

    /// Vitals records of the same patient reference and day merged into one row each, in first
    /// appearance order. Two different values of one vital on the same day are both kept (two
    /// rows), never averaged or chosen between. Other records pass unchanged.
    public static func mergeVitals(_ records: [InboundRecord]) -> [InboundRecord] {
        var out: [InboundRecord] = []
        var rowIndex: [String: Int] = [:]
        for record in records {
            guard record.kind == .vitals, case .string(let date)? = record.body["date"] else { out.append(record); continue }
            let key = (record.references[.patient] ?? "") + "|" + date
            if let i = rowIndex[key], record.body.entries.allSatisfy({ $0.key == "date" || out[i].body[$0.key] == nil || out[i].body[$0.key] == $0.value }) {
                for (k, v) in record.body.entries where out[i].body[k] == nil { out[i].body[k] = v }
            } else {
                rowIndex[key] = out.count
                out.append(record)
            }
        }
        return out
    }
}

/// Where a mapped body goes (the JSON API's record kinds, plus the patient's own body).
public enum InboundKind: String, Sendable, Equatable, CaseIterable {
    case patient
    case patientUpdate = "patient-update"
    case lesions, measurements, visits, labs, vitals, medications, holds, procedures
    case infectionEpisodes = "infection-episodes"
    case imagingStudies = "imaging-studies"
}

/// What a reference of a mapped record points at.
public enum ReferenceRole: String, Sendable, Hashable, CaseIterable { case patient, lesion, medication }

public struct InboundRecord: Sendable, Equatable {
    public var kind: InboundKind
    /// The API body (the keys the record's `apply` accepts), without ids the caller resolves.
    public var body: JSONObject
    /// FHIR reference strings by role, as written in the resource (see `InboundMapping`).
    public var references: [ReferenceRole: String]
    /// Index of the record of the same resource this one belongs under (a hold's medication).
    public var parentRecord: Int?
    /// The clinical date of the record (YYYY-MM-DD), when it has one.
    public var date: String?

    public init(kind: InboundKind, body: JSONObject, references: [ReferenceRole: String] = [:], parentRecord: Int? = nil, date: String? = nil) {
        self.kind = kind; self.body = body; self.references = references; self.parentRecord = parentRecord; self.date = date
    }
}

public struct InboundResult: Sendable, Equatable {
    /// Empty when the resource was rejected.
    public var records: [InboundRecord]
    /// Everything not stored as sent: `error` (the resource is rejected, nothing may be written),
    /// `warning` (an element dropped from an accepted resource), `information` (a conversion or
    /// a derived value). FHIRPath `expression` names the element.
    public var issues: [OperationOutcome.Issue]

    public init(records: [InboundRecord], issues: [OperationOutcome.Issue]) { self.records = records; self.issues = issues }
    init(rejecting issue: OperationOutcome.Issue) { self.records = []; self.issues = [issue] }

    /// True when any issue is an error: write nothing from this resource.
    public var isRejected: Bool { issues.contains { $0.severity == .error || $0.severity == .fatal } }
    public var outcome: OperationOutcome { OperationOutcome(issues) }
}
