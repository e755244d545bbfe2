import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation
import SQLKit
import Vapor

/// How a FHIR write sets a patient row (Patient resources and the patient sections other resources carry).
extension FHIRWriter {
    /// Sets a patient from a mapped Patient body; sections the Patient resource does not carry
    /// (ssc, history, ...: other resources) are kept from the stored patient.
    func fillPatient(_ patient: Patient, body mapped: JSONObject, existing: Patient?, entry: WriteEntry, _ state: State, on tx: any Database) async throws {
        var body = mapped
        let siteCode = body["siteCode"]?.stringValue ?? (existing == nil ? authority.defaultSiteCode : nil)
        body["siteCode"] = nil
        if body["siteId"] == nil {
            if let existing, siteCode == nil { body["siteId"] = .string(existing.$site.id.uuidString) }
            else if let siteCode {
                guard let site = state.sitesByCode[siteCode] else {
                    throw EntryFailure(.unprocessableEntity, .value, "the MRN identifier names the site \(siteCode), which does not exist in CalciTrack", at: "Patient.identifier.system")
                }
                body["siteId"] = .string(site.uuidString)
            } else {
                throw EntryFailure(.unprocessableEntity, .required,
                                   "the patient has no identifier with system \(InboundAdapter.mrnSystemPrefix)<site code>, and no default site was given (calcitrack import --site CODE)",
                                   at: "Patient.identifier")
            }
        }
        if let existing {
            let stored: [(String, String?)] = [("ssc", existing.ssc), ("otherConnectiveTissueDisease", existing.otherCTD), ("history", existing.history),
                                               ("infection", existing.infectionInputs), ("workup", existing.workup)]
            for (key, text) in stored where body[key] == nil {
                if let text, let value = try? JSONParser.parse(text) { body[key] = value }
            }
        }
        let input: PatientInput?
        var invalid: APIError?
        do { input = try PatientInput.validate(body, today: today) } catch { invalid = error; input = nil }
        if let invalid { throw EntryFailure(invalid, resourceType: "Patient") }
        guard let input else { return }
        guard authority.allows(input.siteID) else {
            throw EntryFailure(.forbidden, .forbidden, "the patient's site is not one of yours", at: "Patient.identifier")
        }
        if existing == nil || existing?.mrn != input.mrn || existing?.$site.id != input.siteID {
            let key = input.siteID.uuidString + "|" + input.mrn
            let clash: Bool
            if state.preloadedMRNs.contains(input.mrn) {
                clash = !(state.storedMRNs[key] ?? []).subtracting([existing?.id].compactMap { $0 }).isEmpty
            } else {
                var query = Patient.query(on: tx).filter(\.$site.$id == input.siteID).filter(\.$mrn == input.mrn).withDeleted()
                if let id = existing?.id { query = query.filter(\.$id != id) }
                clash = try await query.count() > 0
            }
            if !state.newMRNs.contains(key), clash,
               try await Patient.query(on: tx).filter(\.$site.$id == input.siteID).filter(\.$mrn == input.mrn).count() == 0 {
                // Only a deleted patient holds it: matching it (the advice below) cannot succeed.
                throw EntryFailure(.unprocessableEntity, .duplicate,
                                   "MRN \(input.mrn) belongs to a deleted patient of this site; the registry keeps a deleted patient's MRN, so give this patient another MRN",
                                   at: "Patient.identifier")
            }
            if state.newMRNs.contains(key) || clash {
                throw EntryFailure(.unprocessableEntity, .duplicate,
                                   "a patient with MRN \(input.mrn) already exists at this site (use ifNoneExist / If-None-Exist: identifier=\(InboundAdapter.mrnSystemPrefix)<site>|\(input.mrn) to match it)",
                                   at: "Patient.identifier")
            }
            state.newMRNs.insert(key)
            if let existing, let id = existing.id {
                // The patient leaves its old MRN (the update is written before the next entry).
                state.storedMRNs[existing.$site.id.uuidString + "|" + existing.mrn]?.remove(id)
            }
        }
        if let existing, let id = existing.id {
            let born = input.body["birthDate"]?.stringValue
            if let violation = try await BirthDateCheck.storedViolation(patientID: id, oldBirthDate: existing.birthDate, newBirthDate: born, on: tx) {
                throw EntryFailure(BirthDateCheck.storedError(violation, birthDate: born ?? ""), resourceType: "Patient")
            }
        }
        input.store(in: patient)
    }

