import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation
import SQLKit
import Vapor

/// Creating, updating and deleting the registry records an entry maps to.
extension FHIRWriter {
    /// The stored hold of a stored medication that a statement's hold is: the one with the same
    /// start (the statement's notes may come in another order, and a statement written by POST or
    /// the JSON API left no ledger key for its holds). Unchanged (the entry's hash) when its end and
    /// reason are the same too, else to be updated.
    func storedHold(_ record: MappedRecord, of medication: UUID, contentHash: String, on tx: any Database) async throws -> ImportLedger.Entry? {
        guard let start = record.body["start"]?.stringValue,
              let hold = try await HoldRecord.query(on: tx).filter(\.$medicationID == medication).filter(\.$start == start).first() else { return nil }
        let same = hold.end == record.body["end"]?.stringValue && hold.reason == record.body["reason"]?.stringValue
        return ImportLedger.Entry(kind: RegistryRecordKind.hold.rawValue, recordID: hold.id!, patientID: hold.patientID, contentHash: same ? contentHash : "")
    }

    /// Deletes the stored holds of an updated medication that its statement no longer lists. The
    /// notes are the statement's complete list of holds (Outbound writes every hold as one), so a
    /// PUT or a changed re-import replaces them as it replaces the dose. Each deletion is audited,
    /// kept in the hold's history, and reported in the entry's outcome.
    func deleteUnlistedHolds(of medication: UUID, keeping listed: Set<UUID>, entry: WriteEntry, _ state: State, on tx: any Database) async throws -> [OperationOutcome.Issue] {
        var issues: [OperationOutcome.Issue] = []
        for hold in try await HoldRecord.query(on: tx).filter(\.$medicationID == medication).sort(\.$start).all() where !listed.contains(hold.id!) {
            try await hold.delete(on: tx)
            try await ImportLedger.forget(recordIDs: [hold.id!], on: tx)
            state.touched.insert(hold.patientID)
            state.recordsChanged.insert(hold.patientID)
            state.events.append(AuditEvent(action: "delete", resourceType: RegistryRecordKind.hold.rawValue, resourceID: hold.id!.lowercasedString,
                                           patientID: hold.patientID.lowercasedString,
                                           detail: "version \(hold.version) deleted (FHIR \(entry.resourceType): no longer among its notes)"))
            let end = hold.end.map { " to \($0)" } ?? " (no end date)"
            issues.append(.init(.information, .informational, "the hold from \(hold.start)\(end) is deleted: the statement no longer lists it in its notes",
                                at: ["\(entry.resourceType).note"]))
        }
        return issues
    }

    /// The registry id an import keeps: a PUT's id, or a file resource's own id, when it is a
    /// registry id no record has yet.
    func preferredID(_ entry: WriteEntry, kind: RegistryRecordKind) -> UUID? {
        guard kind != .patientSection else { return nil }
        if entry.method == .put, let id = entry.id { return Self.registryID(inLogicalID: id) }
        if entry.keepSourceID, let id = entry.resource?["id"]?.stringValue { return Self.registryID(inLogicalID: id) }
        return nil
    }

    // MARK: create, update, delete

