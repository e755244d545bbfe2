@testable import CalciTrackServer
import CalciTrackCore
import Foundation
import Testing
import VaporTesting

/// Every route × every role, including anonymous (issue 3, item 4). The table must name every
/// route the app registers, so a new route cannot ship without its access rules.
@Suite(.serialized) struct RoleRouteMatrixTests {
    static let roles: [String?] = [nil, "clinA", "clinB", "research", "admin"]

    /// Valid bodies per record kind (dates before the fixed today, 2026-11-24).
    static let bodies: [String: String] = [
        "lesions": #"{"label": "LABEL", "site": "thigh", "laterality": "right", "morphology": "mousse", "findings": {"ulcerated": true}}"#,
        "measurements": #"{"date": "2026-11-01", "lengthCm": 2, "widthCm": 1}"#,
        "visits": #"{"date": "2026-11-01", "kind": "clinic", "nextDue": "2026-12-01"}"#,
        "labs": #"{"test": "calcium", "value": 9.1, "unit": "mg/dL", "date": "2026-11-01"}"#,
        "vitals": #"{"date": "2026-11-01", "temperatureC": 37.0}"#,
        "medications": #"{"drug": "diltiazem", "doseMg": 120, "frequency": "daily", "route": "oral", "start": "2026-01-01"}"#,
        "holds": #"{"start": "2026-11-01", "reason": "surgery"}"#,
        "procedures": #"{"date": "2026-11-01", "kind": "debridement"}"#,
        "infection-episodes": #"{"onset": "2026-11-01", "outcome": "ongoing"}"#,
        "imaging-studies": #"{"date": "2026-11-01", "modality": "radiograph"}"#,
    ]
    static let parentOf: [String: String] = ["measurements": "lesions", "holds": "medications"]

    struct Expect {
        let anonymous: Int, clinA: Int, clinB: Int, research: Int, admin: Int
        func status(_ role: String?) -> Int {
            switch role { case nil: anonymous; case "clinA": clinA; case "clinB": clinB; case "research": research; default: admin }
        }
    }
    static let patientRead = Expect(anonymous: 401, clinA: 200, clinB: 403, research: 200, admin: 403)
    static let patientWrite = Expect(anonymous: 401, clinA: 200, clinB: 403, research: 403, admin: 403)
    static let patientCreate = Expect(anonymous: 401, clinA: 201, clinB: 403, research: 403, admin: 403)
    static let patientDelete = Expect(anonymous: 401, clinA: 204, clinB: 403, research: 403, admin: 403)
    static let adminOnly = Expect(anonymous: 401, clinA: 403, clinB: 403, research: 403, admin: 200)
    static let signedIn = Expect(anonymous: 401, clinA: 200, clinB: 200, research: 200, admin: 200)
    static let open = Expect(anonymous: 200, clinA: 200, clinB: 200, research: 200, admin: 200)

