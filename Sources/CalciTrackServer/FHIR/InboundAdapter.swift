import CalciTrackCore
import CalciTrackFHIR

/// The bridge from CalciTrackFHIR's `InboundMapping` (FHIR resource → registry record bodies
/// and OperationOutcome issues) to the write side's `MappedResource`.
enum InboundAdapter {
    static let mrnSystemPrefix = "https://calcitrack.org/fhir/sid/mrn/"

    static func map(_ resource: JSONObject) -> MappedResource {
        let result = InboundMapping.map(resource)
        guard !result.isRejected else { return MappedResource(records: [], issues: result.issues) }
        let records = result.records.map { r -> MappedRecord in
            let kind = kind(r.kind)
            return MappedRecord(kind: kind, body: r.body, subject: r.references[.patient],
                                parent: kind == .measurement ? r.references[.lesion] : kind == .hold ? r.references[.medication] : nil,
                                lesion: kind == .procedure || kind == .infection ? r.references[.lesion] : nil,
                                parentIndex: r.parentRecord)
        }
        return MappedResource(records: records, issues: result.issues)
    }

    static func kind(_ kind: InboundKind) -> RegistryRecordKind {
        switch kind {
        case .patient: .patient
        case .patientUpdate: .patientSection
        case .lesions: .lesion
        case .measurements: .measurement
        case .visits: .visit
        case .labs: .lab
        case .vitals: .vitals
        case .medications: .medication
        case .holds: .hold
        case .procedures: .procedure
        case .infectionEpisodes: .infection
        case .imagingStudies: .imaging
        }
    }
}