    /// Creates the record (queued for the multi-row insert); returns its id, patient id and version.
    func create(_ record: MappedRecord, id: UUID?, entry: WriteEntry, _ state: State, on tx: any Database) async throws -> (UUID, UUID?, Int) {
        if record.kind == .patient {
            let patient = Patient()
            try await fillPatient(patient, body: record.body, existing: nil, entry: entry, state, on: tx)
            patient.id = id ?? UUID()
            patient.dateShiftDays = PatientController.randomShift()
            patient.version = 1
            patient.createdBy = authority.username
            patient.updatedBy = authority.username
            // The worklist columns of a patient without records; the refresh at the end of the
            // call recomputes them with whatever records the same call adds.
            try PatientSummary.compute(patient: patient, records: .empty, today: today).store(in: patient)
            state.patients[patient.id!] = patient
            state.newPatients.append(patient)
            // A new patient has no stored lesions or vitals to check against.
            state.storedLesionLabels[patient.id!] = [:]
            state.storedVitals[patient.id!] = []
            state.touched.insert(patient.id!)
            state.events.append(AuditEvent(action: "create", resourceType: "patients", resourceID: patient.id!.lowercasedString,
                                           patientID: patient.id!.lowercasedString, detail: "version 1 (FHIR \(entry.resourceType))"))
            return (patient.id!, patient.id!, 1)
        }
        let patient = try await patient(for: record, entry, state, on: tx)
        let pid = patient.id!
        if record.kind == .patientSection {
            let version = try await updateSections(patient, record.body, entry: entry, state, on: tx)
            return (pid, pid, version)
        }
        var id = id
        if record.kind == .vitals, let merged = try await mergeVitals(record, rowID: &id, patientID: pid, entry: entry, state, on: tx) {
            return (merged.0, pid, merged.1)
        }
        let model = try await buildRecord(record, existing: nil, patientID: pid, entry: entry, state, on: tx)
        if let vitals = model as? VitalsRecord {
            state.pendingVitals["\(pid)|\(vitals.date)", default: []].append((vitals, record.body))
        }
        model.id = id ?? UUID()
        model.version = 1
        model.createdBy = authority.username
        model.updatedBy = authority.username
        state.creates[record.kind, default: []].append(model)
        if let lesion = model as? LesionRecord { state.pendingLesionLabels.insert("\(pid)|\(lesion.label)") }
        if record.kind == .lesion || record.kind == .medication { state.parents[model.id!] = pid }
        state.touched.insert(pid)
        state.events.append(AuditEvent(action: "create", resourceType: record.kind.rawValue, resourceID: model.id!.lowercasedString,
                                       patientID: pid.lowercasedString, detail: "version 1 (FHIR \(entry.resourceType))"))
        return (model.id!, pid, 1)
    }

    /// Vital-sign Observations of one patient and day are one vitals row (the engine reads a
    /// day's row, InboundMapping.mergeVitals): a vital joins a row of that day that does not
    /// hold a different value for it, in this call or stored. Returns the row and its version,
    /// or nil when the vital starts a new row.
    ///
    /// `rowID`: the row the Observation's id names (this registry's "<row id>-<vital>", kept by
    /// an import): its vital joins that row only, so two rows of one day come back as they were
    /// exported (joining the first row that fits mixed them). Set to nil when that id is a
    /// stored row of another day, which the new row cannot take.
    func mergeVitals(_ record: MappedRecord, rowID: inout UUID?, patientID pid: UUID, entry: WriteEntry, _ state: State, on tx: any Database) async throws -> (UUID, Int)? {
        guard let date = record.body["date"]?.stringValue else { return nil }
        if state.storedVitals[pid] == nil {
            state.storedVitals[pid] = try await VitalsRecord.query(on: tx).filter(\.$patientID == pid).all()
        }
        if let id = rowID, state.storedVitals[pid]!.contains(where: { $0.id == id && $0.date != date }) { rowID = nil }
        let named = rowID
        func fits(_ row: JSONObject) -> Bool {
            record.body.entries.allSatisfy { $0.key == "date" || row[$0.key] == nil || row[$0.key] == $0.value }
        }
        func union(_ row: JSONObject) -> JSONObject {
            var out = row
            // The named row takes the vital's value (the Observation is that row's vital).
            for (k, v) in record.body.entries where out[k] == nil || named != nil { out[k] = v }
            return out
        }
        func candidate(_ id: UUID?, _ body: JSONObject) -> Bool { named.map { $0 == id } ?? fits(body) }
        let key = "\(pid)|\(date)"
        if let rows = state.pendingVitals[key], let i = rows.firstIndex(where: { candidate($0.model.id, $0.body) }) {
            let merged = union(rows[i].body)
            var invalid: APIError?
            do { try rows[i].model.apply(merged, today: today) } catch { invalid = error }
            if let invalid { throw EntryFailure(invalid, resourceType: entry.resourceType) }
            state.pendingVitals[key]![i].body = merged
            return (rows[i].model.id!, 1)
        }
        for stored in state.storedVitals[pid]! where stored.date == date {
            let body = JSONObject(compacting: stored.apiFields(.none))
            guard candidate(stored.id, body) else { continue }
            let merged = union(body)
            if merged == body { return (stored.id!, stored.version) } // already there
            var invalid: APIError?
            do { try stored.apply(merged, today: today) } catch { invalid = error }
            if let invalid { throw EntryFailure(invalid, resourceType: entry.resourceType) }
            stored.version += 1
            stored.updatedBy = authority.username
            try await stored.update(on: tx)
            state.touched.insert(pid)
            state.recordsChanged.insert(pid)
            state.events.append(AuditEvent(action: "update", resourceType: RegistryRecordKind.vitals.rawValue, resourceID: stored.id!.lowercasedString,
                                           patientID: pid.lowercasedString,
                                           detail: "version \(stored.version) (FHIR \(entry.resourceType)); changed: \(record.body.keys.filter { $0 != "date" }.joined(separator: ", "))"))
            return (stored.id!, stored.version)
        }
        return nil
    }

