import CalciTrackCore
import Fluent
import Vapor

/// The API of one kind of clinical record, the same for every kind:
///   GET  /patients/{id}/{kind}            (or /lesions/{id}/measurements, /medications/{id}/holds)
///   POST /patients/{id}/{kind}            create; 201 with ETag
///   GET  /{kind}/{recordId}               read; ETag = version
///   PUT  /{kind}/{recordId}               full update; needs If-Match
///   DELETE /{kind}/{recordId}             soft delete (kept for the audit trail); needs If-Match
/// Every write is one transaction with its audit entry and the patient's summary refresh.
struct RecordController<R: PatientRecord>: Sendable {
    func register(_ api: any RoutesBuilder) {
        let kind = R.info.path
        switch R.info.parent {
        case .patient:
            api.get("patients", ":id", "\(kind)", use: list)
            api.post("patients", ":id", "\(kind)", use: create)
        case .lesion:
            api.get("lesions", ":id", "\(kind)", use: list)
            api.post("lesions", ":id", "\(kind)", use: create)
        case .medication:
            api.get("medications", ":id", "\(kind)", use: list)
            api.post("medications", ":id", "\(kind)", use: create)
        }
        api.get("\(kind)", ":id", use: read)
        api.put("\(kind)", ":id", use: update)
        api.delete("\(kind)", ":id", use: delete)
    }

    /// The patient a parent id in the URL belongs to (the patient itself, or a lesion's or medication's).
    private func patientID(forParent parentID: UUID, on db: any Database) async throws -> UUID {
        switch R.info.parent {
        case .patient: return parentID
        case .lesion:
            guard let lesion = try await LesionRecord.find(parentID, on: db) else { throw APIError.notFound("lesion") }
            return lesion.patientID
        case .medication:
            guard let medication = try await MedicationRecord.find(parentID, on: db) else { throw APIError.notFound("medication") }
            return medication.patientID
        }
    }

    @Sendable func list(req: Request) async throws -> Response {
        let principal = try await req.principal()
        let parentID = try req.uuidParameter("id", "parent record")
        let (patient, shift) = try await PatientAccess.load(try await patientID(forParent: parentID, on: req.db), principal, .read, on: req.db)
        let records = try await R.query(on: req.db).filter(R.info.parent.key, .equal, parentID).sort(R.info.dateKey).all()
        try await req.recordAudit([AuditEvent(action: "read", resourceType: R.info.path, patientID: patient.id?.lowercasedString,
                                              detail: "listed \(records.count) \(R.info.name) record(s)")],
                                  actor: try await req.auditActor)
        return Response.json(.object(JSONObject([("items", .array(records.map { $0.apiJSON(shift, includeAuthors: shift.days == 0) }))])))
    }

    @Sendable func create(req: Request) async throws -> Response {
        let principal = try await req.principal()
        let parentID = try req.uuidParameter("id", "parent record")
        let body = try req.jsonObject()
        let today = req.today
        let actor = try await req.auditActor
        let record = try await AuditLog.write(on: req.db, actor: actor) { tx in
            let pid = try await patientID(forParent: parentID, on: tx)
            _ = try await PatientAccess.load(pid, principal, .write, on: tx)
            let record = R()
            try record.apply(body, today: today)
            try await checkReferences(record, patientID: pid, on: tx)
            record.patientID = pid
            if R.info.parent != .patient { record.parentID = parentID }
            record.version = 1
            record.createdBy = principal.username
            record.updatedBy = principal.username
            try await record.create(on: tx)
            let parent = try await versionMedication(of: record, "hold created", by: principal.username, on: tx)
            try await PatientSummary.refresh(pid, on: tx, today: today)
            return (record, [AuditEvent(action: "create", resourceType: R.info.path, resourceID: record.id?.lowercasedString,
                                        patientID: pid.lowercasedString, detail: "version 1")] + parent)
        }
        return respond(record, status: .created)
    }

    @Sendable func read(req: Request) async throws -> Response {
        let principal = try await req.principal()
        let id = try req.uuidParameter("id", R.info.name)
        guard let record = try await R.find(id, on: req.db) else { throw APIError.notFound(R.info.name) }
        let (_, shift) = try await PatientAccess.load(record.patientID, principal, .read, on: req.db)
        try await req.recordAudit([AuditEvent(action: "read", resourceType: R.info.path, resourceID: id.lowercasedString,
                                              patientID: record.patientID.lowercasedString)],
                                  actor: try await req.auditActor)
        return respond(record, shift: shift)
    }

