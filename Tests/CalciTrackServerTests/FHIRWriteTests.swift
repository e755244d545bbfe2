@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import SQLKit
import Foundation
import Testing
import VaporTesting

/// The FHIR write side (issue 5): create, conditional create, update with If-Match, delete,
/// transaction and batch Bundles, and idempotent file import. Runs on SQLite, and on
/// PostgreSQL when DATABASE_URL is set.
@Suite(.serialized) struct FHIRWriteTests {
    static let mrnSystem = "https://calcitrack.org/fhir/sid/mrn/"

    static func patient(_ mrn: String, site: String = "A", family: String = "Doe", given: String = "Jane", id: String? = nil) -> String {
        """
        {"resourceType": "Patient"\(id.map { ", \"id\": \"\($0)\"" } ?? ""), "identifier": [{"system": "\(mrnSystem)\(site)", "value": "\(mrn)"}],
         "name": [{"family": "\(family)", "given": ["\(given)"]}], "gender": "female", "birthDate": "1970-05-20"}
        """
    }

    func fhir(_ r: TestRegistry, _ method: HTTPMethod, _ path: String, as user: String?, body: String? = nil, headers: HTTPHeaders = [:]) async throws -> TestRegistry.Reply {
        var h = headers
        if body != nil { h.replaceOrAdd(name: .contentType, value: "application/fhir+json") }
        return try await r.send(method, path, as: user, json: body, headers: h)
    }

    func patientCount(_ r: TestRegistry) async throws -> Int { try await Patient.query(on: r.app.db).count() }

    func issues(_ reply: TestRegistry.Reply) -> [JSONValue] {
        guard case .array(let list)? = reply.json["issue"] else { return [] }
        return list
    }

    @Test func createAnswers201WithLocationAndETagAndIsAudited() async throws {
        try await TestRegistry.run { r in
            let before = try await r.auditCount()
            let reply = try await fhir(r, .POST, "/fhir/Patient", as: "clinA", body: Self.patient("F-1"))
            #expect(reply.status == .created, "\(reply.text)")
            // Absolute: [base]/[type]/[id]/_history/[vid] (R4 http.html#create); the test client sends no Host.
            let location = reply.headers.first(name: .location) ?? ""
            #expect(location.hasPrefix("http://localhost/fhir/Patient/") && location.hasSuffix("/_history/1"), "\(location)")
            #expect(reply.etag == "W/\"1\"")
            let id = String(location.split(separator: "/")[4])
            let stored = try await Patient.find(UUID(uuidString: id)!, on: r.app.db)
            #expect(stored?.mrn == "F-1")
            #expect(stored?.$site.id == r.siteA)
            #expect(try await r.auditCount() == before + 1)
        }
    }

    @Test func researchersAndOtherSitesAreRefused() async throws {
        try await TestRegistry.run { r in
            let research = try await fhir(r, .POST, "/fhir/Patient", as: "research", body: Self.patient("F-2"))
            #expect(research.status == .forbidden)
            #expect(research["resourceType"] == "OperationOutcome")
            let otherSite = try await fhir(r, .POST, "/fhir/Patient", as: "clinB", body: Self.patient("F-2", site: "A"))
            #expect(otherSite.status == .forbidden, "\(otherSite.text)")
            let anonymous = try await fhir(r, .POST, "/fhir/Patient", as: nil, body: Self.patient("F-2"))
            #expect(anonymous.status == .unauthorized)
            #expect(try await patientCount(r) == 0)
        }
    }