    /// Applies the body to a new or loaded model, with its references resolved.
    func buildRecord(_ record: MappedRecord, existing: (any PatientRecord)?, patientID pid: UUID, entry: WriteEntry, _ state: State, on tx: any Database) async throws -> any PatientRecord {
        var body = record.body
        var parent: UUID?
        if let reference = record.parent {
            let (what, element) = record.kind == .hold ? ("medication", "MedicationStatement") : ("lesion", "\(entry.resourceType).focus")
            parent = try await parentID(reference, of: pid, what: what, at: element, state, on: tx)
        }
        if let reference = record.lesion {
            let lesionID = try await parentID(reference, of: pid, what: "lesion", at: "\(entry.resourceType).bodySite", state, on: tx)
            body["lesionId"] = JSONValue.string(lesionID.lowercasedString)
        }
        let model = existing ?? record.kind.recordType!.init()
        var invalid: APIError?
        do { try model.apply(body, today: today) } catch { invalid = error }
        if let invalid { throw EntryFailure(invalid, resourceType: entry.resourceType) }
        if let born = state.patients[pid]?.birthDate, let violation = BirthDateCheck.violation(model, birthDate: born) {
            throw EntryFailure(BirthDateCheck.error(violation, birthDate: born), resourceType: entry.resourceType)
        }
        model.patientID = pid
        if let parent { model.parentID = parent }
        else if record.kind == .measurement || record.kind == .hold {
            if existing == nil {
                throw EntryFailure(.unprocessableEntity, .required, "a \(record.kind == .hold ? "hold needs its MedicationStatement" : "wound measurement needs its lesion (Observation.focus → BodyStructure)")", at: entry.resourceType)
            }
        }
        if let lesion = model as? LesionRecord {
            var query = LesionRecord.query(on: tx).filter(\.$patientID == pid).filter(\.$label == lesion.label)
            if let id = lesion.id { query = query.filter(\.$id != id) }
            let pendingClash = state.pendingLesionLabels.contains("\(pid)|\(lesion.label)")
            let stored: Int
            if let labels = state.storedLesionLabels[pid] {
                stored = labels.contains { $0.key != lesion.id && $0.value == lesion.label } ? 1 : 0
            } else {
                stored = try await query.count()
            }
            if pendingClash || stored > 0 {
                throw EntryFailure(.unprocessableEntity, .duplicate, "a lesion labelled \(lesion.label) already exists for this patient", at: "BodyStructure")
            }
        }
        return model
    }

