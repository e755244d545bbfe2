import CalciTrackCore
import CalciTrackFHIR
import Fluent
import SQLKit
import Vapor

/// Streams the registry (or one patient) as FHIR resources, a batch of patients at a time, so
/// memory stays bounded by the batch whatever the registry's size (`calcitrack export`). Each
/// batch is the same SQL the search API runs, filtered to the batch's patients. Flags (computed
/// alerts) are not exported: they are not registry data and a re-import could not store them.
public enum FHIRExport {
    public static let types: [FHIRResourceType] = FHIRResourceType.allCases.filter { $0 != .Flag }

    public struct Summary: Sendable {
        public var patients = 0
        public var resources: [String: Int] = [:]
    }

    /// Calls `emit` with each batch's resources by type, in `types` order (statuses judged on
    /// `today`, default today UTC). A patient id that does not exist is an error. `siteIDs`
    /// limits the export to those sites' patients (a clinician's `$export`; nil: every site).
    public static func run(on db: any Database, patient: UUID?, batchSize: Int = 200, today: LocalDate? = nil,
                           emit: ([(FHIRResourceType, [JSONValue])]) async throws -> Void) async throws -> Summary {
        try await run(on: db, patient: patient, siteCodes: nil, types: nil, since: nil, batchSize: batchSize, today: today, emit: emit)
    }

    /// `calcitrack export` with its filters: the patients of these sites (codes; nil: every site),
    /// these types (nil: every exported type), and resources changed since an instant (as `$export`'s
    /// `_since`). An unknown site code or patient id is an error.
    public static func run(on db: any Database, patient: UUID?, siteCodes: [String]?, types requested: [FHIRResourceType]?, since: Date?,
                           batchSize: Int = 200, today: LocalDate? = nil,
                           emit: ([(FHIRResourceType, [JSONValue])]) async throws -> Void) async throws -> Summary {
        if let patient {
            guard try await Patient.find(patient, on: db) != nil else { throw APIError.notFound("patient \(patient.lowercasedString)") }
        }
        var siteIDs: Set<UUID>?
        if let siteCodes {
            let sites = try await Site.query(on: db).filter(\.$code ~~ siteCodes).all()
            if let unknown = siteCodes.first(where: { code in !sites.contains { $0.code == code } }) { throw APIError.notFound("site \(unknown)") }
            siteIDs = Set(sites.compactMap(\.id))
        }
        let chosen = requested.map { list in types.filter(list.contains) } ?? types
        return try await run(on: db, patients: patient.map { [$0] }, siteIDs: siteIDs, types: chosen, since: since, batchSize: batchSize, today: today, emit: emit)
    }

    /// `patients`: these patients only (the caller checked they exist and may be read), else
    /// every patient of `siteIDs`. `filters` (`$export`'s `_typeFilter`): a type listed there
    /// is limited to the resources that match at least one of its searches.
    static func run(on db: any Database, patients: [UUID]?, siteIDs: Set<UUID>?, types: [FHIRResourceType],
                    filters: [FHIRResourceType: [FHIRSearch.Query]] = [:], since: Date? = nil, batchSize: Int = 200, today: LocalDate? = nil,
                    emit: ([(FHIRResourceType, [JSONValue])]) async throws -> Void) async throws -> Summary {
        var summary = Summary()
        let today = today ?? LocalDate.utc(Date())
        let sql = db as! any SQLDatabase
        var after: UUID?
        if let siteIDs, siteIDs.isEmpty { return summary }
        let siteFilter: SQLQueryString = siteIDs.map { " AND site_id IN (\(binds: Array($0)))" } ?? ""
        let named = patients.map { $0.chunked(batchSize).map(Array.init) }
        var batchIndex = 0
        while true {
            let ids: [UUID]
            if let named {
                guard batchIndex < named.count else { break }
                ids = named[batchIndex]
                batchIndex += 1
            } else {
                var page: SQLQueryString = "SELECT id FROM patients WHERE deleted_at IS NULL"
                page = page + siteFilter
                if let after { page = page + " AND id > \(bind: after)" }
                page = page + " ORDER BY id LIMIT \(literal: batchSize)"
                ids = try await sql.raw(page).all().map { try $0.decode(column: "id", as: UUID.self) }
            }
            if ids.isEmpty { break }
            var batch: [(FHIRResourceType, [JSONValue])] = []
            for type in types {
                let rows = try await Self.rows(type, patients: ids, filters: filters[type], siteIDs: siteIDs, today: today, on: db)
                var resources = try await FHIRSearch.resources(type, rows, on: db, today: today)
                if let since { resources = resources.filter { changed($0, since: since) } }
                summary.resources[type.rawValue, default: 0] += resources.count
                batch.append((type, resources))
            }
            try await emit(batch)
            summary.patients += ids.count
            after = ids.last
            if ids.count < batchSize && named == nil { break }
        }
        return summary
    }

