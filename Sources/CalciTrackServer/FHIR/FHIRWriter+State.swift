import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation
import SQLKit
import Vapor

/// The state of one `FHIRWriter.write` call and the queries that fill it before the entries are written.
extension FHIRWriter {
    // MARK: state of one call

    final class State: @unchecked Sendable {
        var ledger: [String: ImportLedger.Entry] = [:]
        /// Ledger keys that name records of sites the writer cannot see (left as they are).
        var hiddenKeys: Set<String> = []
        var patients: [UUID: Patient] = [:]
        /// Lesions and medications by id: their patient.
        var parents: [UUID: UUID] = [:]
        /// Every site (the preload reads them all), by code.
        var sitesByCode: [String: UUID] = [:]

        /// The code of a patient's site (its MRN identifier's system, in history bodies).
        func siteCode(of patient: Patient) -> String? { sitesByCode.first { $0.value == patient.$site.id }?.key }
        /// fullUrl / source key → what this call wrote for it.
        var written: [String: ImportLedger.Entry] = [:]
        var creates: [RegistryRecordKind: [any PatientRecord]] = [:]
        var newPatients: [Patient] = []
        var newMRNs: Set<String> = []
        var touched: Set<UUID> = []
        /// Patients whose stored records this call updated or deleted (the record cache's copy is stale).
        var recordsChanged: Set<UUID> = []
        var deletedPatients: Set<UUID> = []
        /// Stored medications this call updated, or whose holds it updated: their latest version
        /// row gets the holds they end the call with (`MedicationHoldSnapshot.stamp`).
        var medicationsToStamp: Set<UUID> = []
        var ledgerRows: [(key: String, resourceType: String, entry: ImportLedger.Entry)] = []
        var events: [AuditEvent] = []
        /// Vitals rows created in this call, by patient and date, with the body applied so far.
        var pendingVitals: [String: [(model: VitalsRecord, body: JSONObject)]] = [:]
        /// Stored vitals rows of patients this call wrote vitals for.
        var storedVitals: [UUID: [VitalsRecord]] = [:]
        /// Stored lesion labels (lesion id → label) of the patients preloaded, for the duplicate-label check.
        var storedLesionLabels: [UUID: [UUID: String]] = [:]
        /// Stored patients (deleted too) by "site id|MRN", for the MRNs this call's Patient bodies name.
        var storedMRNs: [String: Set<UUID>] = [:]
        /// "patient id|label" of the lesions this call creates (a set: a scan of the creates per lesion was quadratic).
        var pendingLesionLabels: Set<String> = []
        var preloadedMRNs: Set<String> = []
        /// `calcitrack import`: the record cache holds what is stored (nobody else wrote since its last chunk).
        var cacheUsable = false
        /// Stored patient rows dropped by `restore` (changed in place, then rolled back): not to be cached.
        var evictedPatients: Set<UUID> = []
        /// Stored patients a section update changed in this call, with their row as stored
        /// (`bulkValues` before the first update): `flush` writes the changed columns.
        var sectionUpdates: [UUID: (patient: Patient, stored: [any SQLExpression])] = [:]
        /// Version rows of those updates (one per update, its body as of that version), inserted by `flush`.
        var updateHistory: [BulkRecordInsert.HistoryRow] = []

        /// What an entry may change, to undo a failed batch entry (`isolated`). The collections
        /// are values (copied on the next write, once per saved entry). Only MedicationStatements
        /// map to several records, and their models are new or loaded afresh; cached stored
        /// patients and vitals rows, which other writes change in place and the savepoint rolls
        /// back, are dropped on restore so that they are read again.
        struct Saved {
            var patients: [UUID: Patient], parents: [UUID: UUID], written: [String: ImportLedger.Entry]
            var creates: [RegistryRecordKind: [any PatientRecord]], newPatients: [Patient], newMRNs: Set<String>
            var touched: Set<UUID>, ledgerRows: [(key: String, resourceType: String, entry: ImportLedger.Entry)]
            var events: [AuditEvent], hiddenKeys: Set<String>
            var pendingVitals: [String: [(model: VitalsRecord, body: JSONObject)]]
            var pendingLesionLabels: Set<String>, recordsChanged: Set<UUID>, deletedPatients: Set<UUID>
            var sectionUpdates: [UUID: (patient: Patient, stored: [any SQLExpression])], updateHistory: [BulkRecordInsert.HistoryRow]
        }