    func update(_ record: MappedRecord, id: UUID, entry: WriteEntry, _ state: State, on tx: any Database) async throws -> (Int, Date?) {
        if record.kind == .patient {
            guard let patient = try await Patient.find(id, on: tx) else { throw EntryFailure(.notFound, .notFound, "Patient/\(id) not found", at: "Patient") }
            guard authority.allows(patient.$site.id) else { throw EntryFailure(.forbidden, .forbidden, "this patient belongs to a site you are not a member of", at: "Patient") }
            try checkVersion(entry, current: patient.version)
            try await fillPatient(patient, body: record.body, existing: patient, entry: entry, state, on: tx)
            patient.version += 1
            patient.updatedBy = authority.username
            try await patient.update(on: tx)
            state.patients[id] = patient
            state.touched.insert(id)
            state.events.append(AuditEvent(action: "update", resourceType: "patients", resourceID: id.lowercasedString,
                                           patientID: id.lowercasedString, detail: "version \(patient.version) (FHIR \(entry.resourceType))"))
            return (patient.version, patient.updatedAt)
        }
        if record.kind == .patientSection {
            let patient = try await patient(for: record, entry, state, on: tx)
            return (try await updateSections(patient, record.body, entry: entry, state, on: tx), Date())
        }
        guard let model = try await record.kind.find(id, on: tx) else {
            throw EntryFailure(.notFound, .notFound, "\(entry.resourceType)/\(id) not found", at: entry.resourceType)
        }
        var owner = state.patients[model.patientID]
        if owner == nil { owner = try await Patient.find(model.patientID, on: tx) }
        guard let owner, authority.allows(owner.$site.id) else {
            throw EntryFailure(.forbidden, .forbidden, "this record's patient belongs to a site you are not a member of", at: entry.resourceType)
        }
        try checkVersion(entry, current: model.version)
        let before = model.apiFields(.none)
        var record = record
        if record.kind == .vitals {
            // One vital of a vitals row: the row's other vitals stay.
            var merged = JSONObject(compacting: before)
            for (k, v) in record.body.entries { merged[k] = v }
            record.body = merged
        }
        let subjectPatient = try await patient(for: record, entry, state, on: tx)
        guard subjectPatient.id == model.patientID else {
            throw EntryFailure(.unprocessableEntity, .businessRule, "\(entry.resourceType).subject names another patient than the stored record's; a record does not move between patients", at: entry.resourceType + ".subject")
        }
        _ = try await buildRecord(record, existing: model, patientID: model.patientID, entry: entry, state, on: tx)
        let changed = RecordController<LabRecord>.changedFields(before, model.apiFields(.none))
        model.version += 1
        model.updatedBy = authority.username
        try await model.update(on: tx)
        state.touched.insert(model.patientID)
        state.recordsChanged.insert(model.patientID)
        if record.kind == .medication { state.medicationsToStamp.insert(id) }
        if record.kind == .hold, let medication = model.parentID { state.medicationsToStamp.insert(medication) }
        if let lesion = model as? LesionRecord, state.storedLesionLabels[lesion.patientID] != nil { state.storedLesionLabels[lesion.patientID]![id] = lesion.label }
        state.events.append(AuditEvent(action: "update", resourceType: record.kind.rawValue, resourceID: id.lowercasedString,
                                       patientID: model.patientID.lowercasedString,
                                       detail: "version \(model.version) (FHIR \(entry.resourceType)); changed: \(changed.isEmpty ? "nothing" : changed.joined(separator: ", "))"))
        return (model.version, model.updatedAt)
    }

    func checkVersion(_ entry: WriteEntry, current: Int) throws {
        if let expected = entry.ifMatch, expected != current {
            throw EntryFailure(.preconditionFailed, .conflict,
                               "\(entry.resourceType)/\(entry.id ?? "") was changed by someone else (now version \(current), you sent \(expected)); read it again and apply your change to the current version",
                               at: entry.resourceType + ".meta.versionId")
        }
    }

