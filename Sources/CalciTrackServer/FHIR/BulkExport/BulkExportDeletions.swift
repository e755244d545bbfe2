import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation
import SQLKit

/// The `deleted` files of a `_since` export (Bulk Data 2.0 export.html, manifest `deleted`): the
/// resources in the export's scope (types, sites, named patients) deleted after `_since`, as
/// transaction Bundles of DELETE entries, so a downstream copy kept in step by `_since` exports
/// removes them too instead of keeping them forever.
///
/// - A deleted record: its deletion version (009) names the resources it held (the same ids the
///   history uses, `FHIRSharedRowTypeHistory.resources`).
/// - A deleted patient: its Patient (and SSc Condition, weight), and every resource of its
///   compartment, whose records stay stored but are no longer served or exported.
/// - Not narrowed by `_typeFilter`: a deleted resource is not searched, so every deletion of a
///   filtered type is listed; a DELETE of a resource the client never received changes nothing.
/// - Bounded by the transaction time: later deletions go to the next `_since` export.
enum BulkExportDeletions {
    /// DELETE entries a Bundle (a line of the file).
    static let bundleSize = 500

    /// `Type/id` of each deleted resource, oldest deletion first, each once.
    static func references(types: [FHIRResourceType], since: Date, until: Date, siteIDs: Set<UUID>, patients: [UUID]?,
                           on db: any Database, today: LocalDate) async throws -> [String] {
        guard !siteIDs.isEmpty else { return [] }
        let sql = db as! any SQLDatabase
        let kinds = FHIRSharedRowTypeHistory.recordKinds(of: types)
        var seen = Set<String>()
        var references: [String] = []
        func add(_ reference: String) { if seen.insert(reference).inserted { references.append(reference) } }
        var scope: SQLQueryString = "p.site_id IN (\(binds: Array(siteIDs)))"
        if let patients { scope = scope + " AND v.patient_id IN (\(binds: patients))" }
        if !kinds.isEmpty {
            let rows = try await sql.raw("SELECT v.record_kind, v.record_id, v.version, v.patient_id, v.deleted, v.recorded_at, v.body "
                + "FROM resource_versions v JOIN patients p ON p.id = v.patient_id WHERE v.deleted = \(bind: true) "
                + "AND v.recorded_at >= \(bind: since) AND v.recorded_at <= \(bind: until) AND v.record_kind IN (\(binds: kinds.map(\.rawValue))) AND " + scope
                + " ORDER BY v.recorded_at, v.record_kind, v.record_id").all()
            for row in rows {
                let stored = try ResourceHistory.decode(row)
                guard let kind = RecordKind(rawValue: stored.kind) else { continue }
                for (type, id) in FHIRSharedRowTypeHistory.resources(types, kind: kind, rowID: stored.recordID.lowercasedString, body: stored.body) {
                    add("\(type.rawValue)/\(id)")
                }
            }
        }
        // Patients deleted since: their compartments (the search SQL over deleted patients), with
        // what is derived from several records (the calcinosis Condition), which has no versions.
        var gone = Patient.query(on: db).withDeleted().filter(\.$deletedAt >= since).filter(\.$deletedAt <= until).filter(\.$site.$id ~~ Array(siteIDs))
        if let patients { gone = gone.filter(\.$id ~~ patients) }
        let deletedPatients = try await gone.sort(\.$deletedAt).all().compactMap(\.id)
        for chunk in deletedPatients.chunked(200) {
            var q = FHIRSearch.Query()
            q.patients = [Array(chunk)]
            q.deletedPatients = true
            for type in types {
                let rows = try await FHIRSearch.rows(type, q, siteIDs: Array(siteIDs), on: db, page: false).rows
                for resource in try await FHIRSearch.resources(type, rows, on: db, today: today) {
                    if let id = resource["id"]?.stringValue { add("\(type.rawValue)/\(id)") }
                }
            }
        }
        return references
    }

    /// The file's lines: transaction Bundles of DELETE entries.
    static func bundles(_ references: [String]) -> [JSONValue] {
        references.chunked(bundleSize).map { chunk in
            .object(JSONObject([
                ("resourceType", "Bundle"), ("type", "transaction"),
                ("entry", .array(chunk.map { .object(JSONObject([("request", .object(JSONObject([("method", "DELETE"), ("url", .string($0))])))])) })),
            ]))
        }
    }
}
