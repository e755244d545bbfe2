import CalciTrackCore
import CalciTrackFHIR
import Fluent
import SQLKit
import Vapor

/// Writes a `resource_versions` row (009) for every create, update and (soft or hard) delete of a
/// patient or a record, through whichever path the write came (JSON API, web forms, FHIR,
/// import, demo data): a Fluent model middleware runs on the database the model is saved on,
/// which is the write's transaction, so the version row commits or rolls back with the write.
/// A deletion is stored as the next version with `deleted` set (FHIR history lists deletions).
struct ResourceHistoryMiddleware<M: PatientRecord>: AsyncModelMiddleware {
    typealias Model = M

    /// The record's API JSON; a medication's with its holds (`MedicationHoldSnapshot`).
    private func body(_ model: M, on db: any Database) async throws -> JSONValue {
        if let medication = model as? MedicationRecord { return try await MedicationHoldSnapshot.body(medication, on: db) }
        return model.apiJSON(.none, includeAuthors: true)
    }

    func create(model: M, on db: any Database, next: any AnyAsyncModelResponder) async throws {
        try await next.create(model, on: db)
        try await ResourceHistory.append(kind: M.info.path, id: model.requireID(), version: model.version, patientID: model.patientID,
                                         deleted: false, body: try await body(model, on: db), on: db)
    }

    func update(model: M, on db: any Database, next: any AnyAsyncModelResponder) async throws {
        try await next.update(model, on: db)
        try await ResourceHistory.append(kind: M.info.path, id: model.requireID(), version: model.version, patientID: model.patientID,
                                         deleted: false, body: try await body(model, on: db), on: db)
    }

    func softDelete(model: M, on db: any Database, next: any AnyAsyncModelResponder) async throws {
        try await next.softDelete(model, on: db)
        try await ResourceHistory.append(kind: M.info.path, id: model.requireID(), version: model.version + 1, patientID: model.patientID,
                                         deleted: true, body: try await body(model, on: db), on: db)
    }

    func delete(model: M, force: Bool, on db: any Database, next: any AnyAsyncModelResponder) async throws {
        try await next.delete(model, force: force, on: db)
        try await ResourceHistory.append(kind: M.info.path, id: model.requireID(), version: model.version + 1, patientID: model.patientID,
                                         deleted: true, body: try await body(model, on: db), on: db)
    }
}

/// The same for patients; their API JSON names the site code (the MRN identifier's system).
struct PatientHistoryMiddleware: AsyncModelMiddleware {
    typealias Model = Patient

    private func body(_ patient: Patient, on db: any Database) async throws -> JSONValue {
        let code = try await Site.find(patient.$site.id, on: db)?.code
        return patient.apiJSON(.none, today: LocalDate.utc(Date()), siteCode: code)
    }

    func create(model: Patient, on db: any Database, next: any AnyAsyncModelResponder) async throws {
        try await next.create(model, on: db)
        try await ResourceHistory.append(kind: RecordKind.patients.rawValue, id: model.requireID(), version: model.version,
                                         patientID: model.requireID(), deleted: false, body: try await body(model, on: db), on: db)
    }

    func update(model: Patient, on db: any Database, next: any AnyAsyncModelResponder) async throws {
        try await next.update(model, on: db)
        try await ResourceHistory.append(kind: RecordKind.patients.rawValue, id: model.requireID(), version: model.version,
                                         patientID: model.requireID(), deleted: false, body: try await body(model, on: db), on: db)
    }

    func softDelete(model: Patient, on db: any Database, next: any AnyAsyncModelResponder) async throws {
        try await next.softDelete(model, on: db)
        try await ResourceHistory.append(kind: RecordKind.patients.rawValue, id: model.requireID(), version: model.version + 1,
                                         patientID: model.requireID(), deleted: true, body: try await body(model, on: db), on: db)
    }

    func delete(model: Patient, force: Bool, on db: any Database, next: any AnyAsyncModelResponder) async throws {
        try await next.delete(model, force: force, on: db)
        try await ResourceHistory.append(kind: RecordKind.patients.rawValue, id: model.requireID(), version: model.version + 1,
                                         patientID: model.requireID(), deleted: true, body: try await body(model, on: db), on: db)
    }
}

/// The `resource_versions` table (009).
enum ResourceHistory {
    static let table = "resource_versions"
    /// The columns a version row is written with (here and by `BulkRecordInsert.history`).
    static let columns = ["record_kind", "record_id", "version", "patient_id", "deleted", "recorded_at", "body"]

    static func append(kind: String, id: UUID, version: Int, patientID: UUID, deleted: Bool, body: JSONValue, on db: any Database) async throws {
        try await (db as! any SQLDatabase).insert(into: table)
            .columns(columns)
            .values(SQLBind(kind), SQLBind(id), SQLBind(version), SQLBind(patientID), SQLBind(deleted), SQLBind(Date()),
                    SQLBind(JSONWriter.write(body, pretty: false)))
            .run()
    }

    struct Version: Sendable {
        let kind: String
        let recordID: UUID
        let version: Int
        let patientID: UUID
        let deleted: Bool
        let recordedAt: Date
        let body: JSONValue
    }

    static func decode(_ row: any SQLRow) throws -> Version {
        let text = try row.decode(column: "body", as: String.self)
        return Version(kind: try row.decode(column: "record_kind", as: String.self), recordID: try row.decode(column: "record_id", as: UUID.self),
                       version: try row.decode(column: "version", as: Int.self), patientID: try row.decode(column: "patient_id", as: UUID.self),
                       deleted: try row.decode(column: "deleted", as: Bool.self), recordedAt: try row.decode(column: "recorded_at", as: Date.self),
                       body: (try? JSONParser.parse(text)) ?? .null)
    }

    /// Every stored version of one record, newest first.
    static func versions(kind: String, id: UUID, on db: any Database) async throws -> [Version] {
        try await (db as! any SQLDatabase).raw("""
            SELECT record_kind, record_id, version, patient_id, deleted, recorded_at, body FROM resource_versions
            WHERE record_kind = \(bind: kind) AND record_id = \(bind: id) ORDER BY version DESC
            """).all().map(decode)
    }

    /// One stored version of a record.
    static func version(kind: String, id: UUID, version: Int, on db: any Database) async throws -> Version? {
        try await (db as! any SQLDatabase).raw("""
            SELECT record_kind, record_id, version, patient_id, deleted, recorded_at, body FROM resource_versions
            WHERE record_kind = \(bind: kind) AND record_id = \(bind: id) AND version = \(bind: version)
            """).first().map(decode)
    }

    /// Registers the middleware for the patient and every record kind.
    static func register(_ app: Application) {
        app.databases.middleware.use(PatientHistoryMiddleware())
        app.databases.middleware.use(ResourceHistoryMiddleware<LesionRecord>())
        app.databases.middleware.use(ResourceHistoryMiddleware<MeasurementRecord>())
        app.databases.middleware.use(ResourceHistoryMiddleware<VisitRecord>())
        app.databases.middleware.use(ResourceHistoryMiddleware<LabRecord>())
        app.databases.middleware.use(ResourceHistoryMiddleware<VitalsRecord>())
        app.databases.middleware.use(ResourceHistoryMiddleware<MedicationRecord>())
        app.databases.middleware.use(ResourceHistoryMiddleware<HoldRecord>())
        app.databases.middleware.use(ResourceHistoryMiddleware<ProcedureRecord>())
        app.databases.middleware.use(ResourceHistoryMiddleware<InfectionEpisodeRecord>())
        app.databases.middleware.use(ResourceHistoryMiddleware<ImagingRecord>())
    }
}