    @Sendable func update(req: Request) async throws -> Response {
        let principal = try await req.principal()
        let id = try req.uuidParameter("id", R.info.name)
        let expected = try VersionCheck.required(req)
        let body = try req.jsonObject()
        let today = req.today
        let record = try await AuditLog.write(on: req.db, actor: try await req.auditActor) { tx in
            guard let record = try await R.find(id, on: tx) else { throw APIError.notFound(R.info.name) }
            _ = try await PatientAccess.load(record.patientID, principal, .write, on: tx)
            try VersionCheck.check(expected, current: record.version, what: R.info.name)
            let before = record.apiFields(.none)
            try record.apply(body, today: today)
            let changed = Self.changedFields(before, record.apiFields(.none))
            try await checkReferences(record, patientID: record.patientID, on: tx)
            record.version += 1
            record.updatedBy = principal.username
            try await record.update(on: tx)
            let parent = try await versionMedication(of: record, "hold updated", by: principal.username, on: tx)
            try await PatientSummary.refresh(record.patientID, on: tx, today: today)
            return (record, [AuditEvent(action: "update", resourceType: R.info.path, resourceID: id.lowercasedString,
                                        patientID: record.patientID.lowercasedString,
                                        detail: "version \(record.version); changed: \(changed.isEmpty ? "nothing" : changed.joined(separator: ", "))")] + parent)
        }
        return respond(record)
    }

    @Sendable func delete(req: Request) async throws -> Response {
        let principal = try await req.principal()
        let id = try req.uuidParameter("id", R.info.name)
        let expected = try VersionCheck.required(req)
        let today = req.today
        try await AuditLog.write(on: req.db, actor: try await req.auditActor) { tx in
            guard let record = try await R.find(id, on: tx) else { throw APIError.notFound(R.info.name) }
            _ = try await PatientAccess.load(record.patientID, principal, .write, on: tx)
            try VersionCheck.check(expected, current: record.version, what: R.info.name)
            try await checkDependents(record, on: tx)
            try await record.delete(on: tx)
            let parent = try await versionMedication(of: record, "hold deleted", by: principal.username, on: tx)
            try await PatientSummary.refresh(record.patientID, on: tx, today: today)
            return ((), [AuditEvent(action: "delete", resourceType: R.info.path, resourceID: id.lowercasedString,
                                    patientID: record.patientID.lowercasedString, detail: "version \(record.version) deleted")] + parent)
        }
        return Response(status: .noContent)
    }

    /// A hold's write is a new version of its medication (`MedicationRecord.versionForHoldChange`).
    private func versionMedication(of record: R, _ change: String, by user: String, on tx: any Database) async throws -> [AuditEvent] {
        guard R.info.parent == .medication, let medicationID = record.parentID else { return [] }
        return [try await MedicationRecord.versionForHoldChange(medicationID, hold: change, by: user, on: tx)]
    }

    /// Names (not values: the log must not copy clinical data) of the fields an update changed,
    /// like REDCap's logging of which fields a save touched.
    static func changedFields(_ before: [(String, JSONValue?)], _ after: [(String, JSONValue?)]) -> [String] {
        let old = Dictionary(before.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        return after.compactMap { key, value in old[key].flatMap { $0 } == value ? nil : key }
    }

    private func respond(_ record: R, status: HTTPResponseStatus = .ok, shift: DateShift = .none) -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .eTag, value: VersionCheck.etag(record.version))
        if status == .created, let id = record.id { headers.replaceOrAdd(name: .location, value: "/api/v1/\(R.info.path)/\(id.lowercasedString)") }
        return Response.json(record.apiJSON(shift, includeAuthors: shift.days == 0), status: status, headers: headers)
    }

    /// A lesion named by a procedure or infection episode must be the same patient's; a lesion
    /// label must be unique within the patient (it is the lesion's id in the case format).
    private func checkReferences(_ record: R, patientID: UUID, on db: any Database) async throws {
        if let lesionID = record.referencedLesionID {
            guard let lesion = try await LesionRecord.find(lesionID, on: db), lesion.patientID == patientID else {
                throw APIError.invalid("lesionId", .string(lesionID.lowercasedString), "lesionId must name a lesion of this patient")
            }
        }
        // Nothing happened before the patient was born (an episode's case at onset would not exist).
        if !record.clinicalDates.isEmpty, let born = try await Patient.find(patientID, on: db)?.birthDate,
           let violation = BirthDateCheck.violation(record, birthDate: born) {
            throw BirthDateCheck.error(violation, birthDate: born)
        }
        if let lesion = record as? LesionRecord {
            var query = LesionRecord.query(on: db).filter(\.$patientID == patientID).filter(\.$label == lesion.label)
            if let id = lesion.id { query = query.filter(\.$id != id) }
            if try await query.count() > 0 {
                throw APIError.invalid("label", .string(lesion.label), "label must be unique among this patient's lesions")
            }
        }
    }

    /// A lesion with measurements, or a medication with holds, is not deleted under them.
    private func checkDependents(_ record: R, on db: any Database) async throws {
        if let lesion = record as? LesionRecord, let id = lesion.id,
           try await MeasurementRecord.query(on: db).filter(\.$lesionID == id).count() > 0 {
            throw APIError(.conflict, "this lesion has measurements; delete them first")
        }
        if let medication = record as? MedicationRecord, let id = medication.id,
           try await HoldRecord.query(on: db).filter(\.$medicationID == id).count() > 0 {
            throw APIError(.conflict, "this medication has holds; delete them first")
        }
    }
}
