import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation
import SQLKit
import Vapor

/// Writes FHIR resources into the registry, inside a write transaction the caller opened with
/// `AuditLog.write` (the HTTP write API, Bundles and `calcitrack import` all come here). Per
/// call, whatever the number of entries: one ledger lookup, one load of the referenced patients
/// and parents, one multi-row INSERT per record kind, one summary refresh per touched patient.
///
/// - transaction: any failed entry fails the whole call (`TransactionFailure`; the caller's
///   transaction rolls back). Resources of a type CalciTrack does not store are answered with
///   an error outcome but do not fail the transaction (docs/fhir.md "Bundles").
/// - batch: a failed entry is answered with its outcome and the others are written.
struct FHIRWriter {
    enum Mode: Sendable { case transaction, batch }

    let authority: WriteAuthority
    let today: LocalDate
    let mode: Mode
    /// `calcitrack import`: patients' records kept between chunks for the summary refresh.
    var recordCache: ImportRecordCache? = nil

    /// An entry with its mapping done (pure work, outside the transaction).
    struct Prepared: Sendable {
        var entry: WriteEntry
        var mapped: MappedResource
        /// Identities of the resource in its source (ledger keys), first the one it is stored under.
        var sourceKeys: [String]
        var contentHash: String
    }

    static func prepare(_ entry: WriteEntry) -> Prepared {
        guard let resource = entry.resource else {
            return Prepared(entry: entry, mapped: MappedResource(records: [], issues: []), sourceKeys: [], contentHash: "")
        }
        var mapped = InboundAdapter.map(resource)
        if let declared = resource["resourceType"]?.stringValue, declared != entry.resourceType {
            mapped.records = []
            mapped.issues.append(.init(.error, .invalid, "resourceType is \(declared) but the request names \(entry.resourceType)", at: ["\(declared).resourceType"]))
        }
        var keys: [String] = []
        if let fullUrl = entry.fullUrl, !fullUrl.isEmpty { keys.append(fullUrl) }
        if let id = entry.id, entry.method == .put { keys.append("\(entry.resourceType)/\(id)") }
        if entry.keepSourceID, let id = resource["id"]?.stringValue { keys.append("\(entry.resourceType)/\(id)") }
        keys += identifierKeys(resource, type: entry.resourceType)
        var hashed = resource
        hashed["meta"] = nil
        hashed["id"] = nil
        let hash = AuditLog.digest(JSONWriter.write(.object(hashed), pretty: false))
        return Prepared(entry: entry, mapped: mapped, sourceKeys: keys, contentHash: hash)
    }

    /// Ledger keys for each identifier (with and without its system, so a search without a system matches).
    static func identifierKeys(_ resource: JSONObject, type: String) -> [String] {
        guard case .array(let ids)? = resource["identifier"] else { return [] }
        var keys: [String] = []
        for case .object(let id) in ids {
            guard let value = id["value"]?.stringValue else { continue }
            keys.append("\(type)|identifier|\(id["system"]?.stringValue ?? "")|\(value)")
            if id["system"] != nil { keys.append("\(type)|identifier||\(value)") }
        }
        return keys
    }

    // MARK: state of one call

    final class State: @unchecked Sendable {
        var ledger: [String: ImportLedger.Entry] = [:]
        /// Ledger keys that name records of sites the writer cannot see (left as they are).
        var hiddenKeys: Set<String> = []
        var patients: [UUID: Patient] = [:]
        /// Lesions and medications by id: their patient.
        var parents: [UUID: UUID] = [:]
        var sitesByCode: [String: UUID] = [:]
        /// fullUrl / source key → what this call wrote for it.
        var written: [String: ImportLedger.Entry] = [:]
        var creates: [RegistryRecordKind: [any PatientRecord]] = [:]
        var newPatients: [Patient] = []
        var newMRNs: Set<String> = []
        var touched: Set<UUID> = []
        /// Patients whose stored records this call updated or deleted (the record cache's copy is stale).
        var recordsChanged: Set<UUID> = []
        var deletedPatients: Set<UUID> = []
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
        }

        func saved() -> Saved {
            Saved(patients: patients, parents: parents, written: written, creates: creates, newPatients: newPatients, newMRNs: newMRNs,
                  touched: touched, ledgerRows: ledgerRows, events: events, hiddenKeys: hiddenKeys, pendingVitals: pendingVitals,
                  pendingLesionLabels: pendingLesionLabels, recordsChanged: recordsChanged, deletedPatients: deletedPatients)
        }

