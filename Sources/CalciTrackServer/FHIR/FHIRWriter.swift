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
    func isolated(_ p: Prepared, _ state: State, on tx: any Database, _ body: () async throws -> EntryResult) async throws -> EntryResult {
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

    func rank(_ p: Prepared) -> Int {
        if p.entry.method == .delete { return -1 }
        return p.mapped.records.map(\.kind.writeOrder).min() ?? 9
    }

    // MARK: one entry

    func writeOne(_ p: Prepared, _ state: State, on tx: any Database) async throws -> EntryResult {
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
            var matches = try await ConditionalMatch.find(criteria, type: entry.resourceType, authority: authority, on: tx)
            // An earlier entry of this call created it (a Bundle naming one new resource twice).
            if let pending = pendingMatch(criteria, type: entry.resourceType, state), !matches.contains(where: { $0.recordID == pending.recordID }) {
                matches.append(pending)
            }
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

    func createOrUpdate(_ p: Prepared, warnings: [OperationOutcome.Issue], _ state: State, on tx: any Database) async throws -> EntryResult {
        let entry = p.entry
        let primaryKey = p.sourceKeys.first { !$0.contains("|identifier|") } ?? p.sourceKeys.first
        // What this resource was written as before, if anything.
        var existing: ImportLedger.Entry? = primaryKey.flatMap { state.ledger[$0] ?? state.written[$0] }
        var reusedFullUrl = false
        // A POST in a posted Bundle creates (http.html#create; a urn:uuid fullUrl means something
        // only inside its Bundle, bundle.html#references): the fullUrl of an earlier Bundle finds
        // its resource only when the content is the same (the Bundle posted again answers
        // unchanged). A different resource under a reused fullUrl is created, never written over
        // the earlier one, which may be another patient's.
        if entry.method == .post, !entry.keepSourceID, let found = existing, let key = primaryKey, key == entry.fullUrl,
           state.written[key] == nil, found.contentHash != p.contentHash {
            existing = nil
            reusedFullUrl = true
        }
        let kind = p.mapped.records[0].kind
        // A stored record only: a vitals row created earlier in this call takes its next vital
        // through create (the vitals merge), not as an update of a row not yet inserted.
        if existing == nil, entry.method == .put, let id = entry.id, let uuid = Self.registryID(inLogicalID: id),
           try await storedExists(kind, uuid, on: tx) {
            existing = ImportLedger.Entry(kind: kind.rawValue, recordID: uuid, patientID: nil, contentHash: "")
        }
        // (A patient section, `ssc-<patient>` or `weight-<patient>`, is written on the patient row.)
        if existing == nil, entry.method == .put, entry.conditional == nil, kind != .patientSection, let id = entry.id {
            try await checkUpdateAsCreate(id: id, kind: kind, entry: entry, on: tx)
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
            var known: ImportLedger.Entry? = n == 0 ? existing
                : p.sourceKeys.first.flatMap { (reusedFullUrl ? nil : state.ledger["\($0)#\(n)"]) ?? state.written["\($0)#\(n)"] }
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
                    let version = try await currentVersion(record.kind, known.recordID, state, on: tx)
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
        var issues = warnings
        if action == .updated, p.mapped.records[0].kind == .medication, wasStored[0] {
            issues += try await deleteUnlistedHolds(of: results[0].0.recordID, keeping: Set(results.dropFirst().map(\.0.recordID)), entry: entry, state, on: tx)
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
                           version: first.1, lastModified: first.2, issues: issues, resource: resource)
    }

    /// A conditional create that found its match: answered with the stored resource.
    func existingResult(_ match: FHIRRecordLocator.Match, entry: WriteEntry, action: EntryResult.Action, _ state: State, on tx: any Database) async throws -> EntryResult {
        let (version, at) = try await currentVersion(match.kind, match.recordID, state, on: tx)
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
        let id = recordID.lowercasedString
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

    /// Writes the section-updated patients, inserts the queued records (one multi-row statement
    /// per kind and bind-limit slice), the version rows and the ledger rows, and refreshes each
    /// touched patient's summary once.
    ///
    /// The version rows' bodies, and with `calcitrack import` (a record cache) the summaries,
    /// are CPU work on models no statement changes: they are computed on another core while the
    /// rows are inserted, the first use the import makes of the second core besides parsing.
    /// Everything they read is final before they start (timestamps, name keys, the records of
    /// each patient).
    func flush(_ state: State, on tx: any Database) async throws {
        let sql = tx as! any SQLDatabase
        let maxBinds = sql.dialect.name == "sqlite" ? 32_766 : 65_535
        let now = Date()
        try await writeSectionUpdates(state, on: tx)
        for p in state.newPatients { p.createdAt = now; p.updatedAt = now; p.setNameKeys() }
        let kinds = RegistryRecordKind.allCases.sorted { $0.writeOrder < $1.writeOrder }.filter { !(state.creates[$0] ?? []).isEmpty }
        for kind in kinds { for m in state.creates[kind]! { m.setTimestamps(now) } }
        var refresh: (patients: [Patient], records: [UUID: RegistryCase.Records])?
        if let recordCache { refresh = try await importSummaryInputs(state, cache: recordCache, on: tx) }
        let today = today
        async let createdHistory = Self.historyRows(newPatients: state.newPatients, creates: kinds.map { ($0, state.creates[$0]!) }, state, today: today)
        let inputs = refresh
        async let computed = inputs.map { try PatientSummary.compute($0.patients, records: $0.records, today: today) }
        try await BulkRecordInsert.insert(state.newPatients, maxBinds: maxBinds, on: tx)
        for kind in kinds { try await kind.insert(state.creates[kind]!, maxBinds: maxBinds, on: tx) }
        try await BulkRecordInsert.history(state.updateHistory + (await createdHistory), now: now, maxBinds: maxBinds, on: tx)
        try await ImportLedger.store(state.ledgerRows, on: tx)
        if let summaries = try await computed {
            try await PatientSummary.store(summaries, on: tx)
        } else {
            // Without a record cache (HTTP writes, Bundles) the patients and their records are read again.
            try await PatientSummary.refresh(state.touched.subtracting(state.deletedPatients).sorted { $0.precedes($1) }, on: tx, today: today)
        }
        // Stored medications given holds by this call's inserts, or updated with their holds:
        // their latest version lists the holds they now have.
        let newMedications = Set((state.creates[.medication] ?? []).compactMap { $0.id })
        var stamp = state.medicationsToStamp
        for case let hold as HoldRecord in state.creates[.hold] ?? [] where !newMedications.contains(hold.medicationID) { stamp.insert(hold.medicationID) }
        try await MedicationHoldSnapshot.stamp(stamp, on: tx)
    }

    /// The version rows of the created patients and records (version 1, the API JSON).
    static func historyRows(newPatients: [Patient], creates: [(RegistryRecordKind, [any PatientRecord])], _ state: State,
                            today: LocalDate) -> [BulkRecordInsert.HistoryRow] {
        var rows = newPatients.map { p in
            BulkRecordInsert.HistoryRow(kind: "patients", id: p.id!, version: 1, patientID: p.id!, body: p.apiJSON(.none, today: today, siteCode: state.siteCode(of: p)))
        }
        // A created medication's version carries its holds, all created with it (MedicationHoldSnapshot).
        var holds: [UUID: [HoldRecord]] = [:]
        for case let hold as HoldRecord in creates.first(where: { $0.0 == .hold })?.1 ?? [] { holds[hold.medicationID, default: []].append(hold) }
        for (kind, models) in creates {
            rows += models.map { m in
                var body = m.apiJSON(.none, includeAuthors: true)
                if kind == .medication {
                    let listed = (holds[m.id!] ?? []).sorted { $0.start < $1.start }.map { $0.apiJSON(.none, includeAuthors: true) }
                    body = MedicationHoldSnapshot.adding(listed, to: body)
                }
                return .init(kind: kind.rawValue, id: m.id!, version: 1, patientID: m.patientID, body: body)
            }
        }
        return rows
    }

    /// What `calcitrack import`'s summary refresh reads, gathered before the inserts: the
    /// patient rows this call holds and each touched patient's records as this call leaves them:
    /// the cached ones plus this call's creates, read from the database (then plus the creates)
    /// only for patients not cached or whose stored records this call updated or deleted. The
    /// cache is staged with the same (docs/fhir.md "Summary refresh of `calcitrack import`").
    func importSummaryInputs(_ state: State, cache: ImportRecordCache, on tx: any Database) async throws
        -> (patients: [Patient], records: [UUID: RegistryCase.Records]) {
        let ids = state.touched.subtracting(state.deletedPatients).sorted { $0.precedes($1) }
        let nullsFirst = (tx as! any SQLDatabase).dialect.name == "sqlite"
        var created: [UUID: [any PatientRecord]] = [:]
        for models in state.creates.values { for m in models { created[m.patientID, default: []].append(m) } }
        let newPatients = Set(state.newPatients.map { $0.id! })
        var records: [UUID: RegistryCase.Records] = [:]
        var toRead: [UUID] = []
        for id in ids {
            if newPatients.contains(id) {
                records[id] = RegistryCase.Records.empty.adding(created[id] ?? [], nullsFirst: nullsFirst)
            } else if state.cacheUsable, !state.recordsChanged.contains(id), let cached = cache.cached(id) {
                records[id] = cached.adding(created[id] ?? [], nullsFirst: nullsFirst)
            } else {
                toRead.append(id)
            }
        }
        for chunk in toRead.chunked(500) {
            let read = try await RegistryCase.records(ofPatients: Array(chunk), on: tx)
            for id in chunk { records[id] = (read[id] ?? .empty).adding(created[id] ?? [], nullsFirst: nullsFirst) }
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
        // Not the patients this call created: bulk-inserted, they are not stored models to Fluent
        // (an update of one would fail); the next chunk reads them.
        cache.stage(patients: (Array(state.patients.values) + patients).filter { !newPatients.contains($0.id!) },
                    evicted: state.evictedPatients.union(state.deletedPatients))
        return (patients, records)
    }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