    func delete(_ entry: WriteEntry, _ state: State, on tx: any Database) async throws -> EntryResult {
        var located: (RegistryRecordKind, UUID)?
        if entry.resourceType == "Condition", let id = entry.id, id.hasPrefix("calcinosis-") {
            // Derived from the patient's lesions: it exists while they do, and is not deleted on
            // its own (it answered "does not exist" while a read served it).
            throw EntryFailure(.methodNotAllowed, .notSupported, "Condition/\(id) is derived from the patient's lesions (BodyStructure); it goes when they are deleted", at: "Condition")
        }
        if let id = entry.id {
            located = try await FHIRRecordLocator.locate(type: entry.resourceType, id: id, ledger: state.ledger, on: tx)
            // A source id (not a registry id) another site's import recorded is not there for this writer.
            if let (kind, recordID) = located, Self.registryID(inLogicalID: id) == nil,
               try await ConditionalMatch.visible(FHIRRecordLocator.Match(kind: kind, recordID: recordID, patientID: nil), authority, on: tx) == nil {
                located = nil
            }
        }
        guard let id = entry.id, let located else {
            // FHIR: deleting what is not there succeeds (idempotent delete).
            return EntryResult(action: .deleted, status: .noContent, resourceType: entry.resourceType, fhirID: entry.id, issues: [
                .init(.information, .notFound, "\(entry.resourceType)/\(entry.id ?? "") does not exist; nothing deleted", at: [entry.resourceType])])
        }
        let (kind, recordID) = located
        guard kind != .patientSection else {
            throw EntryFailure(.methodNotAllowed, .notSupported, "the SSc Condition is part of the patient; update the Patient's profile instead", at: entry.resourceType)
        }
        let pid: UUID
        let version: Int
        if kind == .patient {
            guard let patient = try await Patient.find(recordID, on: tx) else { throw EntryFailure(.notFound, .notFound, "not found", at: entry.resourceType) }
            guard authority.allows(patient.$site.id) else { throw EntryFailure(.forbidden, .forbidden, "this patient belongs to a site you are not a member of", at: "Patient") }
            try checkVersion(entry, current: patient.version)
            let dependents = try await FHIRRecordLocator.dependentCount(ofPatient: recordID, on: tx)
            if dependents > 0 {
                throw EntryFailure(.conflict, .conflict, "Patient/\(id) has \(dependents) clinical record(s); delete them first", at: "Patient")
            }
            try await patient.delete(on: tx)
            pid = recordID; version = patient.version
            state.deletedPatients.insert(pid)
        } else {
            guard let model = try await kind.find(recordID, on: tx) else { throw EntryFailure(.notFound, .notFound, "not found", at: entry.resourceType) }
            guard let owner = try await Patient.find(model.patientID, on: tx), authority.allows(owner.$site.id) else {
                throw EntryFailure(.forbidden, .forbidden, "this record's patient belongs to a site you are not a member of", at: entry.resourceType)
            }
            try checkVersion(entry, current: model.version)
            if kind == .lesion, try await MeasurementRecord.query(on: tx).filter(\.$lesionID == recordID).count() > 0 {
                throw EntryFailure(.conflict, .conflict, "BodyStructure/\(id) (a lesion) has measurements; delete those Observations first", at: "BodyStructure")
            }
            let procedures = kind == .lesion ? try await ProcedureRecord.query(on: tx).filter(\.$lesionID == recordID).count() : 0
            let infections = kind == .lesion ? try await InfectionEpisodeRecord.query(on: tx).filter(\.$lesionID == recordID).count() : 0
            if procedures + infections > 0 {
                throw EntryFailure(.conflict, .conflict, "BodyStructure/\(id) (a lesion) is named by procedures or infection episodes; delete or change those first", at: "BodyStructure")
            }
            if kind == .medication, try await HoldRecord.query(on: tx).filter(\.$medicationID == recordID).count() > 0 {
                throw EntryFailure(.conflict, .conflict, "MedicationStatement/\(id) has holds; delete them first", at: "MedicationStatement")
            }
            try await model.delete(on: tx)
            pid = model.patientID; version = model.version
            if kind == .lesion { state.storedLesionLabels[pid]?[recordID] = nil }
            state.touched.insert(pid)
            state.recordsChanged.insert(pid)
        }
        try await ImportLedger.forget(recordIDs: [recordID], on: tx)
        state.events.append(AuditEvent(action: "delete", resourceType: kind.rawValue, resourceID: recordID.lowercasedString,
                                       patientID: pid.lowercasedString, detail: "version \(version) deleted (FHIR \(entry.resourceType))"))
        return EntryResult(action: .deleted, status: .noContent, resourceType: entry.resourceType, kind: kind, recordID: recordID, fhirID: id, version: version, issues: [])
    }