    /// `_since`: changed at or after it (Bulk Data: "resources that have been modified after");
    /// a resource without `meta.lastUpdated` (none the registry maps today) is kept rather than lost.
    /// `lastUpdated` is in whole seconds while `_since` (a previous export's transaction time) has
    /// milliseconds, so the comparison is at the second: a resource changed later in the second of
    /// `_since` was otherwise missed by an incremental export, while one changed earlier in that
    /// second is sent again, which a client applies idempotently.
    static func changed(_ resource: JSONValue, since: Date) -> Bool {
        guard case .string(let text)? = resource["meta"]?["lastUpdated"], let updated = FHIRDates.instant(text) else { return true }
        return updated >= Date(timeIntervalSince1970: since.timeIntervalSince1970.rounded(.down))
    }

    /// The rows of one type for a batch of patients: every row, or with filters the rows that
    /// match any of them (each filter is the search API's SQL plus the batch's patients), each once.
    static func rows(_ type: FHIRResourceType, patients ids: [UUID], filters: [FHIRSearch.Query]?, siteIDs: Set<UUID>?,
                     today: LocalDate, on db: any Database) async throws -> [FHIRSearch.Row] {
        guard let filters else {
            var q = FHIRSearch.Query()
            q.patients = [ids]
            return try await FHIRSearch.rows(type, q, siteIDs: siteIDs.map(Array.init), on: db, page: false).rows
        }
        var seen = Set<String>()
        var union: [FHIRSearch.Row] = []
        for filter in filters {
            var q = filter
            q.patients.append(ids)
            q.statusDay = today   // a `status` filter is judged on the day the export renders
            for row in try await FHIRSearch.rows(type, q, siteIDs: siteIDs.map(Array.init), on: db, page: false).rows
            where seen.insert("\(row.source)/\(row.rowID.uuidString)").inserted {
                union.append(row)
            }
        }
        return union
    }

    /// A transaction Bundle whose entries PUT each resource at its id, so importing it twice
    /// leaves the registry as importing it once. `meta.versionId` and `meta.lastUpdated` are left
    /// out: the receiving server assigns them, and CalciTrack's import reads a versionId as a
    /// version condition (If-Match), which would refuse the PUT into a registry that lacks it.
    public static func transactionBundle(_ resources: [JSONValue]) -> JSONValue {
        .object(JSONObject([
            ("resourceType", "Bundle"), ("type", "transaction"),
            ("entry", .array(resources.map { resource in
                var r = resource
                if case .object(var object) = r, case .object(var meta)? = object["meta"] {
                    meta["versionId"] = nil
                    meta["lastUpdated"] = nil
                    object["meta"] = meta.entries.isEmpty ? nil : .object(meta)
                    r = .object(object)
                }
                let type = r["resourceType"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? ""
                let id = r["id"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? ""
                return .object(JSONObject([
                    ("fullUrl", .string("\(type)/\(id)")), ("resource", r),
                    ("request", .object(JSONObject([("method", "PUT"), ("url", .string("\(type)/\(id)"))]))),
                ]))
            })),
        ]))
    }
}