        func restore(_ s: Saved) {
            let pending = Set(s.newPatients.map { ObjectIdentifier($0) })
            patients = s.patients.filter { pending.contains(ObjectIdentifier($0.value)) }
            parents = s.parents; written = s.written; creates = s.creates; newPatients = s.newPatients; newMRNs = s.newMRNs
            touched = s.touched; ledgerRows = s.ledgerRows; events = s.events; hiddenKeys = s.hiddenKeys; pendingVitals = s.pendingVitals
            pendingLesionLabels = s.pendingLesionLabels; deletedPatients = s.deletedPatients
            // Rolled-back updates changed stored records: keep their patients marked (read again).
            recordsChanged.formUnion(s.recordsChanged)
            storedVitals = [:]
            // The preloaded lesion labels and MRNs may have changed with the rolled-back entry:
            // check those by query from here on.
            storedLesionLabels = [:]; storedMRNs = [:]; preloadedMRNs = []
        }
    }

    /// Writes the entries; returns one result per entry (in entry order) and the audit events.
    func write(_ prepared: [Prepared], on tx: any Database) async throws -> (results: [EntryResult], events: [AuditEvent]) {
        let state = State()
        try await preload(prepared, state, on: tx)
        var results = [EntryResult?](repeating: nil, count: prepared.count)
        // FHIR transaction order: deletes first, then the rest, parents before children.
        let order = prepared.indices.sorted { a, b in
            let ka = rank(prepared[a]), kb = rank(prepared[b])
            return ka != kb ? ka < kb : a < b
        }
        for i in order {
            let p = prepared[i]
            do {
                results[i] = try await isolated(p, state, on: tx) { try await writeOne(p, state, on: tx) }
            } catch let failure as EntryFailure {
                if mode == .transaction {
                    // In a Bundle, say which entry failed (a single create or update has one).
                    throw TransactionFailure(status: failure.status, issues: prepared.count == 1 ? failure.issues : failure.issues.map { issue in
                        var issue = issue
                        issue.diagnostics = "\(p.entry.location) (\(p.entry.resourceType)): " + issue.diagnostics
                        return issue
                    })
                }
                results[i] = EntryResult(action: .rejected, status: failure.status, resourceType: p.entry.resourceType, issues: failure.issues)
            }
        }
        try await flush(state, on: tx)
        return (results.map { $0! }, state.events)
    }

    /// A batch entry is all or nothing. An entry that maps to one record writes it last, after
    /// everything that can reject it, so it needs nothing more. An entry of several records (a
    /// MedicationStatement and its holds) runs in a savepoint with this call's state saved:
    /// when a later record fails, the earlier ones are undone, in the database (updates are
    /// written at once) and in the queue of creates, and nothing of the entry is audited.
    /// A transaction needs none of this: a failed entry fails the caller's transaction.
    private func isolated(_ p: Prepared, _ state: State, on tx: any Database, _ body: () async throws -> EntryResult) async throws -> EntryResult {
        guard mode == .batch, p.mapped.records.count > 1 else { return try await body() }
        let sql = tx as! any SQLDatabase
        let saved = state.saved()
        try await sql.raw("SAVEPOINT fhir_batch_entry").run()
        do {
            let result = try await body()
            try await sql.raw("RELEASE SAVEPOINT fhir_batch_entry").run()
            return result
        } catch let failure as EntryFailure {
            try await sql.raw("ROLLBACK TO SAVEPOINT fhir_batch_entry").run()
            try await sql.raw("RELEASE SAVEPOINT fhir_batch_entry").run()
            state.restore(saved)
            throw failure
        }
    }

    private func rank(_ p: Prepared) -> Int {
        if p.entry.method == .delete { return -1 }
        return p.mapped.records.map(\.kind.writeOrder).min() ?? 9
    }

    /// One query each for the ledger, the referenced patients and parents, and the sites.
    private func preload(_ prepared: [Prepared], _ state: State, on db: any Database) async throws {
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
        state.ledger = try await ImportLedger.lookup(keys, on: db)
        for entry in state.ledger.values {
            if let pid = entry.patientID { patientIDs.insert(pid) }
            if entry.kind == RegistryRecordKind.lesion.rawValue || entry.kind == RegistryRecordKind.medication.rawValue { parentIDs.insert(entry.recordID) }
        }
        if !patientIDs.isEmpty {
            for chunk in Array(patientIDs).chunked(500) {
                for patient in try await Patient.query(on: db).filter(\.$id ~~ chunk).all() { state.patients[patient.id!] = patient }
            }
        }
        if !parentIDs.isEmpty {
            for chunk in Array(parentIDs).chunked(500) {
                for l in try await LesionRecord.query(on: db).filter(\.$id ~~ chunk).all() { state.parents[l.id!] = l.patientID }
                for m in try await MedicationRecord.query(on: db).filter(\.$id ~~ chunk).all() { state.parents[m.id!] = m.patientID }
            }
        }
        let kinds = Set(prepared.flatMap { $0.mapped.records.map(\.kind) })
        if !patientIDs.isEmpty, kinds.contains(.lesion) {
            // The labels a new lesion must not repeat: one query, not one per lesion.
            for chunk in Array(patientIDs).chunked(500) {
                for id in chunk { state.storedLesionLabels[id] = [:] }
                let rows = try await LesionRecord.query(on: db).filter(\.$patientID ~~ Array(chunk)).field(\.$id).field(\.$patientID).field(\.$label).all()
                for row in rows { state.storedLesionLabels[row.patientID, default: [:]][row.id!] = row.label }
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
        for site in try await Site.query(on: db).all() { state.sitesByCode[site.code] = site.id }
        try await hideInvisibleLedgerEntries(state, on: db)
    }

    /// A clinician's write must not find what their sites cannot see: a ledger key (fullUrl,
    /// source id, identifier) another site's import recorded would answer 200, 403 or 412 and so
    /// reveal it. Such entries are dropped from this call's view and their keys are not
    /// overwritten (the other site's re-import still finds its records).
    private func hideInvisibleLedgerEntries(_ state: State, on db: any Database) async throws {
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

    // MARK: one entry

    private func writeOne(_ p: Prepared, _ state: State, on tx: any Database) async throws -> EntryResult {
        var p = p
        if let criteria = p.entry.conditional {
            switch try await resolveConditional(p, criteria, state, on: tx) {
            case .resolved(let resolved): p = resolved
            case .nothingToDelete(let result): return result
            }
        }
        let entry = p.entry
        if entry.method == .delete { return try await delete(entry, state, on: tx) }
        if p.mapped.notStorable {
            // Not a failure of a transaction: CalciTrack has no home for it, and says so.
            return EntryResult(action: .notStored, status: p.mapped.derived ? .ok : .unprocessableEntity, resourceType: entry.resourceType, issues: p.mapped.issues)
        }
        if p.mapped.rejected {
            throw EntryFailure(.unprocessableEntity, p.mapped.issues.isEmpty
                ? [.init(.error, .required, "a \(entry.method.rawValue) needs a resource", at: [entry.location + ".resource"])] : p.mapped.issues)
        }
        let warnings = p.mapped.issues
        // Conditional create.
        if let criteria = entry.ifNoneExist, entry.method == .post {
            let matches = try await ConditionalMatch.find(criteria, type: entry.resourceType, authority: authority, on: tx)
            if matches.count > 1 {
                throw EntryFailure(.preconditionFailed, .duplicate, "If-None-Exist \(criteria) matches \(matches.count) resources; make the criteria selective", at: entry.resourceType)
            }
            if let match = matches.first {
                return try await existingResult(match, entry: entry, action: .matched, state, on: tx)
            }
            if let key = ConditionalMatch.ledgerKey(criteria, type: entry.resourceType) {
                // Criteria written at creation let the next run match even without an identifier;
                // criteria another site's record is remembered under stay that site's.
                if let owner = try await ImportLedger.lookup([key], on: tx)[key], let kind = RegistryRecordKind(rawValue: owner.kind),
                   try await ConditionalMatch.visible(FHIRRecordLocator.Match(kind: kind, recordID: owner.recordID, patientID: owner.patientID), authority, on: tx) == nil {
                    state.hiddenKeys.insert(key)
                }
                p.sourceKeys.append(key)
                return try await createOrUpdate(p, warnings: warnings, state, on: tx)
            }
        }
        return try await createOrUpdate(p, warnings: warnings, state, on: tx)
    }

    enum ConditionalResolution {
        /// The entry as a plain update (the match's id), delete, or create (no match).
        case resolved(Prepared)
        /// A conditional delete that matched nothing.
        case nothingToDelete(EntryResult)
    }

    /// Conditional update and delete (FHIR R4 http.html#cond-update, #cond-delete), over the
    /// records the writer may see: no match: an update creates (with the resource's id when it
    /// names no record), a delete does nothing; one match: acts on it; several: 412.
    private func resolveConditional(_ p: Prepared, _ criteria: String, _ state: State, on tx: any Database) async throws -> ConditionalResolution {
        var p = p
        let type = p.entry.resourceType
        let interaction: ConditionalMatch.Interaction = p.entry.method == .delete ? .delete : .update
        let matches = try await ConditionalMatch.find(criteria, type: type, authority: authority, for: interaction, on: tx)
        p.entry.conditional = nil
        if matches.count > 1 {
            throw EntryFailure(.preconditionFailed, .duplicate,
                               "\(interaction.rawValue) \(type)?\(criteria) matches \(matches.count) resources; make the criteria selective (only one may be \(p.entry.method == .delete ? "deleted" : "updated"))",
                               at: type)
        }
        let resourceID = p.entry.resource?["id"]?.stringValue
        if let match = matches.first {
            let fhirID = Self.fhirID(kind: match.kind, recordID: match.recordID, record: p.mapped.records.first, resourceType: type)
            if p.entry.method == .put {
                if let resourceID, resourceID != fhirID {
                    throw EntryFailure(.badRequest, .invalid, "the resource's id \(resourceID) is not \(type)/\(fhirID), the resource the criteria \(criteria) match", at: "\(type).id")
                }
                if let kind = p.mapped.records.first?.kind, kind != match.kind {
                    throw EntryFailure(.badRequest, .invalid, "the criteria \(criteria) match a \(match.kind.rawValue) record but the resource maps to \(kind.rawValue)", at: type)
                }
                // The match is what this update changes, whatever else the source keys name.
                p.sourceKeys.insert("\(type)/\(fhirID)", at: 0)
            }
            p.entry.id = fhirID
            return .resolved(p)
        }
        if p.entry.method == .delete {
            return .nothingToDelete(EntryResult(action: .deleted, status: .noContent, resourceType: type, issues: [
                .init(.information, .notFound, "no \(type) matches \(criteria); nothing deleted", at: [type])]))
        }
        if let resourceID {
            if let (kind, id) = try await FHIRRecordLocator.locate(type: type, id: resourceID, ledger: [:], on: tx),
               try await ConditionalMatch.visible(FHIRRecordLocator.Match(kind: kind, recordID: id, patientID: nil), authority, on: tx) != nil {
                throw EntryFailure(.conflict, .conflict, "\(type)/\(resourceID) exists but does not match the criteria \(criteria); update it by id, or fix the criteria", at: "\(type).id")
            }
            p.entry.id = resourceID // update as create, with the client's id
            p.sourceKeys.insert("\(type)/\(resourceID)", at: 0)
            return .resolved(p)
        }
        if let expected = p.entry.ifMatch, !p.entry.ifMatchFromMeta {
            throw EntryFailure(.preconditionFailed, .conflict, "If-Match names version \(expected), but no \(type) matches \(criteria)", at: "If-Match")
        }
        // No match, no id: a create that remembers the criteria (like If-None-Exist).
        p.entry.method = .post
        p.entry.ifNoneExist = criteria
        p.entry.ifMatch = nil
        return .resolved(p)
    }

    private func createOrUpdate(_ p: Prepared, warnings: [OperationOutcome.Issue], _ state: State, on tx: any Database) async throws -> EntryResult {
        let entry = p.entry
        let primaryKey = p.sourceKeys.first { !$0.contains("|identifier|") } ?? p.sourceKeys.first
        // What this resource was written as before, if anything.
        var existing: ImportLedger.Entry? = primaryKey.flatMap { state.ledger[$0] ?? state.written[$0] }
        let kind = p.mapped.records[0].kind
        // A stored record only: a vitals row created earlier in this call takes its next vital
        // through create (the vitals merge), not as an update of a row not yet inserted.
        if existing == nil, entry.method == .put, let id = entry.id, let uuid = Self.registryID(inLogicalID: id),
           try await storedExists(kind, uuid, on: tx) {
            existing = ImportLedger.Entry(kind: kind.rawValue, recordID: uuid, patientID: nil, contentHash: "")
        }
        if entry.method == .post, entry.ifNoneExist == nil, !entry.keepSourceID, entry.fullUrl == nil {
            existing = nil // a plain POST always creates
        }
        var results: [(ImportLedger.Entry, Int, Date?)] = []
        /// Per result: the record was stored before this entry (updated or unchanged, not created).
        var wasStored: [Bool] = []
        var action: EntryResult.Action = .created
        for (n, mappedRecord) in p.mapped.records.enumerated() {
            var record = mappedRecord
            var known: ImportLedger.Entry? = n == 0 ? existing : p.sourceKeys.first.flatMap { state.ledger["\($0)#\(n)"] ?? state.written["\($0)#\(n)"] }
            if let parent = record.parentIndex, parent < results.count {
                // The parent is a record of this same resource (a hold's medication).
                record.parent = "\(RegistryRecordKind.medication.rawValue)#\(results[parent].0.recordID.uuidString)"
                state.written[record.parent!] = results[parent].0
                if record.kind == .hold, wasStored[parent] {
                    known = try await storedHold(record, of: results[parent].0.recordID, contentHash: p.contentHash, on: tx)
                }
            }
            if let known, known.kind == record.kind.rawValue, try await exists(record.kind, known.recordID, state, on: tx) {
                wasStored.append(true)
                // With If-Match the resource is updated (its version checked) even when unchanged; its holds are not.
                if known.contentHash == p.contentHash, entry.ifMatch == nil || entry.ifMatchFromMeta || n > 0 {
                    let version = try await currentVersion(record.kind, known.recordID, on: tx)
                    results.append((known, version.0, version.1))
                    if n == 0 { action = .unchanged }
                    continue
                }
                // If-Match (or meta.versionId) is the version of the resource, which is its first record's.
                var recordEntry = entry
                if n > 0 { recordEntry.ifMatch = nil }
                let (version, at) = try await update(record, id: known.recordID, entry: recordEntry, state, on: tx)
                if record.kind == .patientSection, n == 0 { action = .updated }
                results.append((ImportLedger.Entry(kind: record.kind.rawValue, recordID: known.recordID, patientID: known.patientID ?? (record.kind == .patient ? known.recordID : nil), contentHash: p.contentHash), version, at))
                if n == 0 { action = .updated }
            } else {
                if n == 0, let expected = entry.ifMatch, entry.method == .put, !entry.ifMatchFromMeta {
                    throw EntryFailure(.preconditionFailed, .conflict, "If-Match names version \(expected) of \(entry.resourceType)/\(entry.id ?? "?"), which does not exist", at: entry.resourceType)
                }
                let id = n == 0 ? preferredID(entry, kind: record.kind) : nil
                wasStored.append(false)
                let created = try await create(record, id: id, entry: entry, state, on: tx)
                results.append((ImportLedger.Entry(kind: record.kind.rawValue, recordID: created.0, patientID: created.1, contentHash: p.contentHash), created.2, Date()))
                if record.kind == .patientSection, n == 0 { action = .updated }
            }
        }
        for (n, (ledgerEntry, _, _)) in results.enumerated() {
            let keys = n == 0 ? p.sourceKeys : p.sourceKeys.prefix(1).map { "\($0)#\(n)" }
            for key in keys {
                state.written[key] = ledgerEntry
                if !state.hiddenKeys.contains(key) { state.ledgerRows.append((key, entry.resourceType, ledgerEntry)) }
            }
        }
        let first = results[0]
        let fhirID = Self.fhirID(kind: RegistryRecordKind(rawValue: first.0.kind)!, recordID: first.0.recordID, record: p.mapped.records[0], resourceType: entry.resourceType)
        var resource = entry.resource ?? JSONObject()
        resource["id"] = .string(fhirID)
        resource["meta"] = .object(JSONObject([("versionId", .string(String(first.1))), ("lastUpdated", .string(ISOTimestamp.isoMillis(first.2 ?? Date())))]))
        let firstKind = RegistryRecordKind(rawValue: first.0.kind)!
        return EntryResult(action: action, status: action == .created ? .created : .ok, resourceType: firstKind.servedType(requested: entry.resourceType),
                           kind: firstKind, recordID: first.0.recordID, fhirID: fhirID,
                           version: first.1, lastModified: first.2, issues: warnings, resource: resource)
    }

    /// The stored hold of a stored medication that a statement's hold is: the one with the same
    /// start (the statement's notes may come in another order, and a statement written by POST or
    /// the JSON API left no ledger key for its holds). Unchanged (the entry's hash) when its end and
    /// reason are the same too, else to be updated.
    private func storedHold(_ record: MappedRecord, of medication: UUID, contentHash: String, on tx: any Database) async throws -> ImportLedger.Entry? {
        guard let start = record.body["start"]?.stringValue,
              let hold = try await HoldRecord.query(on: tx).filter(\.$medicationID == medication).filter(\.$start == start).first() else { return nil }
        let same = hold.end == record.body["end"]?.stringValue && hold.reason == record.body["reason"]?.stringValue
        return ImportLedger.Entry(kind: RegistryRecordKind.hold.rawValue, recordID: hold.id!, patientID: hold.patientID, contentHash: same ? contentHash : "")
    }

    /// The registry id an import keeps: a PUT's id, or a file resource's own id, when it is a
    /// registry id no record has yet.
    private func preferredID(_ entry: WriteEntry, kind: RegistryRecordKind) -> UUID? {
        guard kind != .patientSection else { return nil }
        if entry.method == .put, let id = entry.id { return Self.registryID(inLogicalID: id) }
        if entry.keepSourceID, let id = entry.resource?["id"]?.stringValue { return Self.registryID(inLogicalID: id) }
        return nil
    }

    // MARK: create, update, delete

    /// Creates the record (queued for the multi-row insert); returns its id, patient id and version.
    private func create(_ record: MappedRecord, id: UUID?, entry: WriteEntry, _ state: State, on tx: any Database) async throws -> (UUID, UUID?, Int) {
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
            state.events.append(AuditEvent(action: "create", resourceType: "patients", resourceID: patient.id!.uuidString.lowercased(),
                                           patientID: patient.id!.uuidString.lowercased(), detail: "version 1 (FHIR \(entry.resourceType))"))
            return (patient.id!, patient.id!, 1)
        }
        let patient = try await patient(for: record, entry, state, on: tx)
        let pid = patient.id!
        if record.kind == .patientSection {
            let version = try await updateSections(patient, record.body, entry: entry, state, on: tx)
            return (pid, pid, version)
        }
        if record.kind == .vitals, let merged = try await mergeVitals(record, patientID: pid, entry: entry, state, on: tx) {
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
        state.events.append(AuditEvent(action: "create", resourceType: record.kind.rawValue, resourceID: model.id!.uuidString.lowercased(),
                                       patientID: pid.uuidString.lowercased(), detail: "version 1 (FHIR \(entry.resourceType))"))
        return (model.id!, pid, 1)
    }

    /// Vital-sign Observations of one patient and day are one vitals row (the engine reads a
    /// day's row, InboundMapping.mergeVitals): a vital joins a row of that day that does not
    /// hold a different value for it, in this call or stored. Returns the row and its version,
    /// or nil when the vital starts a new row.
    private func mergeVitals(_ record: MappedRecord, patientID pid: UUID, entry: WriteEntry, _ state: State, on tx: any Database) async throws -> (UUID, Int)? {
        guard let date = record.body["date"]?.stringValue else { return nil }
        func fits(_ row: JSONObject) -> Bool {
            record.body.entries.allSatisfy { $0.key == "date" || row[$0.key] == nil || row[$0.key] == $0.value }
        }
        func union(_ row: JSONObject) -> JSONObject {
            var out = row
            for (k, v) in record.body.entries where out[k] == nil { out[k] = v }
            return out
        }
        let key = "\(pid)|\(date)"
        if let rows = state.pendingVitals[key], let i = rows.firstIndex(where: { fits($0.body) }) {
            let merged = union(rows[i].body)
            var invalid: APIError?
            do { try rows[i].model.apply(merged, today: today) } catch { invalid = error }
            if let invalid { throw EntryFailure(invalid, resourceType: entry.resourceType) }
            state.pendingVitals[key]![i].body = merged
            return (rows[i].model.id!, 1)
        }
        if state.storedVitals[pid] == nil {
            state.storedVitals[pid] = try await VitalsRecord.query(on: tx).filter(\.$patientID == pid).all()
        }
        for stored in state.storedVitals[pid]! where stored.date == date {
            let body = JSONObject(compacting: stored.apiFields(.none))
            guard fits(body) else { continue }
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
            state.events.append(AuditEvent(action: "update", resourceType: RegistryRecordKind.vitals.rawValue, resourceID: stored.id!.uuidString.lowercased(),
                                           patientID: pid.uuidString.lowercased(),
                                           detail: "version \(stored.version) (FHIR \(entry.resourceType)); changed: \(record.body.keys.filter { $0 != "date" }.joined(separator: ", "))"))
            return (stored.id!, stored.version)
        }
        return nil
    }

    /// Applies the body to a new or loaded model, with its references resolved.
    private func buildRecord(_ record: MappedRecord, existing: (any PatientRecord)?, patientID pid: UUID, entry: WriteEntry, _ state: State, on tx: any Database) async throws -> any PatientRecord {
        var body = record.body
        var parent: UUID?
        if let reference = record.parent {
            let (what, element) = record.kind == .hold ? ("medication", "MedicationStatement") : ("lesion", "\(entry.resourceType).focus")
            parent = try await parentID(reference, of: pid, what: what, at: element, state, on: tx)
        }
        if let reference = record.lesion {
            let lesionID = try await parentID(reference, of: pid, what: "lesion", at: "\(entry.resourceType).bodySite", state, on: tx)
            body["lesionId"] = JSONValue.string(lesionID.uuidString.lowercased())
        }
        let model = existing ?? record.kind.recordType!.init()
        var invalid: APIError?
        do { try model.apply(body, today: today) } catch { invalid = error }
        if let invalid { throw EntryFailure(invalid, resourceType: entry.resourceType) }
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

    private func update(_ record: MappedRecord, id: UUID, entry: WriteEntry, _ state: State, on tx: any Database) async throws -> (Int, Date?) {
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
            state.events.append(AuditEvent(action: "update", resourceType: "patients", resourceID: id.uuidString.lowercased(),
                                           patientID: id.uuidString.lowercased(), detail: "version \(patient.version) (FHIR \(entry.resourceType))"))
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
        if let lesion = model as? LesionRecord, state.storedLesionLabels[lesion.patientID] != nil { state.storedLesionLabels[lesion.patientID]![id] = lesion.label }
        state.events.append(AuditEvent(action: "update", resourceType: record.kind.rawValue, resourceID: id.uuidString.lowercased(),
                                       patientID: model.patientID.uuidString.lowercased(),
                                       detail: "version \(model.version) (FHIR \(entry.resourceType)); changed: \(changed.isEmpty ? "nothing" : changed.joined(separator: ", "))"))
        return (model.version, model.updatedAt)
    }

    private func checkVersion(_ entry: WriteEntry, current: Int) throws {
        if let expected = entry.ifMatch, expected != current {
            throw EntryFailure(.preconditionFailed, .conflict,
                               "\(entry.resourceType)/\(entry.id ?? "") was changed by someone else (now version \(current), you sent \(expected)); read it again and apply your change to the current version",
                               at: entry.resourceType + ".meta.versionId")
        }
    }

    private func delete(_ entry: WriteEntry, _ state: State, on tx: any Database) async throws -> EntryResult {
        var located: (RegistryRecordKind, UUID)?
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
        state.events.append(AuditEvent(action: "delete", resourceType: kind.rawValue, resourceID: recordID.uuidString.lowercased(),
                                       patientID: pid.uuidString.lowercased(), detail: "version \(version) deleted (FHIR \(entry.resourceType))"))
        return EntryResult(action: .deleted, status: .noContent, resourceType: entry.resourceType, kind: kind, recordID: recordID, fhirID: id, version: version, issues: [])
    }

    // MARK: helpers

    private func exists(_ kind: RegistryRecordKind, _ id: UUID, _ state: State, on tx: any Database) async throws -> Bool {
        switch kind {
        case .patient, .patientSection:
            if state.patients[id] != nil { return true }
            return try await Patient.find(id, on: tx) != nil
        default:
            if (state.creates[kind] ?? []).contains(where: { $0.id == id }) { return true }
            return try await kind.find(id, on: tx) != nil
        }
    }

    private func storedExists(_ kind: RegistryRecordKind, _ id: UUID, on tx: any Database) async throws -> Bool {
        switch kind {
        case .patient, .patientSection: try await Patient.find(id, on: tx) != nil
        default: try await kind.find(id, on: tx) != nil
        }
    }

    private func currentVersion(_ kind: RegistryRecordKind, _ id: UUID, on tx: any Database) async throws -> (Int, Date?) {
        switch kind {
        case .patient, .patientSection:
            let p = try await Patient.find(id, on: tx)
            return (p?.version ?? 1, p?.updatedAt)
        default:
            let r = try await kind.find(id, on: tx)
            return (r?.version ?? 1, r?.updatedAt)
        }
    }

    /// A conditional create that found its match: answered with the stored resource.
    private func existingResult(_ match: FHIRRecordLocator.Match, entry: WriteEntry, action: EntryResult.Action, _ state: State, on tx: any Database) async throws -> EntryResult {
        let (version, at) = try await currentVersion(match.kind, match.recordID, on: tx)
        let fhirID = Self.fhirID(kind: match.kind, recordID: match.recordID, record: nil, resourceType: entry.resourceType)
        if let fullUrl = entry.fullUrl {
            state.written[fullUrl] = ImportLedger.Entry(kind: match.kind.rawValue, recordID: match.recordID, patientID: match.patientID, contentHash: "")
        }
        return EntryResult(action: action, status: .ok, resourceType: match.kind.servedType(requested: entry.resourceType), kind: match.kind, recordID: match.recordID,
                           fhirID: fhirID, version: version, lastModified: at,
                           issues: [.init(.information, .duplicate, "If-None-Exist matched \(entry.resourceType)/\(fhirID); nothing created", at: [entry.resourceType])],
                           resource: nil)
    }

    /// The FHIR id of a written record (docs/fhir.md "Identity").
    static func fhirID(kind: RegistryRecordKind, recordID: UUID, record: MappedRecord?, resourceType: String) -> String {
        let id = recordID.uuidString.lowercased()
        switch kind {
        case .patientSection:
            return resourceType == "Observation" ? ObservationOutbound.weightID(patientID: id) : ResourceID.sscCondition(patientID: id)
        case .vitals:
            let keys = record?.body.keys ?? []
            let vital: ResourceID.Vital? = keys.contains("temperatureC") ? .temperature : keys.contains("heartRate") ? .heartRate
                : keys.contains("respiratoryRate") ? .respiratoryRate : keys.contains("systolicBP") ? .systolic : nil
            return vital.map { ResourceID.vital(id, $0) } ?? id
        default: return id
        }
    }

    /// Inserts the queued records (one multi-row statement per kind and bind-limit slice), the
    /// ledger rows, and refreshes each touched patient's summary once.
    private func flush(_ state: State, on tx: any Database) async throws {
        let sql = tx as! any SQLDatabase
        let maxBinds = sql.dialect.name == "sqlite" ? 32_766 : 65_535
        let now = Date()
        var history: [(kind: String, id: UUID, patientID: UUID, body: JSONValue)] = []
        if !state.newPatients.isEmpty {
            for p in state.newPatients { p.createdAt = now; p.updatedAt = now }
            try await BulkRecordInsert.insert(state.newPatients, now: now, maxBinds: maxBinds, on: tx)
            let codes = Dictionary(state.sitesByCode.map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            history += state.newPatients.map { p in
                ("patients", p.id!, p.id!, p.apiJSON(.none, today: today, siteCode: codes[p.$site.id]))
            }
        }
        for kind in RegistryRecordKind.allCases.sorted(by: { $0.writeOrder < $1.writeOrder }) {
            guard let models = state.creates[kind], !models.isEmpty else { continue }
            try await kind.insert(models, now: now, maxBinds: maxBinds, on: tx)
            history += models.map { m in (kind.rawValue, m.id!, m.patientID, m.apiJSON(.none, includeAuthors: true)) }
        }
        try await BulkRecordInsert.history(history, now: now, maxBinds: maxBinds, on: tx)
        try await ImportLedger.store(state.ledgerRows, on: tx)
        try await refreshSummaries(state, on: tx)
    }

    /// One summary refresh per touched patient. Without a record cache (HTTP writes, Bundles) the
    /// patients and their records are read again; an import takes the patient rows this call
    /// holds and each patient's records from the cache plus this call's creates, reading only
    /// patients not cached or whose stored records this call updated or deleted.
    private func refreshSummaries(_ state: State, on tx: any Database) async throws {
        let ids = state.touched.subtracting(state.deletedPatients).sorted { $0.uuidString < $1.uuidString }
        guard let cache = recordCache else {
            try await PatientSummary.refresh(ids, on: tx, today: today)
            return
        }
        let nullsFirst = (tx as! any SQLDatabase).dialect.name == "sqlite"
        let useCache = try await cache.usable(on: tx)
        var created: [UUID: [any PatientRecord]] = [:]
        for models in state.creates.values { for m in models { created[m.patientID, default: []].append(m) } }
        let newPatients = Set(state.newPatients.map { $0.id! })
        var records: [UUID: RegistryCase.Records] = [:]
        var toRead: [UUID] = []
        for id in ids {
            if newPatients.contains(id) {
                records[id] = RegistryCase.Records.empty.adding(created[id] ?? [], nullsFirst: nullsFirst)
            } else if useCache, !state.recordsChanged.contains(id), let cached = cache.cached(id) {
                records[id] = cached.adding(created[id] ?? [], nullsFirst: nullsFirst)
            } else {
                toRead.append(id)
            }
        }
        for chunk in toRead.chunked(500) {
            records.merge(try await RegistryCase.records(ofPatients: Array(chunk), on: tx)) { _, read in read }
        }
        var patients: [Patient] = []
        var unloaded: [UUID] = []
        for id in ids {
            if let p = state.patients[id] { patients.append(p) } else { unloaded.append(id) }
        }
        for chunk in unloaded.chunked(500) {
            patients += try await Patient.query(on: tx).filter(\.$id ~~ Array(chunk)).all()
        }
        for id in ids { cache.stage(id, records[id] ?? .empty) }
        try await PatientSummary.refresh(patients, records: records, on: tx, today: today)
    }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
