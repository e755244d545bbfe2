import CalciTrackCore
import Foundation

extension OpenAPIDocument {
    // MARK: - Paths

    /// Paths in order, each with its operations.
    struct PathTable {
        private var order: [String] = []
        private var operations: [String: [(String, JSONValue)]] = [:]

        mutating func add(_ method: String, _ path: String, _ operation: JSONValue) {
            if operations[path] == nil { order.append(path); operations[path] = [] }
            operations[path]!.append((method, operation))
        }

        var json: JSONValue {
            .object(JSONObject(order.map { path in
                let ops = operations[path]!
                let hasID = path.contains("{id}")
                return (path, .object(JSONObject((hasID ? [("parameters", .array([Param.id]))] : []) + ops)))
            }))
        }
    }

    enum Param {
        static let id = S.obj([("$ref", "#/components/parameters/Id")])
        static let ifMatch = S.obj([("$ref", "#/components/parameters/IfMatch")])
        static let asOf = S.obj([("$ref", "#/components/parameters/AsOf")])
        static let format = S.obj([("$ref", "#/components/parameters/Format")])

        static func query(_ name: String, _ schema: JSONValue, _ description: String) -> JSONValue {
            S.obj([("name", .string(name)), ("in", "query"), ("required", false), ("schema", schema), ("description", .string(description))])
        }
    }

    enum Resp {
        static func ref(_ name: String) -> JSONValue { S.obj([("$ref", .string("#/components/responses/\(name)"))]) }
        static let e401 = ("401", ref("Unauthorized"))
        static let e403 = ("403", ref("Forbidden"))
        static let e404 = ("404", ref("NotFound"))
        static let e409 = ("409", ref("Conflict"))
        static let e412 = ("412", ref("PreconditionFailed"))
        static let e422 = ("422", ref("ValidationFailed"))
        static let e428 = ("428", ref("PreconditionRequired"))
        static let e429 = ("429", ref("TooManyRequests"))

        static func json(_ description: String, _ schema: JSONValue, headers: [(String, JSONValue)] = [], links: [(String, JSONValue)] = []) -> JSONValue {
            S.obj([("description", .string(description)),
                   ("headers", headers.isEmpty ? nil : .object(JSONObject(headers))),
                   ("content", S.obj([("application/json", S.obj([("schema", schema)]))])),
                   ("links", links.isEmpty ? nil : .object(JSONObject(links)))])
        }

        static func text(_ description: String, _ mediaType: String = "text/plain") -> JSONValue {
            S.obj([("description", .string(description)), ("content", S.obj([(mediaType, S.obj([("schema", S.string())]))]))])
        }

        static let noContent = S.obj([("description", "done; no body")])
        static let etag: (String, JSONValue) = ("ETag", S.obj([("$ref", "#/components/headers/ETag")]))
        static let location: (String, JSONValue) = ("Location", S.obj([("$ref", "#/components/headers/Location")]))

        /// An OpenAPI link to an operation on a record whose id (and ETag) this response gives.
        static func link(_ operationId: String, id: String = "$response.body#/id", withVersion: Bool = false) -> (String, JSONValue) {
            var parameters: [(String, JSONValue)] = [("path.id", .string(id))]
            if withVersion { parameters.append(("header.If-Match", "$response.header.ETag")) }
            return (operationId, S.obj([("operationId", .string(operationId)), ("parameters", .object(JSONObject(parameters)))]))
        }

    }

    static func operation(_ id: String, _ tag: String, _ summary: String, description: String? = nil, parameters: [JSONValue] = [],
                           body: JSONValue? = nil, bodyMediaTypes: [String] = ["application/json"], responses: [(String, JSONValue)],
                           security: JSONValue? = nil) -> JSONValue {
        S.obj([
            ("operationId", .string(id)), ("tags", .array([.string(tag)])), ("summary", .string(summary)),
            ("description", description.map { .string($0) }),
            ("parameters", parameters.isEmpty ? nil : .array(parameters)),
            ("requestBody", body.map { schema in
                S.obj([("required", true), ("content", .object(JSONObject(bodyMediaTypes.map { ($0, S.obj([("schema", schema)])) })))])
            }),
            ("responses", .object(JSONObject(responses))),
            ("security", security),
        ])
    }

    /// No authentication needed.
    static let open: JSONValue = .array([])

