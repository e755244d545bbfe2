import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Vapor

/// Finds the registry row behind a FHIR logical id (docs/fhir.md, "Identity") and maps it.
enum FHIRResolver {
    /// Where a resource id can come from: candidate record kinds and the row id, or nil when the
    /// id cannot name a CalciTrack resource of that type.
    static func candidates(_ type: FHIRResourceType, _ id: String) -> (kinds: [RecordKind], rowID: UUID)? {
        func uuid(_ text: Substring) -> UUID? { UUID.parse(text) }
        switch type {
        case .Patient: return uuid(id[...]).map { ([.patients], $0) }
        case .Condition:
            if id.hasPrefix("ssc-") { return uuid(id.dropFirst(4)).map { ([.patients], $0) } }
            if id.hasPrefix("calcinosis-") { return uuid(id.dropFirst(11)).map { ([.patients], $0) } }
            return uuid(id[...]).map { ([.infectionEpisodes], $0) }
        case .Observation:
            if let vital = ResourceID.parseVital(id) { return UUID.parse(vital.vitalsID).map { ([.vitals], $0) } }
            if id.hasPrefix("weight-") { return uuid(id.dropFirst(7)).map { ([.patients], $0) } }
            return uuid(id[...]).map { ([.labs, .measurements], $0) }
        case .BodyStructure: return uuid(id[...]).map { ([.lesions], $0) }
        case .MedicationStatement: return uuid(id[...]).map { ([.medications], $0) }
        case .Procedure: return uuid(id[...]).map { ([.procedures], $0) }
        case .Encounter: return uuid(id[...]).map { ([.visits], $0) }
        case .ImagingStudy: return uuid(id[...]).map { ([.imagingStudies], $0) }
        case .Flag:
            // alert-<rule>-<patient uuid>[-n]
            guard id.hasPrefix("alert-") else { return nil }
            let parts = id.split(separator: "-", omittingEmptySubsequences: false)
            for start in parts.indices where parts.count - start >= 5 {
                let candidate = parts[start..<(start + 5)].joined(separator: "-")
                if let u = UUID.parse(candidate) { return ([.patients], u) }
            }
            return nil
        }
    }

    struct Found: Sendable {
        var kind: RecordKind
        var rowID: UUID
        var patientID: UUID
        var row: FHIRRecords.Loaded
    }

    /// The row a resource id names, deleted or not, or nil.
    static func row(_ type: FHIRResourceType, _ id: String, on db: any Database, today: LocalDate) async throws -> Found? {
        guard let (kinds, rowID) = candidates(type, id) else { return nil }
        for kind in kinds {
            if let loaded = try await FHIRRecords.load(kind, [rowID], on: db, today: today)[rowID] {
                return Found(kind: kind, rowID: rowID, patientID: loaded.patientID, row: loaded)
            }
        }
        return nil
    }

    /// Maps a record JSON (current or a stored version) to the resource `type/id`; nil when the
    /// record does not produce it (e.g. a vitals row without that vital).
    static func map(_ type: FHIRResourceType, _ id: String, kind: RecordKind, record: JSONValue, on db: any Database, today: LocalDate) async throws -> JSONValue? {
        if type == .Condition, id.hasPrefix("calcinosis-"), let pid = record["id"]?.stringValue.flatMap(UUID.init(uuidString:)) {
            return ConditionOutbound.calcinosis(patient: record, lesions: try await FHIRRecords.lesions(ofPatients: [pid], on: db)[pid] ?? [])
        }
        let context = try await FHIRRecords.context(for: [(kind, record)], on: db, today: today)
        return OutboundMapper.resource(type: type, id: id, kind: kind, record: record, context: context)
    }
}