        func saved() -> Saved {
            Saved(patients: patients, parents: parents, written: written, creates: creates, newPatients: newPatients, newMRNs: newMRNs,
                  touched: touched, ledgerRows: ledgerRows, events: events, hiddenKeys: hiddenKeys, pendingVitals: pendingVitals,
                  pendingLesionLabels: pendingLesionLabels, recordsChanged: recordsChanged, deletedPatients: deletedPatients,
                  sectionUpdates: sectionUpdates, updateHistory: updateHistory)
        }

        func restore(_ s: Saved) {
            // Kept: new patients, and stored ones whose section updates wait for `flush` (not
            // written, so the savepoint did not roll them back; a MedicationStatement, the only
            // entry of several records, updates no patient section).
            let pending = Set(s.newPatients.map { ObjectIdentifier($0) } + s.sectionUpdates.values.map { ObjectIdentifier($0.patient) })
            evictedPatients.formUnion(patients.filter { !pending.contains(ObjectIdentifier($0.value)) }.keys)
            patients = s.patients.filter { pending.contains(ObjectIdentifier($0.value)) }
            parents = s.parents; written = s.written; creates = s.creates; newPatients = s.newPatients; newMRNs = s.newMRNs
            touched = s.touched; ledgerRows = s.ledgerRows; events = s.events; hiddenKeys = s.hiddenKeys; pendingVitals = s.pendingVitals
            pendingLesionLabels = s.pendingLesionLabels; deletedPatients = s.deletedPatients
            sectionUpdates = s.sectionUpdates; updateHistory = s.updateHistory
            // Rolled-back updates changed stored records: keep their patients marked (read again).
            recordsChanged.formUnion(s.recordsChanged)
            storedVitals = [:]
            // The preloaded lesion labels and MRNs may have changed with the rolled-back entry:
            // check those by query from here on.
            storedLesionLabels = [:]; storedMRNs = [:]; preloadedMRNs = []
        }
    }

