import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation
import SQLKit
import Vapor

/// Type-level history (`GET /fhir/{type}/_history`, FHIR R4 http.html#history): every stored
/// version (009 `resource_versions`) of the type's records at the caller's sites, newest first,
/// paged with `_count` and the `next` link's `_cursor` (`HistoryCursor`; `_offset` is still taken),
/// limited with `_since`.
///
/// Pages are read by `FHIRSharedRowTypeHistory` for every type; types whose records are one
/// resource each also get a `total`. Observation (a vitals row is up to five Observations) and
/// Condition (the SSc Condition is a part of the patient row) have none. Flags have no versions.
enum FHIRTypeHistory {
    /// The record kind (009 `record_kind`) behind each type with type-level history.
    static let kinds: [FHIRResourceType: RecordKind] = [
        .Patient: .patients, .BodyStructure: .lesions, .MedicationStatement: .medications, .Procedure: .procedures,
        .Encounter: .visits, .ImagingStudy: .imagingStudies,
    ]

    struct Query: Sendable {
        var count = FHIRSearch.defaultCount
        var offset = 0
        var since: Date?
        var sinceText: String?
        /// Where the page starts (a `next` link's `_cursor`).
        var cursor: HistoryCursor?
    }

    static func parse(_ pairs: [(String, String)], scope: String = "type _history") throws -> Query {
        var q = Query()
        var issues: [OperationOutcome.Issue] = []
        func fail(_ name: String, _ message: String, _ code: OperationOutcome.IssueType = .value) {
            issues.append(OperationOutcome.Issue(.error, code, message, at: [name]))
        }
        for (name, value) in pairs {
            switch name {
            case "_format", "_pretty":
                if let problem = FHIRSearch.formatProblem(name, value) { fail(name, problem) }
            case "_count", "_offset":
                let (n, problem) = FHIRSearch.pageNumber(name, value)
                guard let n else { fail(name, problem); continue }
                if name == "_count" { q.count = n } else { q.offset = n }
            case "_cursor":
                guard let cursor = HistoryCursor(value) else {
                    fail(name, "_cursor must be one a history next link carried (<kind>~<id>~<version>~<listed>), got \(value)"); continue
                }
                q.cursor = cursor
            case "_since":
                guard let date = instant(value) else {
                    fail(name, "_since must be an instant with a time zone such as 2026-11-24T10:00:00Z (or a date, taken at 00:00 UTC), got \(value)"); continue
                }
                q.since = date
                q.sinceText = value
            default:
                fail(name, "parameter \(name) is not supported on \(scope) (supported: _count, _since, _format, _pretty, and the next link's _cursor)", .notSupported)
            }
        }
        if !issues.isEmpty { throw FHIRError(.badRequest, OperationOutcome(issues)) }
        return q
    }

    /// An R4 instant (`2026-11-24T10:00:00Z`, `...00.123+01:00`), or a date at 00:00 UTC.
    static func instant(_ text: String) -> Date? {
        if text.count == 10, let day = LocalDate(iso: text) { return Date(timeIntervalSince1970: Double(day.daysSinceEpoch) * 86_400) }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let d = plain.date(from: text) { return d }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    /// `_since` of `$export` and `$everything`: an instant with its time zone (unlike a history's
    /// `_since`, not a date alone).
    static func sinceInstant(_ value: String) -> Date? { value.count > 10 ? instant(value) : nil }

    static func sinceProblem(_ value: String) -> String {
        "_since must be an instant with a time zone such as 2026-11-24T10:00:00Z, got \(value)"
    }

    @Sendable static func history(req: Request) async throws -> Response {
        let context = FHIRReadContext(req, principal: try await FHIRReadController.reader(req))
        return try await history(try FHIRReadController.resourceType(req), pairs: FHIRSearch.pairs(req), query: req.url.query ?? "", context).response(req)
    }

    static func history(_ type: FHIRResourceType, pairs: [(String, String)], query: String, _ context: FHIRReadContext) async throws -> FHIRReadAnswer {
        guard kinds[type] != nil || FHIRSharedRowTypeHistory.kinds[type] != nil else {
            throw FHIRError(.badRequest, .notSupported, "\(type.rawValue)/_history is not supported: Flags are computed on read and have no versions", at: "type")
        }
        let q = try parse(pairs)
        let sites = Array(context.principal.siteIDs)
        let today = context.today, db = context.db
        let base = context.base
        var total: Int?
        if let kind = kinds[type], !sites.isEmpty {
            // One resource a row: the total is the rows'.
            let conditions = FHIRSharedRowTypeHistory.scope([kind], sites: sites, since: q.since)
            let countRow = try await (db as! any SQLDatabase).raw("SELECT COUNT(*) AS n FROM resource_versions v JOIN patients p ON p.id = v.patient_id WHERE " + conditions).first()
            total = try countRow?.decode(column: "n", as: Int.self) ?? 0
        } else if kinds[type] != nil {
            total = 0
        }
        let (entries, next) = try await FHIRSharedRowTypeHistory.page(type, q, sites: sites, base: base, on: db, today: today)
        let links = Self.links("\(base)/\(type.rawValue)/_history", q, next: next)
        let audit = AuditEvent(action: "read", resourceType: "fhir/\(type.rawValue)", resourceID: "_history",
                               detail: "query \(query); \(total.map(String.init) ?? "(not counted)") version(s); returned \(entries.count)")
        return FHIRReadAnswer(resource: FHIRBundle.object([
            ("resourceType", "Bundle"), ("type", "history"), ("total", total.map { .number(Double($0)) }),
            ("link", links), ("entry", entries.isEmpty ? nil : .array(entries)),
        ]), audit: [audit])
    }

    /// A history page's `self` link and, when more entries follow, its `next` link (`_cursor` at
    /// where this page stopped).
    static func links(_ url: String, _ q: Query, next: HistoryCursor?) -> JSONValue {
        func link(cursor: HistoryCursor?, offset: Int) -> String {
            var items: [String] = []
            if let since = q.sinceText { items.append("_since=\(FHIRSearch.encode(since))") }
            items.append("_count=\(q.count)")
            if let cursor { items.append("_cursor=\(FHIRSearch.encode(cursor.text))") }
            if offset > 0 { items.append("_offset=\(offset)") }
            return url + "?" + items.joined(separator: "&")
        }
        var links = [FHIRBundle.object([("relation", "self"), ("url", .string(link(cursor: q.cursor, offset: q.offset)))])]
        if let next {
            links.append(FHIRBundle.object([("relation", "next"), ("url", .string(link(cursor: next, offset: 0)))]))
        }
        return .array(links)
    }
}
