import CalciTrackCore
import Foundation

extension OpenAPIDocument {
    // MARK: - Shared components

    enum Components {
        static let securitySchemes = S.obj([
            ("bearerAuth", S.obj([("type", "http"), ("scheme", "bearer"),
                                  ("description", "a token from `calcitrack token issue USER` (ctk_...)")])),
            ("cookieSession", S.obj([("type", "apiKey"), ("in", "cookie"), ("name", "calcitrack_session"),
                                     ("description", "the session of POST /api/v1/auth/login; unsafe methods must also send X-CSRF-Token (403 otherwise)")])),
        ])

        static let parameters = S.obj([
            ("Id", S.obj([("name", "id"), ("in", "path"), ("required", true), ("schema", S.uuid),
                          ("description", "a record id; an id that is not a UUID names no record (404)")])),
            ("IfMatch", S.obj([("name", "If-Match"), ("in", "header"), ("required", true),
                               ("description", "the version the change is based on: the ETag of the last read, e.g. \"3\". Missing: 428; not a version or stale: 412"),
                               ("schema", S.string(pattern: "^[ \t]*(W/)?\"?[+]?[0-9]*[1-9][0-9]*\"?[ \t]*$"))])),
            ("AsOf", S.obj([("name", "asOf"), ("in", "query"), ("required", false), ("schema", S.date()),
                            ("description", "assess as of this date (default today; for researchers in shifted time)")])),
            ("Format", S.obj([("name", "format"), ("in", "query"), ("required", false),
                              ("schema", S.enumeration(AssessmentFormats.all)), ("description", "json (default) or a plain-text report")])),
        ])

        static let headers = S.obj([
            ("ETag", S.obj([("description", "the record's version, quoted; send it back in If-Match"), ("required", true),
                            ("schema", S.string(pattern: Patterns.etag))])),
            ("Location", S.obj([("description", "the new record's URL"), ("required", true), ("schema", S.string(pattern: "^/api/v1/"))])),
        ])

        static func error(_ description: String, headers: JSONValue? = nil) -> JSONValue {
            S.obj([("description", .string(description)), ("headers", headers),
                   ("content", S.obj([("application/json", S.obj([("schema", S.ref("Error"))]))]))])
        }

        static let responses = S.obj([
            ("Unauthorized", error("not signed in: no valid bearer token or session",
                                   headers: S.obj([("WWW-Authenticate", S.obj([("schema", S.string())]))]))),
            ("Forbidden", error("the role may not do this, the patient is not of your sites, or (cookie sessions) the CSRF token is missing")),
            ("NotFound", error("no such record (or a deleted one), or an id that is not a UUID")),
            ("Conflict", error("the record still has dependent records")),
            ("PreconditionFailed", error("If-Match is not a version, or the record was changed since (reload it)")),
            ("PreconditionRequired", error("If-Match is missing")),
            ("TooManyRequests", error("too many failed sign-ins for this username (5) or from this address (20) in 15 minutes; the password was not checked",
                                      headers: S.obj([("Retry-After", S.obj([("description", "seconds until an attempt is allowed again"), ("required", true),
                                                                              ("schema", S.integer(minimum: 1))]))]))),
            ("ValidationFailed", S.obj([("description", "invalid input: every problem, each naming the field, the value given and what is allowed"),
                                        ("content", S.obj([("application/json", S.obj([("schema", S.ref("ValidationErrors"))]))]))])),
        ])

        static let fieldIssue = S.object([
            ("field", S.string("path of the field, e.g. labs[0].value, or body")),
            ("value", S.obj([("description", "the value given; null when missing")])),
            ("message", S.string()),
        ], required: ["field", "value", "message"])

        static let site = S.object([("id", S.uuid), ("code", S.string()), ("name", S.string())], required: ["id", "code", "name"])

        static let summary = S.object([
            ("followUpStatus", S.enumeration(["lost", "overdue", "due", "ok", "no-visits"])),
            ("lastContact", S.date()), ("nextDue", S.date()),
            ("hasUnhealedLesion", S.boolean()), ("activeInfection", S.boolean()),
            ("infectionSeverity", S.string()), ("worseningLesion", S.boolean()),
            ("bodySites", S.array(S.vocabulary(BodySite.self))),
            ("infectionAtOnset", S.object([("onset", S.date()), ("severity", S.string()), ("sepsisScreen", S.string())], required: ["onset"],
                                          "an open infection episode that today's assessment does not classify: the engine's triage as of its onset")),
            ("sepsisScreenPositive", S.boolean()), ("sepsisScreen", S.string("criteria of today's positive SIRS or qSOFA screen, with an infection")),
            ("highAlert", S.boolean()), ("highAlerts", S.array(S.string("ID: message of a high-severity alert of today's assessment (de-identified reads: the ID only)"))),
        ], required: ["followUpStatus", "hasUnhealedLesion", "activeInfection", "worseningLesion", "sepsisScreenPositive", "highAlert"],
           "computed by the engine at every write; the worklist filters on it")

        static let patientSections: [(String, JSONValue)] = [
            ("ssc", CaseSchemas.ssc(closed: true)),
            ("otherConnectiveTissueDisease", CaseSchemas.otherConnectiveTissueDisease),
            ("history", CaseSchemas.history(closed: true)),
            ("infection", CaseSchemas.infection(closed: true)),
            ("workup", CaseSchemas.workup(closed: true)),
        ]

