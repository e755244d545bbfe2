import Foundation
import SQLKit

/// Where a history page stopped (the `_cursor` of a history's `next` link): the last version row
/// it read, named by its key (kind, record, version), and how many of that row's resources it
/// listed (a vitals row is up to five Observations). The next page starts at that row.
///
/// Why not `_offset`: histories are newest first, so every version written while a client pages
/// shifts an offset and the client sees entries twice; and an offset re-reads every row before
/// it, so walking a large history cost time quadratic in its length. A cursor is neither.
struct HistoryCursor: Sendable, Equatable {
    var kind: String
    var recordID: UUID
    var version: Int
    /// Resources of the row already listed (1 for a row that is one resource).
    var listed: Int

    init(kind: String, recordID: UUID, version: Int, listed: Int) {
        self.kind = kind; self.recordID = recordID; self.version = version; self.listed = listed
    }

    /// `<kind>~<record id>~<version>~<listed>`, as the next link carries it.
    var text: String { "\(kind)~\(recordID.lowercasedString)~\(version)~\(listed)" }

    init?(_ text: String) {
        let parts = text.split(separator: "~", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, !parts[0].isEmpty, parts[0].allSatisfy({ $0.isLetter || $0 == "_" || $0 == "-" }),
              let id = UUID.parse(parts[1]), let version = Int(parts[2]), version >= 1, let listed = Int(parts[3]), listed >= 0 else { return nil }
        self.init(kind: parts[0], recordID: id, version: version, listed: listed)
    }

    func names(_ row: ResourceHistory.Version) -> Bool { row.kind == kind && row.recordID == recordID && row.version == version }

    /// The cursor's row is stored (versions are never deleted, so a cursor a next link carried is).
    func exists(on sql: any SQLDatabase) async throws -> Bool {
        try await sql.raw("SELECT 1 AS one FROM resource_versions WHERE record_kind = \(bind: kind) AND record_id = \(bind: recordID) AND version = \(bind: version)").first() != nil
    }

    /// Rows `v` at or after the cursor's row in history order (recorded_at DESC, record_kind,
    /// record_id, version DESC). The row's time is read from the row itself, so the comparison is
    /// exact whatever precision the database keeps; `recorded_at <=` lets the time index bound it.
    var condition: SQLQueryString {
        let at: SQLQueryString = "(SELECT c.recorded_at FROM resource_versions c WHERE c.record_kind = \(bind: kind) AND c.record_id = \(bind: recordID) AND c.version = \(bind: version))"
        return "v.recorded_at <= " + at + " AND (v.recorded_at < " + at + " OR v.record_kind > \(bind: kind) OR (v.record_kind = \(bind: kind) AND (v.record_id > \(bind: recordID) OR (v.record_id = \(bind: recordID) AND v.version <= \(bind: version)))))"
    }
}
