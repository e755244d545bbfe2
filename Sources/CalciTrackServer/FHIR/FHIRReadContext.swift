import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Vapor

/// Who reads, from which database, as of which day: a plain `GET /fhir/...` route and a GET
/// entry of a batch or transaction Bundle answer a read with the same code from this, so both
/// authorize, map and audit alike. In a transaction `db` is the transaction (its reads see its writes).
struct FHIRReadContext: Sendable {
    let principal: Principal
    let db: any Database
    let today: LocalDate
    /// The server's FHIR base URL (fullUrl and links).
    let base: String
    /// Where searches keep their matches for stable paging; nil inside a transaction Bundle
    /// (its reads see writes that may yet roll back), where searches page by offset.
    let snapshots: SearchSnapshots?

    init(principal: Principal, db: any Database, today: LocalDate, base: String, snapshots: SearchSnapshots? = nil) {
        self.principal = principal; self.db = db; self.today = today; self.base = base; self.snapshots = snapshots
    }

    init(_ req: Request, principal: Principal) {
        self.init(principal: principal, db: req.db, today: req.today, base: FHIRReadController.baseURL(req), snapshots: req.application.searchSnapshots)
    }
}

/// A read's answer: the resource (a Bundle for searches and histories) and the audit entries it owes.
struct FHIRReadAnswer: Sendable {
    var resource: JSONValue
    var audit: [AuditEvent]

    /// As an HTTP response, after its audit entries are committed (a read is audited before it is served).
    func response(_ req: Request) async throws -> Response {
        try await req.recordAudit(audit, actor: try await req.auditActor)
        return resource["resourceType"]?.stringValue == "Bundle" ? FHIRResponse.json(resource) : FHIRResponse.resource(resource)
    }
}