    @Test func conditionalCreateMatchesZeroOneOrMany() async throws {
        try await TestRegistry.run { r in
            let criteria: HTTPHeaders = ["If-None-Exist": "identifier=\(Self.mrnSystem)A|C-1"]
            let first = try await fhir(r, .POST, "/fhir/Patient", as: "clinA", body: Self.patient("C-1"), headers: criteria)
            #expect(first.status == .created, "\(first.text)")
            let second = try await fhir(r, .POST, "/fhir/Patient", as: "clinA", body: Self.patient("C-1"), headers: criteria)
            #expect(second.status == .ok, "\(second.text)")
            #expect(second.headers.first(name: .location) == first.headers.first(name: .location))
            #expect(try await patientCount(r) == 1)
            // The same MRN at two sites: a criterion without the system matches the caller's site's
            // patient only (site B's must not answer 412 and so reveal the MRN; FHIRConditionalTests).
            _ = try await fhir(r, .POST, "/fhir/Patient", as: "clinB", body: Self.patient("C-1", site: "B"))
            let ownSite = try await fhir(r, .POST, "/fhir/Patient", as: "clinA", body: Self.patient("C-9"), headers: ["If-None-Exist": "identifier=C-1"])
            #expect(ownSite.status == .ok, "\(ownSite.text)")
            #expect(ownSite.headers.first(name: .location) == first.headers.first(name: .location))
            let unsupported = try await fhir(r, .POST, "/fhir/Patient", as: "clinA", body: Self.patient("C-9"), headers: ["If-None-Exist": "name=Doe"])
            #expect(unsupported.status == .badRequest)
            #expect(try await patientCount(r) == 2)
        }
    }

    @Test func updateNeedsTheCurrentVersion() async throws {
        try await TestRegistry.run { r in
            let created = try await fhir(r, .POST, "/fhir/Patient", as: "clinA", body: Self.patient("U-1"))
            let id = created.locationID
            let update = Self.patient("U-1", family: "Roe", id: id)
            let ok = try await fhir(r, .PUT, "/fhir/Patient/\(id)", as: "clinA", body: update, headers: ["If-Match": "W/\"1\""])
            #expect(ok.status == .ok, "\(ok.text)")
            #expect(ok.etag == "W/\"2\"")
            let stale = try await fhir(r, .PUT, "/fhir/Patient/\(id)", as: "clinA", body: Self.patient("U-1", family: "Poe", id: id), headers: ["If-Match": "W/\"1\""])
            #expect(stale.status == .preconditionFailed, "\(stale.text)")
            #expect(stale["resourceType"] == "OperationOutcome")
            let stored = try await Patient.find(UUID(uuidString: id)!, on: r.app.db)
            #expect(stored?.familyName == "Roe")
            #expect(stored?.version == 2)
        }
    }

