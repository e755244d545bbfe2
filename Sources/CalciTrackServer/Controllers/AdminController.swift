import CalciTrackCore
import Fluent
import Vapor

/// Admin-only: sites, users and the audit log. (Users and tokens are also managed by the CLI.)
struct AdminController: Sendable {
    func register(_ api: any RoutesBuilder) {
        api.get("sites", use: listSites)
        api.post("sites", use: createSite)
        api.get("users", use: listUsers)
        api.get("audit", use: listAudit)
        api.get("audit", "verify", use: verifyAudit)
    }

    /// Every signed-in user may list sites (clinicians need the ids to register patients).
    @Sendable func listSites(req: Request) async throws -> Response {
        _ = try await req.principal()
        let sites = try await Site.query(on: req.db).sort(\.$code).all()
        return Response.json(.object(JSONObject([("items", .array(sites.map(Self.json)))])))
    }

    static func json(_ site: Site) -> JSONValue {
        .object(JSONObject([("id", .string(site.id!.lowercasedString)), ("code", .string(site.code)), ("name", .string(site.name))]))
    }

    @Sendable func createSite(req: Request) async throws -> Response {
        _ = try await req.require(.admin)
        let body = try req.jsonObject()
        var v = FieldValidator(body, today: req.today)
        let code = v.string("code", required: true, maxLength: 32)
        let name = v.string("name", required: true, maxLength: 200)
        try v.finish(ignoring: ["id"])
        let site = try await AuditLog.write(on: req.db, actor: try await req.auditActor) { tx in
            if try await Site.query(on: tx).filter(\.$code == code!).count() > 0 {
                throw APIError.invalid("code", .string(code!), "a site with this code exists")
            }
            let site = Site(code: code!, name: name!)
            try await site.create(on: tx)
            return (site, [AuditEvent(action: "create", resourceType: "sites", resourceID: site.id?.lowercasedString, detail: code!)])
        }
        return Response.json(Self.json(site), status: .created)
    }

    @Sendable func listUsers(req: Request) async throws -> Response {
        _ = try await req.require(.admin)
        let users = try await User.query(on: req.db).with(\.$sites).sort(\.$username).all()
        return Response.json(.object(JSONObject([("items", .array(users.map { u in
            .object(JSONObject([("id", .string(u.id!.lowercasedString)), ("username", .string(u.username)), ("role", .string(u.role)),
                                ("active", .bool(u.active)), ("sites", .array(u.sites.map { .string($0.code) }))]))
        }))])))
    }

    @Sendable func listAudit(req: Request) async throws -> Response {
        _ = try await req.require(.admin)
        var limit = 100
        if let text = req.query[String.self, at: "limit"] {
            guard let n = Int(text), (1...1000).contains(n) else {
                throw APIError.invalid("limit", .string(text), "limit must be an integer from 1 to 1000")
            }
            limit = n
        }
        var query = AuditEntry.query(on: req.db)
        if let patient = req.query[String.self, at: "patientId"] { query = query.filter(\.$patientID == patient.lowercased()) }
        if let actor = req.query[String.self, at: "actor"] { query = query.filter(\.$actor == actor) }
        let entries = try await query.sort(\.$id, .descending).limit(limit).all()
        return Response.json(.object(JSONObject([("items", .array(entries.map { e in
            .object(JSONObject(compacting: [("seq", .optional(e.id)), ("at", .string(e.at)), ("actor", .string(e.actor)), ("role", .string(e.role)),
                                            ("action", .string(e.action)), ("resourceType", .string(e.resourceType)), ("resourceId", .optional(e.resourceID)),
                                            ("patientId", .optional(e.patientID)), ("ip", .optional(e.ip)), ("detail", .string(e.detail)), ("hash", .string(e.hash))]))
        }))])))
    }

    @Sendable func verifyAudit(req: Request) async throws -> Response {
        _ = try await req.require(.admin)
        let result = try await AuditLog.verify(on: req.db)
        return Response.json(.object(JSONObject(compacting: [
            ("entries", .number(Double(result.entries))), ("intact", .bool(result.firstBroken == nil)),
            ("firstBrokenSeq", .optional(result.firstBroken?.seq)), ("reason", .optional(result.firstBroken?.reason)),
        ])))
    }
}
