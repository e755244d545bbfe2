import CalciTrackCore
import CalciTrackFHIR
import Foundation
import Vapor

/// System-level history (`GET /fhir/_history`, FHIR R4 http.html#history): every stored version of
/// every resource at the caller's sites, newest first: the union of the type histories
/// (`FHIRTypeHistory`), so a sync client can follow all changes with `_since` instead of asking
/// each type. Same parameters (`_count`, `_offset` through the `next` link, `_since`) and the same
/// entries as the type histories; like the Observation and Condition histories it pages by
/// resources, not rows, and has no `total` (R4 makes it optional). Flags (computed on read) and
/// the calcinosis Condition (derived) have no versions and are not listed.
enum FHIRSystemHistory {
    /// The types whose versions are listed: every type with type-level history, in the order a
    /// version row's resources are listed (a patient row: Patient, its SSc Condition, its weight).
    static let types: [FHIRResourceType] = [
        .Patient, .Condition, .Observation, .BodyStructure, .MedicationStatement, .Procedure, .Encounter, .ImagingStudy,
    ]

    @Sendable static func history(req: Request) async throws -> Response {
        let context = FHIRReadContext(req, principal: try await FHIRReadController.reader(req))
        return try await history(pairs: FHIRSearch.pairs(req), query: req.url.query ?? "", context).response(req)
    }

    static func history(pairs: [(String, String)], query: String, _ context: FHIRReadContext) async throws -> FHIRReadAnswer {
        let q = try FHIRTypeHistory.parse(pairs, scope: "system _history")
        let base = context.base
        let (entries, next) = try await FHIRSharedRowTypeHistory.page(types, q, sites: Array(context.principal.siteIDs), base: base,
                                                                     on: context.db, today: context.today)
        let audit = AuditEvent(action: "read", resourceType: "fhir", resourceID: "_history",
                               detail: "query \(query); returned \(entries.count) version(s)\(next != nil ? ", more follow" : "")")
        return FHIRReadAnswer(resource: FHIRBundle.object([
            ("resourceType", "Bundle"), ("type", "history"),
            ("link", FHIRTypeHistory.links("\(base)/_history", q, next: next)), ("entry", entries.isEmpty ? nil : .array(entries)),
        ]), audit: [audit])
    }
}