    @Test func deleteIsRefusedWhileRecordsDependOnThePatient() async throws {
        try await TestRegistry.run { r in
            let id = try await r.createPatient(mrn: "D-1")
            let lab = try await r.send(.POST, "/api/v1/patients/\(id)/labs", as: "clinA", json: #"{"test": "calcium", "value": 9.5, "unit": "mg/dL", "date": "2026-11-01"}"#)
            #expect(lab.status == .created, "\(lab.text)")
            let refused = try await fhir(r, .DELETE, "/fhir/Patient/\(id)", as: "clinA")
            #expect(refused.status == .conflict, "\(refused.text)")
            #expect(refused["resourceType"] == "OperationOutcome")
            #expect(try await patientCount(r) == 1)
            let empty = try await r.createPatient(mrn: "D-2")
            let deleted = try await fhir(r, .DELETE, "/fhir/Patient/\(empty)", as: "clinA")
            #expect(deleted.status == .ok, "\(deleted.text)")
            #expect(try await patientCount(r) == 1)
        }
    }

    static func transaction(_ type: String, _ entries: [String]) -> String {
        #"{"resourceType": "Bundle", "type": "\#(type)", "entry": [\#(entries.joined(separator: ","))]}"#
    }

    static func postEntry(_ resource: String, fullUrl: String? = nil, type: String = "Patient", ifNoneExist: String? = nil) -> String {
        #"{"fullUrl": "\#(fullUrl ?? "urn:uuid:\(UUID().uuidString.lowercased())")", "resource": \#(resource), "request": {"method": "POST", "url": "\#(type)"\#(ifNoneExist.map { ", \"ifNoneExist\": \"\($0)\"" } ?? "")}}"#
    }

    @Test func transactionIsAllOrNothing() async throws {
        try await TestRegistry.run { r in
            let audit = try await r.auditCount()
            let bad = #"{"resourceType": "Patient", "identifier": [{"system": "\#(Self.mrnSystem)A", "value": "T-2"}], "gender": "female"}"#
            let failed = try await fhir(r, .POST, "/fhir", as: "clinA", body: Self.transaction("transaction", [Self.postEntry(Self.patient("T-1")), Self.postEntry(bad)]))
            #expect(failed.status.code >= 400, "\(failed.text)")
            #expect(failed["resourceType"] == "OperationOutcome")
            #expect(try await patientCount(r) == 0)
            #expect(try await r.auditCount() == audit)
            let ok = try await fhir(r, .POST, "/fhir", as: "clinA", body: Self.transaction("transaction", [Self.postEntry(Self.patient("T-1")), Self.postEntry(Self.patient("T-2"))]))
            #expect(ok.status == .ok, "\(ok.text)")
            #expect(ok["type"] == "transaction-response")
            #expect(try await patientCount(r) == 2)
        }
    }

    @Test func transactionReimportWithSameFullUrlsCreatesNothing() async throws {
        try await TestRegistry.run { r in
            let bundle = Self.transaction("transaction", [
                Self.postEntry(Self.patient("R-1"), fullUrl: "urn:uuid:6f1c2a94-7a0e-4c43-9d7e-2d7c5b1e0a01"),
                Self.postEntry(Self.patient("R-2"), fullUrl: "urn:uuid:6f1c2a94-7a0e-4c43-9d7e-2d7c5b1e0a02", ifNoneExist: "identifier=\(Self.mrnSystem)A|R-2"),
            ])
            let first = try await fhir(r, .POST, "/fhir", as: "clinA", body: bundle)
            #expect(first.status == .ok, "\(first.text)")
            let second = try await fhir(r, .POST, "/fhir", as: "clinA", body: bundle)
            #expect(second.status == .ok, "\(second.text)")
            #expect(try await patientCount(r) == 2)
            guard case .array(let entries)? = second["entry"] else { Issue.record("no entries"); return }
            #expect(entries.map { $0["response"]?["status"]?.stringValue ?? "" } == ["200 OK", "200 OK"])
        }
    }

    @Test func batchEntriesAreIndependent() async throws {
        try await TestRegistry.run { r in
            let bad = #"{"resourceType": "Patient", "identifier": [{"system": "\#(Self.mrnSystem)A", "value": "B-2"}], "gender": "female"}"#
            let reply = try await fhir(r, .POST, "/fhir", as: "clinA", body: Self.transaction("batch", [
                Self.postEntry(Self.patient("B-1")), Self.postEntry(bad), Self.postEntry(#"{"resourceType": "Practitioner"}"#, type: "Practitioner"),
            ]))
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply["type"] == "batch-response")
            guard case .array(let entries)? = reply["entry"] else { Issue.record("no entries"); return }
            let statuses = entries.map { $0["response"]?["status"]?.stringValue ?? "" }
            #expect(statuses[0] == "201 Created")
            #expect(statuses[1].hasPrefix("422"))
            #expect(statuses[2].hasPrefix("422"))
            #expect(entries[1]["response"]?["outcome"]?["resourceType"] == "OperationOutcome")
            #expect(try await patientCount(r) == 1)
        }
    }

    @Test func fileImportIsIdempotentAndResumes() async throws {
        try await TestRegistry.run { r in
            let dir = NSTemporaryDirectory() + "fhir-import-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let lines = (1...25).map { Self.patient("N-\($0)", id: "src-\($0)").replacingOccurrences(of: "\n", with: " ") }
            try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/Patient.ndjson", atomically: true, encoding: .utf8)
            let options = FHIRImport.Options(chunkSize: 10, today: TestRegistry.today, actor: "test-import")
            let first = try await FHIRImport.run(paths: [dir], on: r.app.db, options: options)
            #expect(first.created == 25)
            #expect(first.rejected.isEmpty)
            #expect(try await patientCount(r) == 25)
            // A rerun of a completed file skips it; after forgetting the progress, every resource is found again.
            let second = try await FHIRImport.run(paths: [dir], on: r.app.db, options: options)
            #expect(second.skippedFiles.count == 1)
            try await (r.app.db as! any SQLDatabase).raw("DELETE FROM fhir_import_progress").run()
            let third = try await FHIRImport.run(paths: [dir], on: r.app.db, options: options)
            #expect(third.unchanged == 25)
            #expect(third.created == 0)
            #expect(try await patientCount(r) == 25)
        }
    }

    static func calcium(subject: String, value: Double = 9.5, unit: String = "mg/dL", date: String = "2026-11-01") -> String {
        """
        {"resourceType": "Observation", "status": "final",
         "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
         "code": {"coding": [{"system": "http://loinc.org", "code": "17861-6"}]}, "subject": {"reference": "\(subject)"},
         "effectiveDateTime": "\(date)", "valueQuantity": {"value": \(value), "unit": "\(unit)", "system": "http://unitsofmeasure.org", "code": "\(unit)"}}
        """
    }

    @Test func transactionResolvesUrnUuidReferencesBetweenEntries() async throws {
        try await TestRegistry.run { r in
            let patientURL = "urn:uuid:0b7e6f0e-5d1c-4a43-9a55-7a3f2a0c1e01"
            let reply = try await fhir(r, .POST, "/fhir", as: "clinA", body: Self.transaction("transaction", [
                Self.postEntry(Self.calcium(subject: patientURL), type: "Observation"),  // before its patient: order must not matter
                Self.postEntry(Self.patient("X-1"), fullUrl: patientURL),
            ]))
            #expect(reply.status == .ok, "\(reply.text)")
            let patient = try await Patient.query(on: r.app.db).filter(\.$mrn == "X-1").first()
            let labs = try await LabRecord.query(on: r.app.db).all()
            #expect(labs.count == 1)
            #expect(labs.first?.patientID == patient?.id)
            #expect(labs.first?.loinc == "17861-6")
            guard case .array(let entries)? = reply["entry"] else { Issue.record("no entries"); return }
            #expect(entries[0]["response"]?["location"]?.stringValue?.hasPrefix("http://localhost/fhir/Observation/\(labs.first?.id?.uuidString.lowercased() ?? "-")/_history/") == true)
            #expect(entries[1]["resource"]?["resourceType"] == "Patient")
            // The patient's summary was refreshed in the same transaction (its case sections hold the lab).
            let sections = try await RegistryCase.storedSections(of: patient!.id!, on: r.app.db) ?? ""
            #expect(sections.contains("calcium"))
            // Bulk inserts bypass the history middleware and write the history rows themselves (009).
            let labID = labs.first!.id!.uuidString.lowercased()
            let vread = try await fhir(r, .GET, "/fhir/Observation/\(labID)/_history/1", as: "clinA")
            #expect(vread.status == .ok, "\(vread.text)")
            let patientHistory = try await fhir(r, .GET, "/fhir/Patient/\(patient!.id!.uuidString.lowercased())/_history", as: "clinA")
            #expect(patientHistory.status == .ok)
            #expect(patientHistory["total"] == 1, "\(patientHistory.text)")
        }
    }

    @Test func transactionWithAnUnresolvableOrInvalidEntryWritesNothing() async throws {
        try await TestRegistry.run { r in
            let patientURL = "urn:uuid:0b7e6f0e-5d1c-4a43-9a55-7a3f2a0c1e02"
            let audit = try await r.auditCount()
            let dangling = try await fhir(r, .POST, "/fhir", as: "clinA", body: Self.transaction("transaction", [
                Self.postEntry(Self.patient("Y-1"), fullUrl: patientURL),
                Self.postEntry(Self.calcium(subject: "urn:uuid:00000000-0000-4000-8000-000000000000"), type: "Observation"),
            ]))
            #expect(dangling.status.code >= 400, "\(dangling.text)")
            #expect(dangling.text.contains("subject"))
            let implausible = try await fhir(r, .POST, "/fhir", as: "clinA", body: Self.transaction("transaction", [
                Self.postEntry(Self.patient("Y-1"), fullUrl: patientURL),
                Self.postEntry(Self.calcium(subject: patientURL, value: -4), type: "Observation"),
            ]))
            #expect(implausible.status.code >= 400, "\(implausible.text)")
            #expect(try await patientCount(r) == 0)
            #expect(try await LabRecord.query(on: r.app.db).count() == 0)
            #expect(try await r.auditCount() == audit)
        }
    }

    @Test func capabilityStatementListsTheWriteInteractions() async throws {
        try await TestRegistry.run { r in
            let reply = try await fhir(r, .GET, "/fhir/metadata", as: "clinA")
            #expect(reply.status == .ok)
            #expect(reply.text.contains("\"transaction\""))
            #expect(reply.text.contains("\"batch\""))
            #expect(reply.text.contains("\"conditionalCreate\":true"))
            #expect(reply.text.contains("\"code\":\"update\""))
        }
    }
}
