import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Vapor

/// Loads registry rows as the API JSON the Outbound mappers read (identified: FHIR is never
/// de-identified, researchers are refused before this), deleted rows included so a read can
/// answer 410 for them.
enum FHIRRecords {
    struct Loaded: Sendable {
        var json: JSONValue
        var patientID: UUID
        var deleted: Bool
    }

    static func load<R: PatientRecord>(_ type: R.Type, _ ids: [UUID], on db: any Database) async throws -> [UUID: Loaded] {
        guard !ids.isEmpty else { return [:] }
        var result: [UUID: Loaded] = [:]
        for record in try await R.query(on: db).withDeleted().filter(\._$id ~~ ids).all() {
            guard let id = record.id else { continue }
            result[id] = Loaded(json: record.apiJSON(.none, includeAuthors: true), patientID: record.patientID,
                                deleted: record.deletedAt != nil)
        }
        return result
    }

    static func loadPatients(_ ids: [UUID], on db: any Database, today: LocalDate) async throws -> [UUID: Loaded] {
        guard !ids.isEmpty else { return [:] }
        let codes = try await PatientController.siteCodes(on: db)
        var result: [UUID: Loaded] = [:]
        for p in try await Patient.query(on: db).withDeleted().filter(\.$id ~~ ids).all() {
            guard let id = p.id else { continue }
            result[id] = Loaded(json: p.apiJSON(.none, today: today, siteCode: codes[p.$site.id]), patientID: id, deleted: p.deletedAt != nil)
        }
        return result
    }

    /// Rows of a kind by id.
    static func load(_ kind: RecordKind, _ ids: [UUID], on db: any Database, today: LocalDate) async throws -> [UUID: Loaded] {
        switch kind {
        case .patients: try await loadPatients(ids, on: db, today: today)
        case .lesions: try await load(LesionRecord.self, ids, on: db)
        case .measurements: try await load(MeasurementRecord.self, ids, on: db)
        case .visits: try await load(VisitRecord.self, ids, on: db)
        case .labs: try await load(LabRecord.self, ids, on: db)
        case .vitals: try await load(VitalsRecord.self, ids, on: db)
        case .medications: try await load(MedicationRecord.self, ids, on: db)
        case .holds: try await load(HoldRecord.self, ids, on: db)
        case .procedures: try await load(ProcedureRecord.self, ids, on: db)
        case .infectionEpisodes: try await load(InfectionEpisodeRecord.self, ids, on: db)
        case .imagingStudies: try await load(ImagingRecord.self, ids, on: db)
        }
    }

    /// What the mappers need besides the rows: the lesions infection episodes name, the holds of
    /// medications, judged as of today.
    static func context(for rows: [(RecordKind, JSONValue)], on db: any Database, today: LocalDate) async throws -> OutboundContext {
        var context = OutboundContext(asOf: today)
        let lesionIDs = rows.filter { $0.0 == .infectionEpisodes }.compactMap { $0.1["lesionId"]?.stringValue.flatMap(UUID.init(uuidString:)) }
        for lesion in try await LesionRecord.query(on: db).withDeleted().filter(\.$id ~~ lesionIDs).all() {
            if let id = lesion.id { context.lesions[id.lowercasedString] = lesion.apiJSON(.none, includeAuthors: true) }
        }
        let medicationIDs = rows.filter { $0.0 == .medications }.compactMap { $0.1["id"]?.stringValue.flatMap(UUID.init(uuidString:)) }
        for (id, holds) in try await MedicationHoldSnapshot.holds(of: medicationIDs, on: db) { context.holds[id.lowercasedString] = holds }
        return context
    }

    /// The patient's current lesions (for the calcinosis Condition).
    static func lesions(ofPatients ids: [UUID], on db: any Database) async throws -> [UUID: [JSONValue]] {
        guard !ids.isEmpty else { return [:] }
        var result: [UUID: [JSONValue]] = [:]
        for lesion in try await LesionRecord.query(on: db).filter(\.$patientID ~~ ids).sort(\.$createdAt).all() {
            result[lesion.patientID, default: []].append(lesion.apiJSON(.none, includeAuthors: true))
        }
        return result
    }
}