    /// One query each for the ledger, the referenced patients and parents, and the sites.
    func preload(_ prepared: [Prepared], _ state: State, on db: any Database) async throws {
        var keys = Set<String>()
        var patientIDs = Set<UUID>(), parentIDs = Set<UUID>()
        for p in prepared {
            keys.formUnion(p.sourceKeys)
            for record in p.mapped.records {
                for ref in [record.subject, record.parent, record.lesion].compactMap({ $0 }) {
                    keys.insert(Self.referenceKey(ref))
                    if let id = Self.registryID(inReference: ref) {
                        if record.subject == ref { patientIDs.insert(id) } else { parentIDs.insert(id) }
                    }
                }
            }
            if let id = p.entry.id.flatMap(Self.registryID(inLogicalID:)) { patientIDs.insert(id); parentIDs.insert(id) }
        }
        if let cache = recordCache { state.cacheUsable = try await cache.usable(on: db) }
        state.ledger = try await ImportLedger.lookup(keys, on: db)
        for entry in state.ledger.values {
            if let pid = entry.patientID { patientIDs.insert(pid) }
            if entry.kind == RegistryRecordKind.lesion.rawValue || entry.kind == RegistryRecordKind.medication.rawValue { parentIDs.insert(entry.recordID) }
        }
        var patientsToRead = patientIDs
        if state.cacheUsable, let cache = recordCache {
            // Rows an earlier chunk of this import committed (and nobody changed since).
            for id in patientIDs { if let p = cache.cachedPatient(id) { state.patients[id] = p } }
            patientsToRead.subtract(state.patients.keys)
        }
        if !patientsToRead.isEmpty {
            for chunk in Array(patientsToRead).chunked(500) {
                for patient in try await Patient.query(on: db).filter(\.$id ~~ chunk).all() { state.patients[patient.id!] = patient }
            }
        }
        // These three read plain columns with SQLKit: decoding whole Fluent models (reflection)
        // for an id or a label was a large share of an import chunk (BENCHMARKS.md).
        let sql = db as! any SQLDatabase
        if !parentIDs.isEmpty {
            for chunk in Array(parentIDs).chunked(500) {
                for table in [LesionRecord.schema, MedicationRecord.schema] {
                    let rows = try await sql.select().columns("id", "patient_id").from(table)
                        .where("id", .in, SQLBind.group(Array(chunk))).where("deleted_at", .is, SQLLiteral.null).all()
                    for row in rows { state.parents[try row.decode(column: "id", as: UUID.self)] = try row.decode(column: "patient_id", as: UUID.self) }
                }
            }
        }
        let kinds = Set(prepared.flatMap { $0.mapped.records.map(\.kind) })
        if !patientIDs.isEmpty, kinds.contains(.lesion) {
            // The labels a new lesion must not repeat: one query, not one per lesion.
            for chunk in Array(patientIDs).chunked(500) {
                for id in chunk { state.storedLesionLabels[id] = [:] }
                let rows = try await sql.select().columns("id", "patient_id", "label").from(LesionRecord.schema)
                    .where("patient_id", .in, SQLBind.group(Array(chunk))).where("deleted_at", .is, SQLLiteral.null).all()
                for row in rows {
                    state.storedLesionLabels[try row.decode(column: "patient_id", as: UUID.self), default: [:]][try row.decode(column: "id", as: UUID.self)]
                        = try row.decode(column: "label", as: String.self)
                }
            }
        }
        if kinds.contains(.patient) {
            // The MRNs a new or changed patient must not repeat at its site: one query, not one per patient.
            let mrns = Set(prepared.flatMap { $0.mapped.records.filter { $0.kind == .patient }.compactMap { $0.body["mrn"]?.stringValue } })
            for chunk in Array(mrns).chunked(500) {
                let rows = try await Patient.query(on: db).withDeleted().filter(\.$mrn ~~ Array(chunk)).field(\.$id).field(\.$site.$id).field(\.$mrn).all()
                for row in rows { state.storedMRNs[row.$site.id.uuidString + "|" + row.mrn, default: []].insert(row.id!) }
            }
            state.preloadedMRNs = mrns
        }
        if !patientIDs.isEmpty, kinds.contains(.vitals) {
            // The stored vitals rows a vital may join (`mergeVitals`), one query, not one per patient.
            for chunk in Array(patientIDs).chunked(500) {
                for id in chunk { state.storedVitals[id] = [] }
                for row in try await VitalsRecord.query(on: db).filter(\.$patientID ~~ Array(chunk)).all() { state.storedVitals[row.patientID, default: []].append(row) }
            }
        }
        for row in try await sql.select().columns("id", "code").from(Site.schema).all() {
            state.sitesByCode[try row.decode(column: "code", as: String.self)] = try row.decode(column: "id", as: UUID.self)
        }
        try await hideInvisibleLedgerEntries(state, on: db)
    }

    /// A clinician's write must not find what their sites cannot see: a ledger key (fullUrl,
    /// source id, identifier) another site's import recorded would answer 200, 403 or 412 and so
    /// reveal it. Such entries are dropped from this call's view and their keys are not
    /// overwritten (the other site's re-import still finds its records).
    func hideInvisibleLedgerEntries(_ state: State, on db: any Database) async throws {
        guard authority.sites != nil else { return }
        for (key, entry) in state.ledger {
            guard let kind = RegistryRecordKind(rawValue: entry.kind) else { continue }
            var pid = entry.patientID ?? (kind == .patient || kind == .patientSection ? entry.recordID : nil)
            if pid == nil { pid = try await kind.find(entry.recordID, on: db)?.patientID }
            guard let pid else { continue } // the record is gone: nothing to reveal
            var patient = state.patients[pid]
            if patient == nil, let found = try await Patient.find(pid, on: db) { state.patients[pid] = found; patient = found }
            guard let patient else { continue }
            if !authority.allows(patient.$site.id) {
                state.ledger[key] = nil
                state.hiddenKeys.insert(key)
            }
        }
    }
}
