import CalciTrackFHIR
import Fluent
import Foundation

/// Finds the registry record a FHIR type and logical id name (docs/fhir.md "Identity").
enum FHIRRecordLocator {
    struct Match: Sendable, Equatable {
        var kind: RegistryRecordKind
        var recordID: UUID
        var patientID: UUID?
    }

    /// The record kinds a resource type can be stored as.
    static func kinds(of resourceType: String) -> [RegistryRecordKind] {
        switch resourceType {
        case "Patient": [.patient]
        case "BodyStructure": [.lesion]
        case "Observation": [.measurement, .lab, .vitals]
        case "MedicationStatement", "MedicationRequest": [.medication]
        case "Procedure": [.procedure]
        case "Encounter": [.visit]
        case "Condition": [.infection, .patientSection]
        case "ImagingStudy", "DiagnosticReport": [.imaging]
        default: []
        }
    }

    static func locate(type: String, id: String, ledger: [String: ImportLedger.Entry], on db: any Database) async throws -> (RegistryRecordKind, UUID)? {
        if let known = ledger["\(type)/\(id)"], let kind = RegistryRecordKind(rawValue: known.kind) { return (kind, known.recordID) }
        if type == "Condition", id.hasPrefix("ssc-"), let pid = UUID.parse(id.dropFirst(4)) { return (.patientSection, pid) }
        guard let uuid = FHIRWriter.registryID(inLogicalID: id) else {
            // A client-assigned id an import kept in the ledger.
            let found = try await ImportLedger.lookup(["\(type)/\(id)"], on: db)
            return found.values.first.flatMap { e in RegistryRecordKind(rawValue: e.kind).map { ($0, e.recordID) } }
        }
        for kind in kinds(of: type) {
            switch kind {
            case .patient: if try await Patient.find(uuid, on: db) != nil { return (.patient, uuid) }
            case .patientSection: continue
            default: if try await kind.find(uuid, on: db) != nil { return (kind, uuid) }
            }
        }
        return nil
    }

    /// Records that belong to the patient (a patient with records is not deleted under them).
    static func dependentCount(ofPatient id: UUID, on db: any Database) async throws -> Int {
        var total = 0
        for kind in RegistryRecordKind.allCases {
            guard let type = kind.recordType else { continue }
            total += try await count(type, id, on: db)
        }
        return total
    }

    private static func count<R: PatientRecord>(_ type: R.Type, _ patientID: UUID, on db: any Database) async throws -> Int {
        try await R.query(on: db).filter(FieldKey("patient_id"), .equal, patientID).count()
    }
}