    /// Merges sections (the SSc Condition → `ssc`) into the patient; a new patient version.
    func updateSections(_ patient: Patient, _ sections: JSONObject, entry: WriteEntry, _ state: State, on tx: any Database) async throws -> Int {
        func section(_ text: String?) -> JSONValue? { text.flatMap { try? JSONParser.parse($0) } }
        let stored = JSONObject(compacting: [("siteId", .string(patient.$site.id.uuidString)), ("mrn", .string(patient.mrn)),
                                             ("familyName", .string(patient.familyName)), ("givenName", .string(patient.givenName)),
                                             ("sex", .string(patient.sex)), ("birthDate", .optional(patient.birthDate)),
                                             ("weightKg", .optional(patient.weightKg)), ("pregnant", .optional(patient.pregnant)),
                                             ("ssc", section(patient.ssc)), ("otherConnectiveTissueDisease", section(patient.otherCTD)),
                                             ("history", section(patient.history)), ("infection", section(patient.infectionInputs)),
                                             ("workup", section(patient.workup))])
        let body = InboundMapping.mergePatientUpdate(sections, into: stored)
        // A patient this call creates is not stored yet (and its name keys are not set until it is).
        let isNew = state.newPatients.contains(where: { $0 === patient })
        if !isNew, state.sectionUpdates[patient.id!] == nil { state.sectionUpdates[patient.id!] = (patient, patient.bulkValues) }
        try await fillPatient(patient, body: body, existing: patient, entry: entry, state, on: tx)
        patient.version += 1
        patient.updatedBy = authority.username
        if isNew {
            patient.version = 1 // not inserted yet: the sections are part of its first version
        } else {
            patient.updatedAt = Date()
            patient.setNameKeys()
            state.updateHistory.append(.init(kind: RecordKind.patients.rawValue, id: patient.id!, version: patient.version, patientID: patient.id!,
                                             body: patient.apiJSON(.none, today: LocalDate.utc(Date()), siteCode: state.siteCode(of: patient))))
        }
        state.touched.insert(patient.id!)
        state.events.append(AuditEvent(action: "update", resourceType: "patients", resourceID: patient.id!.lowercasedString,
                                       patientID: patient.id!.lowercasedString,
                                       detail: "version \(patient.version) (FHIR \(entry.resourceType)); changed: \(sections.keys.joined(separator: ", "))"))
        return patient.version
    }

    /// Writes the rows of the stored patients this call's section updates changed (their version
    /// rows go with `flush`'s): what `patient.update(on:)` and its model middleware (name keys,
    /// 012; history, 009) write, without Fluent's reflection, the middleware chain and the history
    /// body's site read. The import updates a patient for every SSc Condition and body weight;
    /// through Fluent each cost about a millisecond, and one statement each was a round trip each
    /// on PostgreSQL (BENCHMARKS.md). Only the columns whose value changed since the row was
    /// stored are set, as Fluent did: the patients table has some twenty indexes, and SQLite
    /// rewrites an index's entry whenever the UPDATE assigns one of its columns. Rows that set the
    /// same columns share one multi-row UPDATE; a row that sets a column to NULL gets its own
    /// (PostgreSQL cannot type a VALUES column that may hold only NULLs).
    func writeSectionUpdates(_ state: State, on tx: any Database) async throws {
        guard !state.sectionUpdates.isEmpty else { return }
        let sql = tx as! any SQLDatabase
        let maxBinds = sql.dialect.name == "sqlite" ? 32_766 : 65_535
        var groups: [[String]: [[any SQLExpression]]] = [:]
        for (id, update) in state.sectionUpdates.sorted(by: { $0.key.precedes($1.key) }) {
            var columns: [String] = [], values: [any SQLExpression] = []
            for (n, (column, value)) in zip(Patient.bulkColumns, update.patient.bulkValues).enumerated() where column != "id" {
                if column == "updated_at" || BulkBindComparison.differ(value, update.stored[n]) { columns.append(column); values.append(value) }
            }
            if values.contains(where: { !($0 is SQLBind) }) {
                var single = sql.update(Patient.schema)
                for (column, value) in zip(columns, values) { single = single.set(column, to: value) }
                try await single.where("id", .equal, SQLBind(id)).run()
            } else {
                groups[columns, default: []].append([SQLBind(id)] + values)
            }
        }
        for (columns, rows) in groups.sorted(by: { $0.key.joined() < $1.key.joined() }) {
            for slice in rows.chunked(max(1, maxBinds / (columns.count + 1))) {
                try await sql.execute(sql: MultiRowUpdate(table: Patient.schema, columns: columns, rows: Array(slice), updatedAt: nil)) { _ in }
            }
        }
    }
}