    enum Routes {
        static func system(_ paths: inout PathTable) {
            paths.add("get", "/health", operation("getHealth", "system", "Liveness and database check", responses: [
                ("200", Resp.json("the server and its database answer", S.ref("Health"))),
                ("503", Resp.json("the database does not answer", S.ref("Health"))),
            ], security: open))
            paths.add("get", "/metrics", operation("getMetrics", "system", "Prometheus metrics (text exposition format 0.0.4)", responses: [
                ("200", Resp.text("request counters and timers")),
            ], security: open))
            paths.add("get", "/openapi.json", operation("getOpenAPI", "system", "This document", responses: [
                ("200", Resp.json("the OpenAPI 3.1 document", S.obj([("type", "object")]))),
            ], security: open))
        }

        static func auth(_ paths: inout PathTable) {
            paths.add("post", "/api/v1/auth/login", operation("login", "auth", "Sign in (web UI): starts a cookie session and returns its CSRF token",
                                                              description: "A failed attempt is audited. After 5 failed attempts for a username, or 20 from an address, in 15 minutes, attempts are refused with 429 and Retry-After (the password is not checked) until the oldest failure is 15 minutes old; a success clears the username's count.", body: S.ref("Login"),
                                                              bodyMediaTypes: ["application/json", "application/x-www-form-urlencoded"], responses: [
                ("200", Resp.json("signed in; the session cookie is set", S.ref("LoginResult"))), Resp.e401, Resp.e403, Resp.e422, Resp.e429,
            ], security: open))
            paths.add("post", "/api/v1/auth/logout", operation("logout", "auth", "Sign out: ends the session (any caller)",
                                                               responses: [("204", Resp.noContent), Resp.e403],
                                                               security: .array([S.obj([]), S.obj([("bearerAuth", .array([]))]), S.obj([("cookieSession", .array([]))])])))
            paths.add("get", "/api/v1/auth/me", operation("getMe", "auth", "Who am I: role, sites (and the CSRF token of a cookie session)",
                                                          responses: [("200", Resp.json("the signed-in user", S.ref("Me"))), Resp.e401]))
        }

        static func admin(_ paths: inout PathTable) {
            paths.add("get", "/api/v1/sites", operation("listSites", "admin", "List sites (every signed-in user)",
                                                        responses: [("200", Resp.json("all sites by code", S.ref("SiteList"))), Resp.e401]))
            paths.add("post", "/api/v1/sites", operation("createSite", "admin", "Create a site (admin)", body: S.ref("SiteInput"), responses: [
                ("201", Resp.json("created", S.ref("Site"))), Resp.e401, Resp.e403, Resp.e422,
            ]))
            paths.add("get", "/api/v1/users", operation("listUsers", "admin", "List users (admin)", responses: [
                ("200", Resp.json("all users by name", S.ref("UserList"))), Resp.e401, Resp.e403,
            ]))
            paths.add("get", "/api/v1/audit", operation("listAudit", "admin", "Audit log, newest first (admin)", parameters: [
                Param.query("limit", S.integer(minimum: 1, maximum: 1000), "how many entries (default 100)"),
                Param.query("patientId", S.string(), "only entries about this patient (id)"),
                Param.query("actor", S.string(), "only entries by this username"),
            ], responses: [("200", Resp.json("entries", S.ref("AuditList"))), Resp.e401, Resp.e403, Resp.e422]))
            paths.add("get", "/api/v1/audit/verify", operation("verifyAudit", "admin", "Verify the audit log's hash chain (admin)", responses: [
                ("200", Resp.json("the result; intact false names the first broken entry", S.ref("AuditVerification"))), Resp.e401, Resp.e403,
            ]))
        }

        /// Links from a patient id to everything under it.
        static func patientLinks(id: String, withVersion: Bool) -> [(String, JSONValue)] {
            var links = [Resp.link("getPatient", id: id), Resp.link("getPatientAssessment", id: id), Resp.link("getPatientCase", id: id)]
            if withVersion { links += [Resp.link("updatePatient", id: id, withVersion: true), Resp.link("deletePatient", id: id, withVersion: true)] }
            for record in RecordDocs.all where record.info.parent == .patient {
                links += [Resp.link("list\(record.plural)", id: id), Resp.link("create\(record.schemaName)", id: id)]
            }
            return links
        }