    @Test("Every route answers every role as the access rules say [issue 3 item 4]")
    func matrix() async throws {
        try await TestRegistry.run { r in
            // Fixture: a patient at site A with one record of each kind.
            let patient = try await r.createPatient()
            var ids: [String: String] = ["patients": patient]
            var counter = 0
            func body(_ kind: String) -> String {
                counter += 1
                return Self.bodies[kind]!.replacingOccurrences(of: "LABEL", with: "L\(counter)")
            }
            func create(_ kind: String) async throws -> String {
                let parentKind = Self.parentOf[kind] ?? "patients"
                let parent = parentKind == "patients" ? patient : ids[parentKind]!
                let reply = try await r.send(.POST, "/api/v1/\(parentKind)/\(parent)/\(kind)", as: "clinA", json: body(kind))
                #expect(reply.status == .created, "\(kind): \(reply.text)")
                return reply.id
            }
            for kind in ["lesions", "medications", "measurements", "holds", "visits", "labs", "vitals", "procedures", "infection-episodes", "imaging-studies"] {
                ids[kind] = try await create(kind)
            }
            func version(_ path: String) async throws -> String {
                try await r.send(.GET, path, as: "clinA").etag
            }

            var covered = Set<String>()
            func check(_ method: HTTPMethod, _ template: String, _ expect: Expect, body: @escaping () -> String? = { nil },
                       headers extra: HTTPHeaders = [:], path: @escaping () async throws -> String, ifMatch: Bool = false) async throws {
                covered.insert("\(method.rawValue) \(template)")
                for role in Self.roles {
                    let p = try await path()
                    var headers = extra
                    if ifMatch { headers.add(name: .ifMatch, value: try await version(p)) }
                    let reply = try await r.send(method, p, as: role, json: body(), headers: headers)
                    #expect(Int(reply.status.code) == expect.status(role), "\(method) \(p) as \(role ?? "anonymous"): \(reply.status.code) \(reply.text.prefix(200))")
                }
            }

            try await check(.GET, "/health", Self.open) { "/health" }
            try await check(.GET, "/metrics", Self.open) { "/metrics" }
            try await check(.GET, "/openapi.json", Self.open) { "/openapi.json" }
            try await check(.GET, "/api/v1/auth/me", Self.signedIn) { "/api/v1/auth/me" }
            try await check(.POST, "/api/v1/auth/logout", Expect(anonymous: 204, clinA: 204, clinB: 204, research: 204, admin: 204)) { "/api/v1/auth/logout" }
            try await check(.POST, "/api/v1/auth/login", Expect(anonymous: 401, clinA: 401, clinB: 401, research: 401, admin: 401),
                            // A username per call: five failures for one would be throttled (LoginThrottle).
                            body: { #"{"username": "nobody-\#(UUID().uuidString)", "password": "wrong password"}"# }) { "/api/v1/auth/login" }
            try await check(.GET, "/api/v1/sites", Self.signedIn) { "/api/v1/sites" }
            var siteCounter = 0
            try await check(.POST, "/api/v1/sites", Expect(anonymous: 401, clinA: 403, clinB: 403, research: 403, admin: 201),
                            body: { siteCounter += 1; return #"{"code": "S\#(siteCounter)", "name": "New site"}"# }) { "/api/v1/sites" }
            try await check(.GET, "/api/v1/users", Self.adminOnly) { "/api/v1/users" }
            try await check(.GET, "/api/v1/audit", Self.adminOnly) { "/api/v1/audit" }
            try await check(.GET, "/api/v1/audit/verify", Self.adminOnly) { "/api/v1/audit/verify" }
            try await check(.GET, "/api/v1/patients", Expect(anonymous: 401, clinA: 200, clinB: 200, research: 200, admin: 403)) { "/api/v1/patients" }
            var mrn = 100
            try await check(.POST, "/api/v1/patients", Expect(anonymous: 401, clinA: 201, clinB: 422, research: 403, admin: 403), body: {
                mrn += 1
                return #"{"siteId": "\#(r.siteA.uuidString)", "mrn": "M\#(mrn)", "familyName": "Roe", "givenName": "Ann", "sex": "female"}"#
            }) { "/api/v1/patients" }
            try await check(.GET, "/api/v1/patients/:id", Self.patientRead) { "/api/v1/patients/\(patient)" }
            try await check(.PUT, "/api/v1/patients/:id", Self.patientWrite, body: {
                #"{"siteId": "\#(r.siteA.uuidString)", "mrn": "MRN-1", "familyName": "Doe", "givenName": "Jane", "sex": "female"}"#
            }, path: { "/api/v1/patients/\(patient)" }, ifMatch: true)
            try await check(.GET, "/api/v1/patients/:id/assessment", Self.patientRead) { "/api/v1/patients/\(patient)/assessment" }
            try await check(.GET, "/api/v1/patients/:id/case", Self.patientRead) { "/api/v1/patients/\(patient)/case" }
            let seedCase = try String(contentsOfFile: "../shared/cases/seed-1-admission.case.json", encoding: .utf8)
            try await check(.POST, "/api/v1/assess", Self.signedIn, body: { seedCase }) { "/api/v1/assess" }

            for kind in Self.bodies.keys.sorted() {
                let parentKind = Self.parentOf[kind] ?? "patients"
                let parent = parentKind == "patients" ? patient : ids[parentKind]!
                try await check(.GET, "/api/v1/\(parentKind)/:id/\(kind)", Self.patientRead) { "/api/v1/\(parentKind)/\(parent)/\(kind)" }
                try await check(.POST, "/api/v1/\(parentKind)/:id/\(kind)", Self.patientCreate, body: { body(kind) }) { "/api/v1/\(parentKind)/\(parent)/\(kind)" }
                try await check(.GET, "/api/v1/\(kind)/:id", Self.patientRead) { "/api/v1/\(kind)/\(ids[kind]!)" }
                let label = "keep-\(kind)"
                try await check(.PUT, "/api/v1/\(kind)/:id", Self.patientWrite, body: { Self.bodies[kind]!.replacingOccurrences(of: "LABEL", with: label) },
                                path: { "/api/v1/\(kind)/\(ids[kind]!)" }, ifMatch: true)
                // Each role tries to delete a fresh record; only the clinician of its site may.
                try await check(.DELETE, "/api/v1/\(kind)/:id", Self.patientDelete, path: { "/api/v1/\(kind)/\(try await create(kind))" }, ifMatch: true)
            }
            try await check(.DELETE, "/api/v1/patients/:id", Self.patientDelete,
                            path: { "/api/v1/patients/" + (try await r.createPatient(mrn: "DEL-\(UUID().uuidString.prefix(8))")) }, ifMatch: true)

            // FHIR reads (issue 5): clinicians of the patient's site only; researchers refused (identified data).
            let fhirPatient = Expect(anonymous: 401, clinA: 200, clinB: 403, research: 403, admin: 403)
            try await check(.GET, "/fhir/metadata", Self.open) { "/fhir/metadata" }
            try await check(.GET, "/fhir/:type", Expect(anonymous: 401, clinA: 200, clinB: 200, research: 403, admin: 403)) { "/fhir/Observation?patient=\(patient)" }
            try await check(.POST, "/fhir/:type/_search", Expect(anonymous: 401, clinA: 200, clinB: 200, research: 403, admin: 403),
                            body: { "patient=\(patient)" }, headers: ["Content-Type": "application/x-www-form-urlencoded"]) { "/fhir/Observation/_search" }
            try await check(.GET, "/fhir/:type/:id", fhirPatient) { "/fhir/Patient/\(patient)" }
            try await check(.GET, "/fhir/:type/:id/_history", fhirPatient) { "/fhir/Patient/\(patient)/_history" }
            // Type history lists the caller's sites' versions only (FHIRTypeHistoryTests).
            try await check(.GET, "/fhir/:type/_history", Expect(anonymous: 401, clinA: 200, clinB: 200, research: 403, admin: 403)) { "/fhir/Patient/_history" }
            // System history: the union of the type histories, same rules (FHIRSystemHistoryTests).
            try await check(.GET, "/fhir/_history", Expect(anonymous: 401, clinA: 200, clinB: 200, research: 403, admin: 403)) { "/fhir/_history" }
            try await check(.GET, "/fhir/:type/:id/_history/:vid", fhirPatient) { "/fhir/Patient/\(patient)/_history/1" }
            try await check(.GET, "/fhir/:type/:id/$everything", fhirPatient) { "/fhir/Patient/\(patient)/$everything" }

            // FHIR writes (issue 5): the clinicians of the patient's site only.
            func labObservation(id: String? = nil) -> String {
                let idPart = id.map { #""id": "\#($0)", "# } ?? ""
                return #"{"resourceType": "Observation", \#(idPart)"status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "17861-6"}]}, "subject": {"reference": "Patient/\#(patient)"}, "effectiveDateTime": "2026-11-01", "valueQuantity": {"value": 9.1, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"}}"#
            }
            func createdObservation() async throws -> String {
                let reply = try await r.send(.POST, "/fhir/Observation", as: "clinA", json: labObservation())
                #expect(reply.status == .created, "FHIR create: \(reply.text)")
                return reply.id
            }
            let fhirWrite = Expect(anonymous: 401, clinA: 200, clinB: 403, research: 403, admin: 403)
            // $validate answers 200 with the outcome, also when the write would be refused (clinB: another site's patient).
            try await check(.POST, "/fhir/:type/$validate", Expect(anonymous: 401, clinA: 200, clinB: 200, research: 403, admin: 403),
                            body: { labObservation() }) { "/fhir/Observation/$validate" }
            try await check(.POST, "/fhir/:type", Expect(anonymous: 401, clinA: 201, clinB: 403, research: 403, admin: 403),
                            body: { labObservation() }) { "/fhir/Observation" }
            let observation = try await createdObservation()
            try await check(.PUT, "/fhir/:type/:id", fhirWrite, body: { labObservation(id: observation) },
                            path: { "/fhir/Observation/\(observation)" }, ifMatch: true)
            // FHIR R4 allows 200 with an OperationOutcome for a delete (http.html#delete); CalciTrack answers that.
            try await check(.DELETE, "/fhir/:type/:id", fhirWrite,
                            path: { "/fhir/Observation/\(try await createdObservation())" }, ifMatch: true)
            // Conditional update and delete: the criteria only find records of the caller's sites, so for
            // clinB the update matches nothing and creates (refused: the subject is site A's) and the
            // delete finds nothing to delete (200 with information, nothing revealed).
            try await check(.PUT, "/fhir/:type", fhirWrite, body: { labObservation(id: observation) },
                            path: { "/fhir/Observation?_id=\(observation)" })
            try await check(.DELETE, "/fhir/:type", Expect(anonymous: 401, clinA: 200, clinB: 200, research: 403, admin: 403),
                            path: { "/fhir/Observation?_id=\(try await createdObservation())" })
            try await check(.POST, "/fhir", Expect(anonymous: 401, clinA: 200, clinB: 403, research: 403, admin: 403), body: {
                #"{"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": \#(labObservation()), "request": {"method": "POST", "url": "Observation"}}]}"#
            }) { "/fhir" }

            // Bulk export (issue 5): clinicians start jobs; a job and its files are its owner's only (others 404).
            let kickoff: HTTPHeaders = ["Accept": "application/fhir+json", "Prefer": "respond-async"]
            let exportStart = Expect(anonymous: 401, clinA: 202, clinB: 202, research: 403, admin: 403)
            try await check(.GET, "/fhir/$export", exportStart, headers: kickoff) { "/fhir/$export" }
            try await check(.GET, "/fhir/:type/$export", exportStart, headers: kickoff) { "/fhir/Patient/$export" }
            try await check(.POST, "/fhir/$export", exportStart, body: { #"{"resourceType": "Parameters", "parameter": [{"name": "_type", "valueString": "Patient"}]}"# },
                            headers: kickoff) { "/fhir/$export" }
            // Group export (site A's Group): site B's clinician is refused that Group.
            try await check(.GET, "/fhir/:type/:id/$export", Expect(anonymous: 401, clinA: 202, clinB: 403, research: 403, admin: 403),
                            headers: kickoff) { "/fhir/Group/\(r.siteA.lowercasedString)/$export" }
            try await check(.POST, "/fhir/:type/:id/$export", Expect(anonymous: 401, clinA: 202, clinB: 403, research: 403, admin: 403),
                            body: { #"{"resourceType": "Parameters", "parameter": [{"name": "_type", "valueString": "Patient"}]}"# },
                            headers: kickoff) { "/fhir/Group/\(r.siteA.lowercasedString)/$export" }
            // Naming site A's patient: site B's clinician is told it is not a patient they can export.
            try await check(.POST, "/fhir/:type/$export", Expect(anonymous: 401, clinA: 202, clinB: 400, research: 403, admin: 403),
                            body: { #"{"resourceType": "Parameters", "parameter": [{"name": "patient", "valueReference": {"reference": "Patient/\#(patient)"}}]}"# },
                            headers: kickoff) { "/fhir/Patient/$export" }
            func finishedJob() async throws -> String {
                let started = try await r.send(.GET, "/fhir/$export?_type=Patient", as: "clinA", headers: kickoff)
                let status = FHIRBulkExportTests.path(started.headers.first(name: .contentLocation) ?? "")
                _ = try await FHIRBulkExportTests().finished(r, status)
                return status
            }
            let job = try await finishedJob()
            let ownerOnly = Expect(anonymous: 401, clinA: 200, clinB: 404, research: 403, admin: 403)
            // What no FHIR route matches answers an OperationOutcome to anyone (FHIRUnknownRoute).
            let unknownPath = Expect(anonymous: 404, clinA: 404, clinB: 404, research: 404, admin: 404)
            let unsupportedMethod = Expect(anonymous: 405, clinA: 405, clinB: 405, research: 405, admin: 405)
            try await check(.GET, "/fhir/**", unknownPath) { "/fhir/Patient/\(patient)/foo" }
            try await check(.POST, "/fhir/**", unsupportedMethod) { "/fhir/Patient/\(patient)" }
            try await check(.PUT, "/fhir/**", unknownPath) { "/fhir/Patient/\(patient)/foo" }
            try await check(.DELETE, "/fhir/**", unsupportedMethod) { "/fhir/Patient/\(patient)/_history/1" }
            try await check(.PATCH, "/fhir/**", unsupportedMethod) { "/fhir/Patient/\(patient)" }
            try await check(.GET, "/fhir/$export-status/:job", ownerOnly) { job }
            let file = job.replacingOccurrences(of: "$export-status", with: "$export-file") + "/Patient.ndjson"
            try await check(.GET, "/fhir/$export-file/:job/:file", ownerOnly) { file }
            try await check(.DELETE, "/fhir/$export-status/:job", Expect(anonymous: 401, clinA: 202, clinB: 404, research: 403, admin: 403)) {
                try await finishedJob()
            }

            // CDS Hooks (issue 5): discovery and CORS preflight are open; services need a CDS client's
            // JWT (CDSHooksTests), which no registry user or session is, so every role is refused.
            try await check(.GET, "/cds-services", Self.open) { "/cds-services" }
            let preflight = Expect(anonymous: 204, clinA: 204, clinB: 204, research: 204, admin: 204)
            let jwtOnly = Expect(anonymous: 401, clinA: 401, clinB: 401, research: 401, admin: 401)
            try await check(.OPTIONS, "/cds-services", preflight) { "/cds-services" }
            for service in ["/cds-services/calcinosis-assessment", "/cds-services/calcinosis-assessment/feedback",
                            "/cds-services/calcinosis-medication-safety", "/cds-services/calcinosis-medication-safety/feedback",
                            "/cds-services/calcinosis-medication-safety-sign", "/cds-services/calcinosis-medication-safety-sign/feedback"] {
                try await check(.OPTIONS, service, preflight) { service }
                try await check(.POST, service, jwtOnly, body: { #"{"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea", "context": {"userId": "Practitioner/1", "patientId": "\#(patient)"}}"# }) { service }
            }

            // Web pages (issue 4): session sign-in per role, in WebUITests.
            covered.formUnion(try await WebUITests.roleMatrix(r, patient: patient))

            let registered = Set(r.app.routes.all.map { route in
                "\(route.method.rawValue) /" + route.path.map { "\($0)" }.joined(separator: "/")
            })
            #expect(registered.subtracting(covered).isEmpty, "routes without access checks: \(registered.subtracting(covered).sorted())")
        }
    }
}