        static let patientInput = S.object(
            [("siteId", S.string(format: "uuid", "one of your sites (GET /api/v1/sites)")),
             ("mrn", S.nonBlank(maxLength: 64, "unique within the site, deleted patients included")),
             ("familyName", S.nonBlank(maxLength: 200)), ("givenName", S.nonBlank(maxLength: 200))]
                + CaseSchemas.patient(closed: true).map { $0.0 == "sex" ? ($0.0, S.vocabulary(Sex.self)) : $0 }
                + patientSections
                + S.ignored(Array(RecordFields.common) + ["summary", "siteCode"]),
            required: ["siteId", "mrn", "familyName", "givenName", "sex"], closed: true,
            "identity plus the case format's patient fields and sections. Unknown keys (at any level) are rejected (422); null means absent.")

        static let patient = S.object(
            [("id", S.uuid), ("siteId", S.uuid), ("siteCode", S.string()),
             ("mrn", S.string()), ("familyName", S.string()), ("givenName", S.string()),
             ("sex", S.vocabulary(Sex.self)), ("birthDate", S.date()), ("weightKg", S.number()), ("pregnant", S.boolean())]
                + patientSections.map { ($0.0, RecordDocs.strip($0.1)) }
                + [("summary", summary), ("version", S.version), ("createdAt", S.timestamp), ("updatedAt", S.timestamp),
                   ("createdBy", S.string()), ("updatedBy", S.string())],
            required: ["id", "siteId", "sex", "summary", "version"], closed: true,
            "de-identified (researcher) reads leave out mrn, names and authors and shift every date by the patient's offset")

        static let auditEntry = S.object([
            ("seq", S.integer(minimum: 1)), ("at", S.timestamp), ("actor", S.string()), ("role", S.string()), ("action", S.string()),
            ("resourceType", S.string()), ("resourceId", S.string()), ("patientId", S.string()), ("ip", S.string()),
            ("detail", S.string()), ("hash", S.string()),
        ], required: ["seq", "at", "actor", "role", "action", "resourceType", "detail", "hash"])

        static let user = S.object([
            ("id", S.uuid), ("username", S.string()), ("role", S.enumeration(Role.allCases.map(\.rawValue))),
            ("active", S.boolean()), ("sites", S.array(S.string(), "site codes")),
        ], required: ["id", "username", "role", "active", "sites"])

        static var schemas: [(String, JSONValue)] {
            [
                ("Error", S.object([("error", S.object([("status", S.integer(minimum: 400, maximum: 599)), ("reason", S.string())],
                                                       required: ["status", "reason"]))], required: ["error"])),
                ("FieldIssue", fieldIssue),
                ("ValidationErrors", S.object([("errors", S.obj([("type", "array"), ("items", S.ref("FieldIssue")), ("minItems", 1)]))],
                                              required: ["errors"])),
                ("Site", site),
                ("SiteInput", S.object([("code", S.nonBlank(maxLength: 32, "unique")), ("name", S.nonBlank(maxLength: 200)),
                                        ("id", S.obj([("description", "ignored")]))], required: ["code", "name"])),
                ("SiteList", S.object([("items", S.array(S.ref("Site")))], required: ["items"])),
                ("User", user),
                ("UserList", S.object([("items", S.array(S.ref("User")))], required: ["items"])),
                ("AuditEntry", auditEntry),
                ("AuditList", S.object([("items", S.array(S.ref("AuditEntry")))], required: ["items"])),
                ("AuditVerification", S.object([("entries", S.integer(minimum: 0)), ("intact", S.boolean()),
                                                ("firstBrokenSeq", S.integer()), ("reason", S.string())], required: ["entries", "intact"])),
                ("Login", S.object([("username", S.string(minLength: 1)), ("password", S.string(minLength: 1))],
                                   required: ["username", "password"], closed: false)),
                ("LoginResult", S.object([("username", S.string()), ("role", S.enumeration(Role.allCases.map(\.rawValue))),
                                          ("csrfToken", S.string("send it as X-CSRF-Token on unsafe requests of this session"))],
                                         required: ["username", "role", "csrfToken"])),
                ("Me", S.object([("username", S.string()), ("role", S.enumeration(Role.allCases.map(\.rawValue))),
                                 ("sites", S.array(S.ref("Site"))), ("csrfToken", S.string("only for cookie sessions"))],
                                required: ["username", "role", "sites"])),
                ("PatientSummary", summary),
                ("PatientInput", patientInput),
                ("Patient", patient),
                ("PatientPage", S.object([("total", S.integer(minimum: 0)), ("limit", S.integer(minimum: 1, maximum: 200)),
                                          ("offset", S.integer(minimum: 0)), ("items", S.array(S.ref("Patient")))],
                                         required: ["total", "limit", "offset", "items"])),
                ("Case", CaseSchemas.wholeCase),
                ("Assessment", CaseSchemas.assessment),
                ("Health", S.object([("status", S.enumeration(["ok", "unavailable"])), ("database", S.string())], required: ["status", "database"])),
            ]
        }
    }

    enum AssessmentFormats {
        static let all = ["json", "text"]
    }
}
