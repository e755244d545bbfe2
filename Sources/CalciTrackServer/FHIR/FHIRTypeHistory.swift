import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation
import SQLKit
import Vapor

/// Type-level history (`GET /fhir/{type}/_history`, FHIR R4 http.html#history): every stored
/// version (009 `resource_versions`) of the type's records at the caller's sites, newest first,
/// paged with `_count` and `_offset` (the `next` link), limited with `_since`.
///
/// Types whose records are one resource each are counted and paged in SQL here; Observation (a
/// vitals row is up to five Observations) and Condition (the SSc Condition is a part of the
/// patient row) are expanded row by row (`FHIRSharedRowTypeHistory`). Flags have no versions.
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
    }

    static func parse(_ pairs: [(String, String)], scope: String = "type _history") throws -> Query {
        var q = Query()
        var issues: [OperationOutcome.Issue] = []
        func fail(_ name: String, _ message: String, _ code: OperationOutcome.IssueType = .value) {
            issues.append(OperationOutcome.Issue(.error, code, message, at: [name]))
        }
        for (name, value) in pairs {
            switch name {
            case "_format":
                if !["json", "application/fhir+json", "application/json"].contains(value) { fail(name, "_format must be json (only JSON is served), got \(value)") }
            case "_count":
                guard let n = Int(value), n >= 0, n <= FHIRSearch.maxCount else { fail(name, "_count must be an integer from 0 to \(FHIRSearch.maxCount), got \(value)"); continue }
                q.count = n
            case "_offset":
                guard let n = Int(value), n >= 0 else { fail(name, "_offset must be a non-negative integer, got \(value)"); continue }
                q.offset = n
            case "_since":
                guard let date = instant(value) else {
                    fail(name, "_since must be an instant with a time zone such as 2026-11-24T10:00:00Z (or a date, taken at 00:00 UTC), got \(value)"); continue
                }
                q.since = date
                q.sinceText = value
            default:
                fail(name, "parameter \(name) is not supported on \(scope) (supported: _count, _since, _format)", .notSupported)
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
        var more = false
        var entries: [JSONValue] = []
        if let kind = kinds[type] {
            var count = 0
            if !sites.isEmpty {
                let sql = db as! any SQLDatabase
                var conditions: SQLQueryString = "v.record_kind = \(bind: kind.rawValue) AND p.site_id IN (\(binds: sites))"
                if let since = q.since { conditions = conditions + " AND v.recorded_at >= \(bind: since)" }
                let from: SQLQueryString = "FROM resource_versions v JOIN patients p ON p.id = v.patient_id WHERE " + conditions
                let countRow = try await sql.raw("SELECT COUNT(*) AS n " + from).first()
                count = try countRow?.decode(column: "n", as: Int.self) ?? 0
                if q.count > 0 {
                    let rows = try await sql.raw("""
                        SELECT v.record_kind, v.record_id, v.version, v.patient_id, v.deleted, v.recorded_at, v.body \(from)
                        ORDER BY v.recorded_at DESC, v.record_id, v.version DESC LIMIT \(unsafeRaw: String(q.count)) OFFSET \(unsafeRaw: String(q.offset))
                        """).all()
                    for row in rows {
                        let stored = try ResourceHistory.decode(row)
                        let id = stored.recordID.lowercasedString
                        if let entry = try await FHIRReadController.historyEntry(type, id, kind: kind, version: stored.version, deleted: stored.deleted,
                                                                                 recordedAt: stored.recordedAt, body: stored.body, base: base, on: db, today: today) {
                            entries.append(entry)
                        }
                    }
                }
            }
            total = count
            more = q.count > 0 && q.offset + q.count < count
        } else {
            // Observation, Condition: several resources per row (FHIRSharedRowTypeHistory); no total.
            (entries, more) = try await FHIRSharedRowTypeHistory.page(type, q, sites: sites, base: base, on: db, today: today)
            more = more && q.count > 0
        }
        let links = Self.links("\(base)/\(type.rawValue)/_history", q, more: more)
        let audit = AuditEvent(action: "read", resourceType: "fhir/\(type.rawValue)", resourceID: "_history",
                               detail: "query \(query); \(total.map(String.init) ?? "(not counted)") version(s); returned \(entries.count)")
        return FHIRReadAnswer(resource: FHIRBundle.object([
            ("resourceType", "Bundle"), ("type", "history"), ("total", total.map { .number(Double($0)) }),
            ("link", links), ("entry", entries.isEmpty ? nil : .array(entries)),
        ]), audit: [audit])
    }

    /// A history page's `self` link and, when `more` entries follow, its `next` link (`_offset` on).
    static func links(_ url: String, _ q: Query, more: Bool) -> JSONValue {
        func link(offset: Int) -> String {
            var items: [String] = []
            if let since = q.sinceText { items.append("_since=\(FHIRSearch.encode(since))") }
            items.append("_count=\(q.count)")
            if offset > 0 { items.append("_offset=\(offset)") }
            return url + "?" + items.joined(separator: "&")
        }
        var links = [FHIRBundle.object([("relation", "self"), ("url", .string(link(offset: q.offset)))])]
        if more {
            links.append(FHIRBundle.object([("relation", "next"), ("url", .string(link(offset: q.offset + q.count)))]))
        }
        return .array(links)
    }
}