        static func patients(_ paths: inout PathTable) {
            let list = operation("listPatients", "patients", "Search and worklist (clinicians: their sites; researchers: all, de-identified)", parameters: [
                Param.query("q", S.string(), "name or MRN prefix (clinicians only; a researcher's non-empty q is a 422)"),
                Param.query("site", S.string(format: "uuid"), "only this site"),
                Param.query("activeInfection", S.enumeration(["true", "false"]), "with (or without) an active infection episode"),
                Param.query("worsening", S.enumeration(["true", "false"]), "with (or without) a worsening lesion"),
                Param.query("sepsisScreen", S.enumeration(["true", "false"]), "with (or without) a positive sepsis screen today (SIRS or qSOFA, with an infection)"),
                Param.query("highAlert", S.enumeration(["true", "false"]), "with (or without) a high-severity medication-safety alert today"),
                Param.query("followUp", S.enumeration(PatientController.followUpFilters), "follow-up status"),
                Param.query("bodySite", S.vocabulary(BodySite.self), "with a lesion at this body site"),
                Param.query("sort", S.enumeration(PatientController.sortOrders),
                            "default: with followUp=lost, lastContact (longest lost first); with another followUp filter except no-visits, nextDue (most overdue first); otherwise name"),
                Param.query("limit", S.integer(minimum: 1, maximum: 200), "page size (default 50)"),
                Param.query("offset", S.integer(minimum: 0, maximum: 10_000_000), "default 0"),
            ], responses: [
                ("200", Resp.json("a page of patients", S.ref("PatientPage"), links: patientLinks(id: "$response.body#/items/0/id", withVersion: false))),
                Resp.e401, Resp.e403, Resp.e422,
            ])
            paths.add("get", "/api/v1/patients", list)
            paths.add("post", "/api/v1/patients", operation("createPatient", "patients", "Register a patient (clinicians)", body: S.ref("PatientInput"), responses: [
                ("201", Resp.json("created", S.ref("Patient"), headers: [Resp.etag, Resp.location], links: patientLinks(id: "$response.body#/id", withVersion: true))),
                Resp.e401, Resp.e403, Resp.e422,
            ]))
            paths.add("get", "/api/v1/patients/{id}", operation("getPatient", "patients", "Read a patient", responses: [
                ("200", Resp.json("the patient", S.ref("Patient"), headers: [Resp.etag],
                                  links: [Resp.link("updatePatient", withVersion: true), Resp.link("deletePatient", withVersion: true)])),
                Resp.e401, Resp.e403, Resp.e404,
            ]))
            paths.add("put", "/api/v1/patients/{id}", operation("updatePatient", "patients", "Replace a patient (clinicians of the site)",
                                                                parameters: [Param.ifMatch], body: S.ref("PatientInput"), responses: [
                ("200", Resp.json("updated", S.ref("Patient"), headers: [Resp.etag])),
                Resp.e401, Resp.e403, Resp.e404, Resp.e412, Resp.e422, Resp.e428,
            ]))
            paths.add("delete", "/api/v1/patients/{id}", operation("deletePatient", "patients", "Delete a patient (soft: kept, hidden)",
                                                                   parameters: [Param.ifMatch], responses: [
                ("204", Resp.noContent), Resp.e401, Resp.e403, Resp.e404, Resp.e412, Resp.e428,
            ]))
        }

        static func assessment(_ paths: inout PathTable) {
            let assessmentContent = S.obj([("description", "the assessment (JSON, or a text report for format=text)"), ("content", S.obj([
                ("application/json", S.obj([("schema", S.ref("Assessment"))])),
                ("text/plain", S.obj([("schema", S.string())])),
            ]))])
            paths.add("get", "/api/v1/patients/{id}/assessment", operation("getPatientAssessment", "assessment",
                                                                            "Assess a stored patient (audited)", parameters: [Param.asOf, Param.format], responses: [
                ("200", assessmentContent), Resp.e401, Resp.e403, Resp.e404, Resp.e422,
            ]))
            paths.add("get", "/api/v1/patients/{id}/case", operation("getPatientCase", "assessment",
                                                                      "The stored patient as a case (case format v1), as of a date", parameters: [Param.asOf], responses: [
                ("200", Resp.json("the case the assessment is built from", S.ref("Case"))), Resp.e401, Resp.e403, Resp.e404, Resp.e422,
            ]))
            paths.add("post", "/api/v1/assess", operation("assess", "assessment", "Assess any case; nothing is stored or audited",
                                                          description: "The body may be up to 4 MB. Unknown keys are reported in inputWarnings, not rejected.",
                                                          parameters: [Param.asOf, Param.format], body: S.ref("Case"), responses: [
                ("200", assessmentContent), Resp.e401, Resp.e403, Resp.e422,
            ]))
        }

