import CalciTrackCore
import CalciTrackFHIR
import SQLKit

/// `status` (Observation, Encounter, Procedure, ImagingStudy, MedicationStatement) and Condition
/// `clinical-status`: the status each resource is served with, as SQL, so "current medications"
/// (`MedicationStatement?patient=…&status=active`) and "active problems"
/// (`Condition?patient=…&clinical-status=active`) are one search. Each condition mirrors the
/// Outbound mapper that writes the status; `FHIRStatusSearchTests` checks every case against the
/// resources as read. Statuses that depend on the day (a medication's) are judged on the
/// search's day, as the resources it returns are.
enum FHIRStatusSearch {
    /// The parameter of a type, nil when it has none (Patient, BodyStructure, Flag).
    static func parameter(_ type: FHIRResourceType) -> String? {
        switch type {
        case .Condition: "clinical-status"
        case .Observation, .Encounter, .Procedure, .ImagingStudy, .MedicationStatement: "status"
        case .Patient, .BodyStructure, .Flag: nil
        }
    }

    /// The code system of each type's status (a token may name it; any other system matches nothing).
    static func system(_ type: FHIRResourceType) -> String? {
        switch type {
        case .Condition: "http://terminology.hl7.org/CodeSystem/condition-clinical"
        case .Observation: "http://hl7.org/fhir/observation-status"
        case .Encounter: "http://hl7.org/fhir/encounter-status"
        case .Procedure: "http://hl7.org/fhir/event-status"
        case .ImagingStudy: "http://hl7.org/fhir/imagingstudy-status"
        case .MedicationStatement: "http://hl7.org/fhir/CodeSystem/medication-statement-status"
        case .Patient, .BodyStructure, .Flag: nil
        }
    }

    /// The rows of `source` served with status `token` on `day`.
    static func match(_ source: FHIRSource, _ token: FHIRSource.Token, day: LocalDate) -> FHIRSource.CodeMatch {
        if let system = token.system, system != Self.system(source.type) { return .none }
        guard let code = token.code else { return .all }
        func constant(_ status: String) -> FHIRSource.CodeMatch { code == status ? .all : .none }
        switch (source.type, source.derived) {
        case (.Observation, _): return constant(ObservationOutbound.status)
        case (.Encounter, _): return constant(EncounterOutbound.status)
        case (.Procedure, _): return constant(ProcedureOutbound.status)
        case (.ImagingStudy, _): return constant(ImagingStudyOutbound.status)
        case (.Condition, .ssc): return constant("active")
        case (.Condition, .calcinosis):
            // ConditionOutbound.calcinosis: active while one of the patient's lesions is active.
            let activeLesion: SQLQueryString = "EXISTS (SELECT 1 FROM lesions l WHERE l.patient_id = t.id AND l.deleted_at IS NULL AND l.status = 'active')"
            switch code {
            case "active": return .sql(activeLesion)
            case "resolved": return .sql("NOT " + activeLesion)
            default: return .none
            }
        case (.Condition, _):
            // ConditionOutbound.infection: with a resolution date, resolved (outcome resolved) or
            // inactive; without, by the outcome (ongoing active, recurred recurrence, resolved
            // resolved, amputation or death inactive, unknown none).
            switch code {
            case "active": return .sql("(t.resolved_date IS NULL AND t.outcome = 'ongoing')")
            case "recurrence": return .sql("(t.resolved_date IS NULL AND t.outcome = 'recurred')")
            case "resolved": return .sql("(t.outcome = 'resolved')")
            case "inactive":
                return .sql("((t.resolved_date IS NOT NULL AND t.outcome <> 'resolved') OR (t.resolved_date IS NULL AND t.outcome IN ('amputation', 'death')))")
            default: return .none
            }
        case (.MedicationStatement, _):
            // MedicationStatementOutbound.status: stopped before the day completed; starting after
            // it intended; else on-hold while a hold covers the day, else active.
            let d = day.description
            let completed: SQLQueryString = "(t.stop IS NOT NULL AND t.stop < \(bind: d))"
            let intended: SQLQueryString = "(t.start IS NOT NULL AND t.start > \(bind: d))"
            let held: SQLQueryString = "EXISTS (SELECT 1 FROM medication_holds h WHERE h.medication_id = t.id AND h.deleted_at IS NULL "
                + "AND h.start <= \(bind: d) AND (h.\"end\" IS NULL OR h.\"end\" >= \(bind: d)))"
            switch code {
            case "completed": return .sql(completed)
            case "intended": return .sql("NOT " + completed + " AND " + intended)
            case "on-hold": return .sql("NOT " + completed + " AND NOT " + intended + " AND " + held)
            case "active": return .sql("NOT " + completed + " AND NOT " + intended + " AND NOT " + held)
            default: return .none
            }
        default: return .none
        }
    }
}
