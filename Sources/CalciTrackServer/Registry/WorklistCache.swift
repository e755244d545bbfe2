import NIOConcurrencyHelpers
import Vapor

/// Worklist answers, valid while `AuditLog.dataVersion` is unchanged: every committed write
/// transaction, from any server process on the same database, moves it on, and the first
/// request that sees the new version starts the cache over. Worklists are read far more often
/// than the registry changes (every clinician of a site opens the same one), and building a page
/// costs 4-18 ms for the count at 100,000 patients and ~6 ms of CPU for the page (BENCHMARKS.md).
/// An answer computed after reading version v is at least as new as v, so it is never older than
/// the version it is filed under. Keys name everything else an answer depends on (who asks, the
/// filters, the day); the audit entry of each request is still written, from the cached ids.
final class WorklistCache: Sendable {
    /// A rendered page: its JSON body, the patient ids it shows (for the audit entry), the total.
    struct Page: Sendable {
        let body: String
        let ids: [String]
        let total: Int
    }

    private struct State {
        var version = -1
        var counts: [String: Int] = [:]
        var pages: [String: Page] = [:]
        var siteCodes: [UUID: String]?
    }
    private let state = NIOLockedValueBox(State())
    /// Distinct counts and pages kept per data version; beyond that they start over (bounded memory:
    /// a page of 50 patients is about 45 KB).
    static let maxCounts = 4096
    static let maxPages = 256

    func count(_ key: String, version: Int) -> Int? {
        state.withLockedValue { $0.version == version ? $0.counts[key] : nil }
    }

    func store(count: Int, for key: String, version: Int) {
        update(version) { s in
            if s.counts.count >= Self.maxCounts { s.counts.removeAll() }
            s.counts[key] = count
        }
    }

    func page(_ key: String, version: Int) -> Page? {
        state.withLockedValue { $0.version == version ? $0.pages[key] : nil }
    }

    func store(page: Page, for key: String, version: Int) {
        update(version) { s in
            if s.pages.count >= Self.maxPages { s.pages.removeAll() }
            s.pages[key] = page
        }
    }

    func siteCodes(version: Int) -> [UUID: String]? {
        state.withLockedValue { $0.version == version ? $0.siteCodes : nil }
    }

    func store(siteCodes: [UUID: String], version: Int) {
        update(version) { $0.siteCodes = siteCodes }
    }

    private func update(_ version: Int, _ change: (inout State) -> Void) {
        state.withLockedValue { s in
            guard s.version <= version else { return }  // a newer version was filed meanwhile
            if s.version < version { s = State(version: version) }
            change(&s)
        }
    }
}

extension Application {
    private struct WorklistCacheKey: StorageKey { typealias Value = WorklistCache }

    /// Set once in `configure`, before the server accepts requests.
    var worklistCache: WorklistCache {
        get { storage[WorklistCacheKey.self]! }
        set { storage[WorklistCacheKey.self] = newValue }
    }
}