        static func records(_ r: RecordDoc, _ paths: inout PathTable) {
            let kind = r.info.path
            let collection = "/api/v1/\(r.parentSegment)/{id}/\(kind)"
            let item = "/api/v1/\(kind)/{id}"
            var createLinks = [Resp.link("get\(r.schemaName)"), Resp.link("update\(r.schemaName)", withVersion: true),
                               Resp.link("delete\(r.schemaName)", withVersion: true)]
            for child in RecordDocs.all where child.parentSegment == kind {
                createLinks += [Resp.link("list\(child.plural)"), Resp.link("create\(child.schemaName)")]
            }
            let first = "$response.body#/items/0"
            // Only the read: a list item's `version` is a number, and a link cannot make it the
            // If-Match header's string (clients such as schemathesis then fail to send the request);
            // the read's response links update and delete with its ETag.
            let listLinks: [(String, JSONValue)] = [
                Resp.link("get\(r.schemaName)", id: first + "/id"),
            ]
            paths.add("get", collection, operation("list\(r.plural)", "records", "List a \(r.parentName)'s \(r.info.name) records", responses: [
                ("200", Resp.json("oldest first", S.ref(r.schemaName + "List"), links: listLinks)), Resp.e401, Resp.e403, Resp.e404,
            ]))
            paths.add("post", collection, operation("create\(r.schemaName)", "records", "Add a \(r.info.name) to a \(r.parentName)",
                                                    body: S.ref(r.schemaName + "Input"), responses: [
                ("201", Resp.json("created (version 1)", S.ref(r.schemaName), headers: [Resp.etag, Resp.location], links: createLinks)),
                Resp.e401, Resp.e403, Resp.e404, Resp.e422,
            ]))
            paths.add("get", item, operation("get\(r.schemaName)", "records", "Read a \(r.info.name)", responses: [
                ("200", Resp.json("the record", S.ref(r.schemaName), headers: [Resp.etag],
                                  links: [Resp.link("update\(r.schemaName)", withVersion: true), Resp.link("delete\(r.schemaName)", withVersion: true)])),
                Resp.e401, Resp.e403, Resp.e404,
            ]))
            paths.add("put", item, operation("update\(r.schemaName)", "records", "Replace a \(r.info.name)", parameters: [Param.ifMatch],
                                             body: S.ref(r.schemaName + "Input"), responses: [
                ("200", Resp.json("updated", S.ref(r.schemaName), headers: [Resp.etag])),
                Resp.e401, Resp.e403, Resp.e404, Resp.e412, Resp.e422, Resp.e428,
            ]))
            paths.add("delete", item, operation("delete\(r.schemaName)", "records", "Delete a \(r.info.name) (soft: kept for the audit trail)",
                                                parameters: [Param.ifMatch], responses: [
                ("204", Resp.noContent), Resp.e401, Resp.e403, Resp.e404] + (r.conflictOnDelete ? [Resp.e409] : []) + [Resp.e412, Resp.e428,
            ]))
        }
    }

    enum Text {
        static let info = """
            The CalciTrack registry (patients and their clinical records) and the decision-support engine.

            Authentication: a bearer token (`calcitrack token issue USER`), or the cookie session of \
            POST /api/v1/auth/login, which must send its CSRF token in X-CSRF-Token on POST, PUT and DELETE. \
            Roles: clinicians read and write the patients of their sites; researchers read every patient \
            de-identified (no names, MRN, notes or authors; dates shifted by a per-patient offset); admins \
            manage sites and users and read the audit log, and see no patient data.

            Writes: PUT replaces a whole record and DELETE removes it; both need If-Match with the version \
            from the record's ETag (428 without it, 412 when stale). Every write is one transaction with its \
            audit entry.

            Errors: validation failures answer 422 with {"errors": [{"field", "value", "message"}]} listing \
            every problem; every other error answers {"error": {"status", "reason"}}. Dates are YYYY-MM-DD; \
            clinical dates may not lie after today + 1 day.
            """

        static let tags: [(String, String)] = [
            ("system", "health, metrics and this document"),
            ("auth", "sign-in for the web UI"),
            ("admin", "sites, users and the audit log"),
            ("patients", "registry patients and the worklist"),
            ("records", "a patient's clinical records"),
            ("assessment", "the decision-support engine"),
        ]
    }
}
