@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import Testing
import VaporTesting

/// GET entries of batch and transaction Bundles (FHIR R4 http.html#transaction): answered by
/// the code of the plain GET routes (same resource, same refusals, same audit), in a transaction
/// after its writes and on its data, and a failing GET fails the transaction.
@Suite(.serialized) struct FHIRBundleReadTests {
    func fhir(_ r: TestRegistry, _ method: HTTPMethod, _ path: String, as user: String?, body: String? = nil) async throws -> TestRegistry.Reply {
        var h = HTTPHeaders()
        if body != nil { h.replaceOrAdd(name: .contentType, value: "application/fhir+json") }
        return try await r.send(method, path, as: user, json: body, headers: h)
    }

    static func get(_ url: String) -> String { #"{"request": {"method": "GET", "url": "\#(url)"}}"# }

    static func first(_ value: JSONValue?) -> JSONValue? {
        guard case .array(let list)? = value else { return nil }
        return list.first
    }

    func entries(_ reply: TestRegistry.Reply) -> [JSONValue] {
        guard case .array(let list)? = reply["entry"] else { return [] }
        return list
    }

    func readAudits(_ r: TestRegistry, _ resourceID: String) async throws -> Int {
        try await AuditEntry.query(on: r.app.db).filter(\.$action == "read").filter(\.$resourceID == resourceID).count()
    }

    @Test func batchReadsAreAnsweredAsThePlainRoutesAnswerThem() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient(mrn: "BR-1")
            let other = try await r.createPatient(site: "B", mrn: "BR-2")
            let lab = try await r.send(.POST, "/api/v1/patients/\(patient)/labs", as: "clinA", json: #"{"test": "calcium", "value": 9.5, "unit": "mg/dL", "date": "2026-11-01"}"#)
            #expect(lab.status == .created, "\(lab.text)")
            let plainRead = try await fhir(r, .GET, "/fhir/Patient/\(patient)", as: "clinA")
            let plainSearch = try await fhir(r, .GET, "/fhir/Observation?patient=\(patient)", as: "clinA")
            let plainHistory = try await fhir(r, .GET, "/fhir/Patient/\(patient)/_history", as: "clinA")
            let plainVread = try await fhir(r, .GET, "/fhir/Patient/\(patient)/_history/1", as: "clinA")
            #expect(try await readAudits(r, patient) == 1)
            let missing = UUID().uuidString.lowercased()
            let reply = try await fhir(r, .POST, "/fhir", as: "clinA", body: FHIRWriteTests.transaction("batch", [
                Self.get("Patient/\(patient)"), Self.get("Patient/\(patient)/_history/1"), Self.get("Observation?patient=\(patient)"),
                Self.get("Patient/\(other)"), Self.get("Patient/\(missing)"), Self.get("Practitioner/x"),
                FHIRWriteTests.postEntry(FHIRWriteTests.patient("BR-3")), Self.get("Patient/\(patient)/_history"),
                Self.get("Observation?bogus=1"),
            ]))
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply["type"] == "batch-response")
            let list = entries(reply)
            #expect(list.count == 9)
            guard list.count == 9 else { return }
            let statuses = list.map { $0["response"]?["status"]?.stringValue ?? "" }
            #expect(statuses == ["200 OK", "200 OK", "200 OK", "403 Forbidden", "404 Not Found", "404 Not Found", "201 Created", "200 OK", "400 Bad Request"], "\(statuses)")
            // The same resource the plain read serves, with its ETag and Last-Modified in response.
            #expect(list[0]["resource"] == plainRead.json)
            #expect(list[0]["response"]?["etag"]?.stringValue == plainRead.etag)
            #expect(list[0]["response"]?["lastModified"] == plainRead.json["meta"]?["lastUpdated"])
            #expect(list[0]["fullUrl"]?.stringValue?.hasSuffix("/fhir/Patient/\(patient)") == true)
            #expect(list[1]["resource"] == plainVread.json)
            #expect(list[2]["resource"]?["type"] == "searchset")
            #expect(list[2]["resource"]?["entry"] == plainSearch.json["entry"])
            #expect(list[2]["resource"]?["total"] == 1)
            #expect(list[7]["resource"]?["entry"] == plainHistory.json["entry"])
            for failed in [3, 4, 5, 8] {
                #expect(list[failed]["response"]?["outcome"]?["resourceType"] == "OperationOutcome")
                #expect(list[failed]["resource"] == nil)
            }
            #expect(Self.first(list[8]["response"]?["outcome"]?["issue"])?["diagnostics"]?.stringValue?.contains("bogus") == true)
            // Reads are audited as the plain routes audit them: read, vread, history of the patient.
            #expect(try await readAudits(r, patient) == 2)
            #expect(try await readAudits(r, "\(patient)/_history/1") == 2)
            #expect(try await readAudits(r, "\(patient)/_history") == 2)
            #expect(try await readAudits(r, other) == 0)
        }
    }

    @Test func transactionReadsRunAfterItsWritesAndSeeThem() async throws {
        try await TestRegistry.run { r in
            let mrn = "\(FHIRWriteTests.mrnSystem)A|TR-1"
            // The GET comes first in the Bundle and is still answered after the POST (R4 processing order).
            let reply = try await fhir(r, .POST, "/fhir", as: "clinA", body: FHIRWriteTests.transaction("transaction", [
                Self.get("Patient?identifier=\(mrn)"), FHIRWriteTests.postEntry(FHIRWriteTests.patient("TR-1")),
            ]))
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply["type"] == "transaction-response")
            let list = entries(reply)
            #expect(list.count == 2)
            guard list.count == 2 else { return }
            #expect(list[0]["response"]?["status"] == "200 OK")
            #expect(list[0]["resource"]?["total"] == 1, "\(reply.text)")
            let created = list[1]["resource"]?["id"]?.stringValue ?? "-"
            #expect(Self.first(list[0]["resource"]?["entry"])?["resource"]?["id"]?.stringValue == created)
            #expect(list[1]["response"]?["status"] == "201 Created")
            // The search is audited with the transaction's writes.
            #expect(try await AuditEntry.query(on: r.app.db).filter(\.$action == "search").filter(\.$resourceType == "fhir/Patient").count() == 1)
        }
    }

    @Test func aFailingReadFailsTheTransactionAndWritesNothing() async throws {
        try await TestRegistry.run { r in
            let audits = try await r.auditCount()
            let other = try await r.createPatient(site: "B", mrn: "TF-0")
            let afterSetup = try await r.auditCount()
            #expect(afterSetup > audits)
            for url in ["Patient/\(UUID().uuidString.lowercased())", "Patient/\(other)", "Observation?bogus=1"] {
                let reply = try await fhir(r, .POST, "/fhir", as: "clinA", body: FHIRWriteTests.transaction("transaction", [
                    FHIRWriteTests.postEntry(FHIRWriteTests.patient("TF-1")), Self.get(url),
                ]))
                #expect([403, 404, 400].contains(reply.status.code), "\(url): \(reply.text)")
                #expect(reply["resourceType"] == "OperationOutcome")
                #expect(reply.text.contains("Bundle.entry[1]"), "\(reply.text)")
            }
            #expect(try await Patient.query(on: r.app.db).filter(\.$mrn == "TF-1").count() == 0)
            #expect(try await r.auditCount() == afterSetup)
        }
    }

    @Test func malformedReadEntriesAndOtherRolesAreRefused() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient(mrn: "MR-1")
            let reply = try await fhir(r, .POST, "/fhir", as: "clinA", body: FHIRWriteTests.transaction("batch", [
                #"{"request": {"method": "HEAD", "url": "Patient/\#(patient)"}}"#,
                #"{"resource": \#(FHIRWriteTests.patient("MR-2")), "request": {"method": "GET", "url": "Patient/\#(patient)"}}"#,
                Self.get("Patient/\(patient)/_history/1?x=1"), Self.get(""), Self.get("Patient/\(patient)"),
                // A read entry takes _elements and _summary as the plain read does (ReadSubset).
                Self.get("Patient/\(patient)?_elements=gender"), Self.get("Patient/\(patient)/_history/1?_summary=text"),
                Self.get("Patient/\(patient)?_summary=count"),
            ]))
            #expect(reply.status == .ok, "\(reply.text)")
            let statuses = entries(reply).map { $0["response"]?["status"]?.stringValue ?? "" }
            #expect(statuses == ["400 Bad Request", "400 Bad Request", "400 Bad Request", "400 Bad Request", "200 OK", "200 OK", "200 OK", "400 Bad Request"], "\(statuses)")
            let cut = entries(reply)[5]["resource"]
            #expect(Set(cut?.objectValue?.keys ?? []) == ["resourceType", "id", "meta", "gender"], "\(cut ?? .null)")
            #expect(Set(entries(reply)[6]["resource"]?.objectValue?.keys ?? []) == ["resourceType", "id", "meta"])
            for role in ["research", "admin"] {
                let refused = try await fhir(r, .POST, "/fhir", as: role, body: FHIRWriteTests.transaction("batch", [Self.get("Patient/\(patient)")]))
                #expect(refused.status == .forbidden, "\(refused.text)")
                #expect(refused["resourceType"] == "OperationOutcome")
            }
        }
    }
}
