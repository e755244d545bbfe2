import Fluent
import Foundation

extension RegistryRecordKind {
    /// The model of a record kind (nil for the patient row and its sections).
    var recordType: (any PatientRecord.Type)? {
        switch self {
        case .patient, .patientSection: nil
        case .lesion: LesionRecord.self
        case .measurement: MeasurementRecord.self
        case .visit: VisitRecord.self
        case .lab: LabRecord.self
        case .vitals: VitalsRecord.self
        case .medication: MedicationRecord.self
        case .hold: HoldRecord.self
        case .procedure: ProcedureRecord.self
        case .infection: InfectionEpisodeRecord.self
        case .imaging: ImagingRecord.self
        }
    }

    /// A record of this kind that is not deleted.
    func find(_ id: UUID, on db: any Database) async throws -> (any PatientRecord)? {
        guard let type = recordType else { return nil }
        return try await Self.find(type, id, on: db)
    }

    private static func find<R: PatientRecord>(_ type: R.Type, _ id: UUID, on db: any Database) async throws -> (any PatientRecord)? {
        try await R.find(id, on: db)
    }

    /// The patient's records of this kind that are not deleted (none for the patient row and its sections).
    func all(ofPatient patientID: UUID, on db: any Database) async throws -> [any PatientRecord] {
        guard let type = recordType else { return [] }
        return try await Self.all(type, ofPatient: patientID, on: db)
    }

    private static func all<R: PatientRecord>(_ type: R.Type, ofPatient patientID: UUID, on db: any Database) async throws -> [any PatientRecord] {
        try await R.query(on: db).filter(FieldKey("patient_id"), .equal, patientID).all()
    }

    /// Multi-row INSERTs of new records of this kind (`BulkRecordInsert`; the caller writes their history rows).
    /// `BulkRecordInsert.insert` of new records of this kind (timestamps set).
    func insert(_ models: [any PatientRecord], maxBinds: Int, on db: any Database) async throws {
        guard let type = recordType else { return }
        try await Self.insert(type, models, maxBinds: maxBinds, on: db)
    }

    private static func insert<R: PatientRecord>(_ type: R.Type, _ models: [any PatientRecord], maxBinds: Int, on db: any Database) async throws {
        try await BulkRecordInsert.insert(models.map { $0 as! R }, maxBinds: maxBinds, on: db)
    }
}
