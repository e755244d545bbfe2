import CalciTrackCore
import CalciTrackFHIR

/// The bridge from CalciTrackFHIR's `InboundMapping` (FHIR resource → registry record bodies
/// and OperationOutcome issues) to the write side's `MappedResource`.
enum InboundAdapter {
    static let mrnSystemPrefix = CodeSystem.mrnPrefix

    static func map(_ resource: JSONObject) -> MappedResource {
        let result = InboundMapping.map(resource)
        guard !result.isRejected else { return MappedResource(records: [], issues: result.issues) }
        var issues = result.issues
        var records = result.records.map { r -> MappedRecord in
            let kind = kind(r.kind)
            return MappedRecord(kind: kind, body: r.body, subject: r.references[.patient],
                                parent: kind == .measurement ? r.references[.lesion] : kind == .hold ? r.references[.medication] : nil,
                                lesion: kind == .procedure || kind == .infection ? r.references[.lesion] : nil,
                                parentIndex: r.parentRecord)
        }
        if let i = records.firstIndex(where: { $0.kind == .patient }), records[i].body["mrn"] == nil {
            records[i].body["mrn"] = fallbackMRN(resource, issues: &issues)
        }
        return MappedResource(records: records, issues: issues)
    }

    /// A Patient without a CalciTrack MRN or typed MR identifier (carebundle, most EHR exports
    /// of other systems) is still a patient: its first identifier is taken as the MRN, and the
    /// OperationOutcome says so (the Inbound mapping leaves this choice to the writer).
    private static func fallbackMRN(_ resource: JSONObject, issues: inout [OperationOutcome.Issue]) -> JSONValue? {
        guard case .array(let ids)? = resource["identifier"] else { return nil }
        for (i, item) in ids.enumerated() {
            guard case .object(let id) = item, let value = id["value"]?.stringValue, !value.isEmpty else { continue }
            issues.removeAll { $0.expression == ["Patient.identifier"] && $0.diagnostics.contains("none was taken as the MRN") }
            issues.append(.init(.warning, .informational,
                                "no identifier is a CalciTrack MRN or typed MR; identifier[\(i)] \(id["system"]?.stringValue ?? "(no system)")|\(value) is stored as the MRN",
                                at: ["Patient.identifier[\(i)]"]))
            return .string(value)
        }
        return nil
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
