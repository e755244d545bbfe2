/// The registry's record kinds, named as the JSON API names them (`/api/v1/<kind>`), which is
/// also how `resource_versions.record_kind` (migration 009) names them.
public enum RecordKind: String, Sendable, CaseIterable {
    case patients, lesions, measurements, visits, labs, vitals, medications, holds, procedures
    case infectionEpisodes = "infection-episodes", imagingStudies = "imaging-studies"
}

/// The FHIR resource types CalciTrack serves (docs/fhir.md, "Identity").
public enum FHIRResourceType: String, Sendable, CaseIterable {
    case Patient, Condition, Observation, BodyStructure, MedicationStatement, Procedure, Encounter, ImagingStudy, Flag
}