    // MARK: helpers

    func exists(_ kind: RegistryRecordKind, _ id: UUID, _ state: State, on tx: any Database) async throws -> Bool {
        switch kind {
        case .patient, .patientSection:
            if state.patients[id] != nil { return true }
            return try await Patient.find(id, on: tx) != nil
        default:
            if (state.creates[kind] ?? []).contains(where: { $0.id == id }) { return true }
            return try await kind.find(id, on: tx) != nil
        }
    }

    func storedExists(_ kind: RegistryRecordKind, _ id: UUID, on tx: any Database) async throws -> Bool {
        switch kind {
        case .patient, .patientSection: try await Patient.find(id, on: tx) != nil
        default: try await kind.find(id, on: tx) != nil
        }
    }

    /// A PUT that names no stored record creates one at its id (`updateCreate`, R4
    /// http.html#upsert) only where that is honest: a registry id (UUID) that no record has,
    /// deleted or of another kind. A deleted record's id is not reused (410, as a read of it
    /// answers); a record of another kind keeps what it is (409: a lab's id with a heart rate
    /// body created a vitals row beside the lab). Over HTTP a client id that is not a registry
    /// id is refused: the record would get a new id and the URL would name nothing a read finds.
    /// (`calcitrack import` keeps such ids in the ledger, so a re-import finds its records.)
    func checkUpdateAsCreate(id: String, kind: RegistryRecordKind, entry: WriteEntry, on tx: any Database) async throws {
        let name = "\(entry.resourceType)/\(id)"
        guard let uuid = Self.registryID(inLogicalID: id) else {
            if authority.sites != nil {
                throw EntryFailure(.badRequest, .notSupported, "\(name) does not exist, and CalciTrack assigns its own ids (UUIDs): a PUT creates only at a UUID id. "
                                   + "POST to create (the server assigns the id), or PUT \(entry.resourceType)?identifier=system|value (conditional update)", at: "\(entry.resourceType).id")
            }
            return
        }
        let sql = tx as! any SQLDatabase
        let kinds: [RegistryRecordKind] = [.patient] + RegistryRecordKind.allCases.filter { $0.recordType != nil }
        for other in kinds {
            let table = other == .patient ? Patient.schema : other.recordType!.schema
            guard let row = try await sql.select().column("deleted_at").from(table).where("id", .equal, SQLBind(uuid)).first() else { continue }
            let sameKind = other == kind || (other == .patient && kind == .patientSection)
            if sameKind, try row.decodeNil(column: "deleted_at") == false {
                throw EntryFailure(.gone, .deleted, "\(name) was deleted; the registry does not reuse the id of a deleted resource (POST creates a new one)", at: "\(entry.resourceType).id")
            }
            if !sameKind {
                throw EntryFailure(.conflict, .conflict, "\(name) is stored as \(other.rawValue), not \(kind.rawValue): an update cannot change what a resource is", at: "\(entry.resourceType).id")
            }
        }
    }

    /// A record's version as this call leaves it (a patient's from this call's row: its section
    /// updates are written by `flush`).
    func currentVersion(_ kind: RegistryRecordKind, _ id: UUID, _ state: State, on tx: any Database) async throws -> (Int, Date?) {
        switch kind {
        case .patient, .patientSection:
            if let p = state.patients[id] { return (p.version, p.updatedAt) }
            let p = try await Patient.find(id, on: tx)
            return (p?.version ?? 1, p?.updatedAt)
        default:
            let r = try await kind.find(id, on: tx)
            return (r?.version ?? 1, r?.updatedAt)
        }
    }
}
