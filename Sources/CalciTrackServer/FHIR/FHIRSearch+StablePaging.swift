import CalciTrackFHIR
import Fluent
import Foundation
import SQLKit

/// The rows of a search's page, kept stable across pages by `SearchSnapshots`.
extension FHIRSearch {
    /// A later page of a kept search (`_page`) is cut from its list and checked against the live
    /// search; a first page with more to come keeps every match (up to `SearchSnapshots.maxRows`)
    /// and is cut from that list. Anything else, and a client paging by its own `_offset`, pages
    /// by offset. `snapshot`: the id the next links carry.
    static func matchRows(_ type: FHIRResourceType, _ q: Query, siteIDs: [UUID], _ context: FHIRReadContext) async throws
        -> (total: Int, rows: [Row], snapshot: String?) {
        let db = context.db, principal = context.principal
        let owner = SearchSnapshots.Owner(username: principal.username, siteIDs: principal.siteIDs,
                                          query: type.rawValue + "?" + q.passthrough.map { "\($0.0)=\($0.1)" }.joined(separator: "&"))
        if let id = q.page, let snapshots = context.snapshots, let kept = snapshots.rows(id, owner: owner) {
            let page = Array(kept.dropFirst(q.offset).prefix(q.count))
            return (kept.count, try await liveRows(type, q, siteIDs: siteIDs, on: db, of: page), id)
        }
        let (total, rows) = try await Self.rows(type, q, siteIDs: siteIDs, on: db, page: true)
        guard let snapshots = context.snapshots, q.offset == 0, q.count > 0, q.count < total, total <= SearchSnapshots.maxRows else {
            return (total, rows, nil)
        }
        let all = try await Self.rows(type, q, siteIDs: siteIDs, on: db, page: false).rows
        return (all.count, Array(all.prefix(q.count)), snapshots.store(all, owner: owner))
    }

    /// Those of `page`'s rows the search still matches (not deleted since, still visible), in their order.
    static func liveRows(_ type: FHIRResourceType, _ q: Query, siteIDs: [UUID]?, on db: any Database, of page: [Row]) async throws -> [Row] {
        let sql = db as! any SQLDatabase
        guard !page.isEmpty, let union = try union(type, q, siteIDs: siteIDs, dialect: sql.dialect.name) else { return [] }
        let binds: [SQLQueryString] = Set(page.map(\.rowID)).map { "\(bind: $0)" }
        let live = try await sql.raw("SELECT src, rid FROM (" + union + ") u WHERE rid IN (" + binds.joined(separator: ", ") + ")").all()
        var still = Set<String>()
        for row in live { still.insert(try row.decode(column: "src", as: String.self) + "|" + (try row.decode(column: "rid", as: UUID.self)).uuidString) }
        return page.filter { still.contains($0.source + "|" + $0.rowID.uuidString) }
    }
}
