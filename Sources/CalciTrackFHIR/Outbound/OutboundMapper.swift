import CalciTrackCore

/// One entry point for the server, the exporter and history reads: a registry record of a kind
/// (its API JSON with authors, current or a stored version) → the FHIR resources it becomes.
/// Derived resources that need other records (the calcinosis Condition, alert Flags) are built
/// by their own functions.
public enum OutboundMapper {
    public static func resources(kind: RecordKind, record: JSONValue, context: OutboundContext) -> [JSONValue] {
        switch kind {
        case .patients:
            return [PatientOutbound.resource(record)] + [ConditionOutbound.ssc(patient: record), ObservationOutbound.weight(patient: record)].compactMap { $0 }
        case .lesions: return [BodyStructureOutbound.resource(record)]
        case .measurements: return [ObservationOutbound.measurement(record)]
        case .visits: return [EncounterOutbound.resource(record)]
        case .labs: return [ObservationOutbound.lab(record)]
        case .vitals: return ObservationOutbound.vitals(record)
        case .medications:
            // A stored version carries the holds it had (`holds`); the current record takes today's.
            let id = record["id"]?.stringValue ?? ""
            let holds = record["holds"]?.arrayValue ?? context.holds[id] ?? []
            return [MedicationStatementOutbound.resource(record, holds: holds, asOf: context.asOf)]
        case .holds: return []   // part of their medication's MedicationStatement
        case .procedures: return [ProcedureOutbound.resource(record)]
        case .infectionEpisodes: return [ConditionOutbound.infection(record, context: context)]
        case .imagingStudies: return [ImagingStudyOutbound.resource(record)]
        }
    }

    /// The one resource with `id` among those a record becomes (e.g. one vital of a vitals row).
    public static func resource(type: FHIRResourceType, id: String, kind: RecordKind, record: JSONValue, context: OutboundContext) -> JSONValue? {
        resources(kind: kind, record: record, context: context).first {
            $0["resourceType"]?.stringValue == type.rawValue && $0["id"]?.stringValue == id
        }
    }
}
