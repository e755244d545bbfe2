import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation
import SQLKit

/// Type-level history of Observation and Condition, whose resources do not map one to one onto
/// registry rows: a vitals row is up to five Observations (`<row>-<vital>`), the patient row
/// carries the body-weight Observation (`weight-<patient>`) and the SSc Condition (`ssc-<patient>`).
///
/// The history is the union of the instance histories of the type's resources at the caller's
/// sites, newest first: each stored version (009) of a source row is a version of every resource
/// of the type that version produces (the same ids and mapping `GET Type/id/_history` uses), a
/// deleted row version a DELETE of each resource it held. The calcinosis Condition is derived
/// from several records and has no versions (as in its instance history): it is not listed.
///
/// Paging counts resources, not rows (`_count` entries a page, `_offset` entries skipped), so
/// rows are read in order until the page is full. `Bundle.total` is left out: it would need every
/// version row of the type read and expanded on each page (R4 makes `total` optional).
enum FHIRSharedRowTypeHistory {
    /// The record kinds whose versions hold the type's resources.
    static let kinds: [FHIRResourceType: [RecordKind]] = [
        .Observation: [.measurements, .labs, .vitals, .patients],
        .Condition: [.infectionEpisodes, .patients],
    ]

    /// The ids of the `type` resources one stored version of a `kind` row is a version of.
    static func resourceIDs(_ type: FHIRResourceType, kind: RecordKind, rowID: String, body: JSONValue) -> [String] {
        switch (type, kind) {
        case (.Observation, .vitals): return ObservationOutbound.vitalsPresent(body).map { ResourceID.vital(rowID, $0) }
        case (.Observation, .patients): return ObservationOutbound.weight(patient: body) == nil ? [] : [ObservationOutbound.weightID(patientID: rowID)]
        case (.Condition, .patients): return ConditionOutbound.ssc(patient: body) == nil ? [] : ["ssc-\(rowID)"]
        default: return [rowID]
        }
    }

    /// The record kinds whose versions hold resources of `type` (any type with type-level history).
    static func recordKinds(of type: FHIRResourceType) -> [RecordKind] {
        kinds[type] ?? FHIRTypeHistory.kinds[type].map { [$0] } ?? []
    }

    /// The record kinds whose versions hold resources of any of `types`, each once, in the order of `types`.
    static func recordKinds(of types: [FHIRResourceType]) -> [RecordKind] {
        var kinds: [RecordKind] = []
        for type in types { for kind in recordKinds(of: type) where !kinds.contains(kind) { kinds.append(kind) } }
        return kinds
    }

    /// The version rows `v` (joined to their patient `p`) of `kinds` at `sites`, recorded at or after `since`.
    static func scope(_ kinds: [RecordKind], sites: [UUID], since: Date?) -> SQLQueryString {
        let scope: SQLQueryString = "v.record_kind IN (\(binds: kinds.map(\.rawValue))) AND p.site_id IN (\(binds: sites))"
        return since.map { scope + " AND v.recorded_at >= \(bind: $0)" } ?? scope
    }

    /// The resources of `types` one stored version of a `kind` row is a version of, in the order of `types`.
    static func resources(_ types: [FHIRResourceType], kind: RecordKind, rowID: String, body: JSONValue) -> [(type: FHIRResourceType, id: String)] {
        types.flatMap { type in
            recordKinds(of: type).contains(kind) ? resourceIDs(type, kind: kind, rowID: rowID, body: body).map { (type, $0) } : []
        }
    }

    /// Rows are read at most this many at a time while a page fills.
    static let rowBatch = 500

    /// The page's entries and, when more follow, where the next page starts.
    static func page(_ type: FHIRResourceType, _ q: FHIRTypeHistory.Query, sites: [UUID], base: String,
                     on db: any Database, today: LocalDate) async throws -> (entries: [JSONValue], next: HistoryCursor?) {
        try await page([type], q, sites: sites, base: base, on: db, today: today)
    }

    /// The page of the union of the histories of `types` (the system history, `FHIRSystemHistory`,
    /// is that of every type with type-level history; a type history is that of one type). Starts
    /// at `q.cursor` (after the resources of its row the previous page listed), then skips
    /// `q.offset` resources.
    static func page(_ types: [FHIRResourceType], _ q: FHIRTypeHistory.Query, sites: [UUID], base: String,
                     on db: any Database, today: LocalDate) async throws -> (entries: [JSONValue], next: HistoryCursor?) {
        let kinds = recordKinds(of: types)
        guard !kinds.isEmpty, !sites.isEmpty else { return ([], nil) }
        let sql = db as! any SQLDatabase
        var conditions = scope(kinds, sites: sites, since: q.since)
        if let cursor = q.cursor {
            guard try await cursor.exists(on: sql) else {
                throw FHIRError(.badRequest, .value, "_cursor \(cursor.text) names no stored version; start the history again without _cursor", at: "_cursor")
            }
            conditions = conditions + " AND " + cursor.condition
        }
        // A page usually needs about `_count` rows past the offset: read no more than that at first,
        // then (rows that hold none of the types' resources) in steps of `rowBatch`.
        var batch = min(rowBatch, max(q.count, 1) + q.offset + 1)
        var skipped = 0, rowOffset = 0
        var wanted: [(version: ResourceHistory.Version, kind: RecordKind, type: FHIRResourceType, id: String, position: HistoryCursor)] = []
        var next: HistoryCursor?
        reading: while true {
            // SQLite: CROSS JOIN keeps the version rows outermost, so the pages are read in order
            // from the time index (014) and the read stops at the page (as FHIRSearch.select does).
            let select: SQLQueryString = "SELECT v.record_kind, v.record_id, v.version, v.patient_id, v.deleted, v.recorded_at, v.body "
                + "FROM resource_versions v " + SQLQueryString(sql.dialect.name == "sqlite" ? "CROSS JOIN" : "JOIN")
                + " patients p ON p.id = v.patient_id WHERE " + conditions
                + " ORDER BY v.recorded_at DESC, v.record_kind, v.record_id, v.version DESC"
                + " LIMIT \(unsafeRaw: String(batch)) OFFSET \(unsafeRaw: String(rowOffset))"
            let rows = try await sql.raw(select).all()
            rowOffset += rows.count
            for row in rows {
                let stored = try ResourceHistory.decode(row)
                guard let kind = RecordKind(rawValue: stored.kind) else { continue }
                // The cursor's row: the previous page listed its first `listed` resources.
                let first = q.cursor.map { $0.names(stored) ? $0.listed : 0 } ?? 0
                for (n, (type, id)) in resources(types, kind: kind, rowID: stored.recordID.lowercasedString, body: stored.body).enumerated() where n >= first {
                    if skipped < q.offset { skipped += 1; continue }
                    if wanted.count == q.count {
                        next = q.count > 0 ? wanted.last?.position : nil
                        break reading
                    }
                    wanted.append((stored, kind, type, id, HistoryCursor(kind: stored.kind, recordID: stored.recordID, version: stored.version, listed: n + 1)))
                }
            }
            if rows.count < batch { break }
            batch = rowBatch
        }
        var entries: [JSONValue] = []
        for (stored, kind, type, id, _) in wanted {
            if let entry = try await FHIRReadController.historyEntry(type, id, kind: kind, version: stored.version, deleted: stored.deleted,
                                                                     recordedAt: stored.recordedAt, body: stored.body, base: base, on: db, today: today) {
                entries.append(entry)
            }
        }
        return (entries, next)
    }
}
