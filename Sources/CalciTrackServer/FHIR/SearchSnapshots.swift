import Foundation
import NIOConcurrencyHelpers
import Vapor

/// Stable paging of FHIR searches, as HAPI FHIR's search cache gives it: the first page of a
/// search with more than one page keeps the ordered list of its matches (up to `maxRows`) for
/// `lifetime`, under a random id that its `next` link carries (`_page`). Later pages are cut from
/// that list, so records created or deleted while a client pages do not shift the pages (by
/// `_offset` alone a record created before the cursor repeated the last match of the previous
/// page, and a deleted one skipped a match).
///
/// A page read from a snapshot is checked against the live search again (`FHIRSearch.liveRows`):
/// a record deleted since, or no longer matching or visible, is left out of its page. A snapshot
/// belongs to the user, sites and query that made it; for anything else, an expired snapshot, or
/// another server process (it is kept in memory), the link's `_offset` answers as before.
final class SearchSnapshots: Sendable {
    static let maxRows = 10_000
    /// All snapshots together keep at most this many rows (about 60 bytes each: ≈ 30 MB); the
    /// oldest go first.
    static let maxTotalRows = 500_000
    let lifetime: TimeInterval

    struct Owner: Hashable, Sendable {
        var username: String
        var siteIDs: Set<UUID>
        /// The resource type and the search's own parameters (the self link's, without paging).
        var query: String
    }

    private struct Snapshot {
        var owner: Owner
        var rows: [FHIRSearch.Row]
        var created: Date
    }

    private let snapshots = NIOLockedValueBox<[String: Snapshot]>([:])
    private let now: @Sendable () -> Date

    init(lifetime: TimeInterval = 10 * 60, now: @escaping @Sendable () -> Date = { Date() }) {
        self.lifetime = lifetime
        self.now = now
    }

    /// Keeps `rows` and answers the id for the next links.
    func store(_ rows: [FHIRSearch.Row], owner: Owner) -> String {
        let id = UUID().uuidString.lowercased()
        let now = now()
        snapshots.withLockedValue { table in
            table = table.filter { now.timeIntervalSince($0.value.created) < lifetime }
            var kept = table.values.reduce(0) { $0 + $1.rows.count }
            while kept + rows.count > Self.maxTotalRows, let oldest = table.min(by: { $0.value.created < $1.value.created }) {
                table[oldest.key] = nil
                kept -= oldest.value.rows.count
            }
            table[id] = Snapshot(owner: owner, rows: rows, created: now)
        }
        return id
    }

    /// The rows kept under `id`, when they are still kept and `owner` made them.
    func rows(_ id: String, owner: Owner) -> [FHIRSearch.Row]? {
        let now = now()
        return snapshots.withLockedValue { table in
            guard let snapshot = table[id], now.timeIntervalSince(snapshot.created) < lifetime, snapshot.owner == owner else { return nil }
            return snapshot.rows
        }
    }
}

private struct SearchSnapshotsKey: StorageKey { typealias Value = SearchSnapshots }

extension Application {
    /// Set once in `configure`.
    var searchSnapshots: SearchSnapshots {
        get { storage.required(SearchSnapshotsKey.self, "app.searchSnapshots") }
        set { storage[SearchSnapshotsKey.self] = newValue }
    }
}
