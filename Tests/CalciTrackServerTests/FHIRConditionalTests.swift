@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import Testing
import VaporTesting

/// Conditional interactions (FHIR R4 http.html#cond-update, #cond-delete, #ccreate): their
/// searches only see the caller's sites (an MRN at another site must not answer 200 or 412),
/// and conditional update and delete act on 0, 1 or several matches as R4 says.
@Suite(.serialized) struct FHIRConditionalTests {
    typealias W = FHIRWriteTests
    static let mrn = FHIRWriteTests.mrnSystem

    func fhir(_ r: TestRegistry, _ method: HTTPMethod, _ path: String, as user: String?, body: String? = nil, headers: HTTPHeaders = [:]) async throws -> TestRegistry.Reply {
        var h = headers
        if body != nil { h.replaceOrAdd(name: .contentType, value: "application/fhir+json") }
        return try await r.send(method, path, as: user, json: body, headers: h)
    }

    func location(_ reply: TestRegistry.Reply) -> String {
        reply.locationID
    }

    func entries(_ reply: TestRegistry.Reply) -> [JSONValue] {
        guard case .array(let list)? = reply["entry"] else { return [] }
        return list
    }

    /// A lab Observation with an identifier without a system (as many senders write them).
    static func lab(subject: String, identifier: String) -> String {
        W.calcium(subject: subject).replacingOccurrences(of: #"{"resourceType": "Observation","#,
                                                           with: #"{"resourceType": "Observation", "identifier": [{"value": "\#(identifier)"}],"#)
    }

    // MARK: 1. conditional matching sees only the caller's sites

    @Test func ifNoneExistDoesNotMatchAnMRNAtAnotherSite() async throws {
        try await TestRegistry.run { r in
            let atB = try await fhir(r, .POST, "/fhir/Patient", as: "clinB", body: W.patient("LEAK-1", site: "B"))
            #expect(atB.status == .created)
            // Without a system, with site B's system, and by B's id: nothing clinA may see matches, so it creates.
            let bare = try await fhir(r, .POST, "/fhir/Patient", as: "clinA", body: W.patient("LEAK-1"), headers: ["If-None-Exist": "identifier=LEAK-1"])
            #expect(bare.status == .created, "\(bare.text)")
            let system = try await fhir(r, .POST, "/fhir/Patient", as: "clinA", body: W.patient("LEAK-2"), headers: ["If-None-Exist": "identifier=\(Self.mrn)B|LEAK-1"])
            #expect(system.status == .created, "\(system.text)")
            let byID = try await fhir(r, .POST, "/fhir/Patient", as: "clinA", body: W.patient("LEAK-3"), headers: ["If-None-Exist": "_id=\(location(atB))"])
            #expect(byID.status == .created, "\(byID.text)")
            // Now LEAK-1 exists at A and B: clinA's bare criterion matches A's patient only (200, not 412).
            let again = try await fhir(r, .POST, "/fhir/Patient", as: "clinA", body: W.patient("LEAK-1"), headers: ["If-None-Exist": "identifier=LEAK-1"])
            #expect(again.status == .ok, "\(again.text)")
            #expect(location(again) == location(bare))
            #expect(!again.text.contains(location(atB)))
            #expect(try await Patient.query(on: r.app.db).count() == 4)
        }
    }

    @Test func batchIfNoneExistDoesNotMatchAnotherSitesRecordedIdentifier() async throws {
        try await TestRegistry.run { r in
            let patientB = try await r.createPatient(site: "B", mrn: "PB")
            let patientA = try await r.createPatient(site: "A", mrn: "PA")
            let bEntry = W.postEntry(Self.lab(subject: "Patient/\(patientB)", identifier: "lab-77"), type: "Observation", ifNoneExist: "identifier=lab-77")
            let b = try await fhir(r, .POST, "/fhir", as: "clinB", body: W.transaction("batch", [bEntry]))
            #expect(entries(b).first?["response"]?["status"]?.stringValue == "201 Created", "\(b.text)")
            // clinA's identical identifier: site B's record is not a match (before: 200 with B's id).
            let aEntry = W.postEntry(Self.lab(subject: "Patient/\(patientA)", identifier: "lab-77"), type: "Observation", ifNoneExist: "identifier=lab-77")
            let a = try await fhir(r, .POST, "/fhir", as: "clinA", body: W.transaction("batch", [aEntry]))
            #expect(entries(a).first?["response"]?["status"]?.stringValue == "201 Created", "\(a.text)")
            #expect(try await LabRecord.query(on: r.app.db).count() == 2)
            // Site B's re-post still finds its own record: clinA's write did not take its key.
            let bAgain = try await fhir(r, .POST, "/fhir", as: "clinB", body: W.transaction("batch", [bEntry]))
            #expect(entries(bAgain).first?["response"]?["status"]?.stringValue == "200 OK", "\(bAgain.text)")
            #expect(try await LabRecord.query(on: r.app.db).filter(\.$patientID == UUID(uuidString: patientB)!).count() == 1)
        }
    }

    @Test func aFullUrlAnotherSiteImportedIsNotRevealed() async throws {
        try await TestRegistry.run { r in
            let fullUrl = "urn:uuid:3c1d7e52-9b0a-4f7e-8a51-6d2e1f0b9c11"
            let b = try await fhir(r, .POST, "/fhir", as: "clinB", body: W.transaction("batch", [W.postEntry(W.patient("FU-1", site: "B"), fullUrl: fullUrl)]))
            #expect(entries(b).first?["response"]?["status"]?.stringValue == "201 Created", "\(b.text)")
            // Before: 403 "belongs to a site you are not a member of" (the fullUrl named B's patient).
            let a = try await fhir(r, .POST, "/fhir", as: "clinA", body: W.transaction("batch", [W.postEntry(W.patient("FU-1"), fullUrl: fullUrl)]))
            #expect(entries(a).first?["response"]?["status"]?.stringValue == "201 Created", "\(a.text)")
            #expect(!a.text.contains("site you are not a member of"))
            #expect(try await Patient.query(on: r.app.db).count() == 2)
        }
    }

    // MARK: 3. conditional update

    @Test func conditionalUpdateCreatesUpdatesOrRefuses() async throws {
        try await TestRegistry.run { r in
            let path = "/fhir/Patient?identifier=\(Self.mrn)A|CU-1"
            let created = try await fhir(r, .PUT, path, as: "clinA", body: W.patient("CU-1"))
            #expect(created.status == .created, "\(created.text)")
            let id = location(created)
            let updated = try await fhir(r, .PUT, path, as: "clinA", body: W.patient("CU-1", family: "Roe"))
            #expect(updated.status == .ok, "\(updated.text)")
            #expect(location(updated) == id)
            #expect(updated.etag == "W/\"2\"")
            #expect(try await Patient.find(UUID(uuidString: id)!, on: r.app.db)?.familyName == "Roe")
            // The body's id must be the match's.
            let wrongID = try await fhir(r, .PUT, path, as: "clinA", body: W.patient("CU-1", id: UUID().uuidString.lowercased()))
            #expect(wrongID.status == .badRequest, "\(wrongID.text)")
            #expect(wrongID.text.contains("Patient.id"))
            // A stale If-Match is refused like a plain update's.
            let stale = try await fhir(r, .PUT, path, as: "clinA", body: W.patient("CU-1", family: "Poe"), headers: ["If-Match": "W/\"1\""])
            #expect(stale.status == .preconditionFailed, "\(stale.text)")
            // Unsupported and missing criteria are named.
            let unsupported = try await fhir(r, .PUT, "/fhir/Patient?family=Roe", as: "clinA", body: W.patient("CU-1"))
            #expect(unsupported.status == .badRequest)
            #expect(unsupported.text.contains("family"), "\(unsupported.text)")
            let none = try await fhir(r, .PUT, "/fhir/Patient", as: "clinA", body: W.patient("CU-1"))
            #expect(none.status == .badRequest)
            #expect(none["resourceType"] == "OperationOutcome")
            #expect(try await Patient.query(on: r.app.db).count() == 1)
        }
    }

    @Test func conditionalUpdateWithSeveralMatchesAnswers412AndIgnoresOtherSites() async throws {
        try await TestRegistry.run { r in
            // CU-2 is one patient's MRN and another's recorded identifier: two matches at site A.
            _ = try await fhir(r, .POST, "/fhir/Patient", as: "clinA", body: W.patient("CU-2"))
            let second = W.patient("CU-3").replacingOccurrences(of: #""identifier": ["#, with: #""identifier": [{"system": "urn:oid:1.2.3", "value": "CU-2"}, "#)
            let two = try await fhir(r, .POST, "/fhir", as: "clinA", body: W.transaction("batch", [W.postEntry(second)]))
            #expect(entries(two).first?["response"]?["status"]?.stringValue == "201 Created", "\(two.text)")
            let ambiguous = try await fhir(r, .PUT, "/fhir/Patient?identifier=CU-2", as: "clinA", body: W.patient("CU-2", family: "Roe"))
            #expect(ambiguous.status == .preconditionFailed, "\(ambiguous.text)")
            #expect(ambiguous["resourceType"] == "OperationOutcome")
            // clinB sees neither: its conditional update creates at B.
            let atB = try await fhir(r, .PUT, "/fhir/Patient?identifier=CU-2", as: "clinB", body: W.patient("CU-2", site: "B"))
            #expect(atB.status == .created, "\(atB.text)")
            #expect(try await Patient.query(on: r.app.db).filter(\.$familyName == "Roe").count() == 0)
            #expect(try await Patient.query(on: r.app.db).count() == 3)
        }
    }

    @Test func conditionalUpdateAndDeleteInATransactionBundle() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient(mrn: "CB-1")
            let put = #"{"resource": \#(Self.lab(subject: "Patient/\(patient)", identifier: "lab-9")), "request": {"method": "PUT", "url": "Observation?identifier=lab-9"}}"#
            let first = try await fhir(r, .POST, "/fhir", as: "clinA", body: W.transaction("transaction", [put]))
            #expect(entries(first).first?["response"]?["status"]?.stringValue == "201 Created", "\(first.text)")
            let second = try await fhir(r, .POST, "/fhir", as: "clinA", body: W.transaction("transaction", [put.replacingOccurrences(of: "9.5", with: "9.9")]))
            #expect(entries(second).first?["response"]?["status"]?.stringValue == "200 OK", "\(second.text)")
            let labs = try await LabRecord.query(on: r.app.db).all()
            #expect(labs.count == 1)
            #expect(labs.first?.value == 9.9)
            #expect(labs.first?.version == 2)
            let delete = #"{"request": {"method": "DELETE", "url": "Observation?identifier=lab-9"}}"#
            let deleted = try await fhir(r, .POST, "/fhir", as: "clinA", body: W.transaction("transaction", [delete]))
            #expect(deleted.status == .ok, "\(deleted.text)")
            #expect(try await LabRecord.query(on: r.app.db).count() == 0)
            // A conditional POST url is refused by name (criteria go in ifNoneExist).
            let post = #"{"resource": \#(W.patient("CB-2")), "request": {"method": "POST", "url": "Patient?identifier=CB-2"}}"#
            let refused = try await fhir(r, .POST, "/fhir", as: "clinA", body: W.transaction("transaction", [post]))
            #expect(refused.status == .badRequest, "\(refused.text)")
            #expect(refused.text.contains("request.url"))
        }
    }

    /// A Bundle that names one new resource twice (two conditional creates with the same
    /// criteria, or the same identifier): the second matches what the first created, not stored
    /// yet. Before, each searched only the database and the Bundle created the lab twice. A
    /// conditional update or delete of it in the same Bundle is refused (one entry per resource).
    @Test func conditionalCriteriaSeeWhatAnEarlierEntryOfTheBundleCreated() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient(mrn: "CB-3")
            let lab = Self.lab(subject: "Patient/\(patient)", identifier: "lab-11")
            let twice = try await fhir(r, .POST, "/fhir", as: "clinA", body: W.transaction("transaction", [
                W.postEntry(lab, type: "Observation", ifNoneExist: "identifier=lab-11"),
                W.postEntry(lab, type: "Observation", ifNoneExist: "identifier=lab-11"),
            ]))
            #expect(twice.status == .ok, "\(twice.text)")
            let statuses = entries(twice).map { $0["response"]?["status"]?.stringValue ?? "" }
            #expect(statuses == ["201 Created", "200 OK"], "\(twice.text)")
            // Location: [base]/Observation/<id>/_history/<vid>.
            let ids = entries(twice).map { $0["response"]?["location"]?.stringValue?.components(separatedBy: "/_history").first?.split(separator: "/").last.map(String.init) }
            #expect(ids[0] != nil && ids[0] == ids[1], "\(ids)")
            #expect(try await LabRecord.query(on: r.app.db).count() == 1)
            // By identifier alone: the second entry's criteria name the identifier the first carries.
            let other = Self.lab(subject: "Patient/\(patient)", identifier: "lab-12")
            let byIdentifier = try await fhir(r, .POST, "/fhir", as: "clinA", body: W.transaction("transaction", [
                W.postEntry(other, type: "Observation"), W.postEntry(other, type: "Observation", ifNoneExist: "identifier=lab-12"),
            ]))
            #expect(entries(byIdentifier).map { $0["response"]?["status"]?.stringValue ?? "" } == ["201 Created", "200 OK"], "\(byIdentifier.text)")
            #expect(try await LabRecord.query(on: r.app.db).count() == 2)
            // A conditional update of what the same Bundle creates: refused, nothing written.
            let update = #"{"resource": \#(Self.lab(subject: "Patient/\(patient)", identifier: "lab-13")), "request": {"method": "PUT", "url": "Observation?identifier=lab-13"}}"#
            let refused = try await fhir(r, .POST, "/fhir", as: "clinA", body: W.transaction("transaction", [
                W.postEntry(Self.lab(subject: "Patient/\(patient)", identifier: "lab-13"), type: "Observation"), update,
            ]))
            #expect(refused.status == .badRequest, "\(refused.text)")
            #expect(refused.text.contains("earlier entry"), "\(refused.text)")
            #expect(try await LabRecord.query(on: r.app.db).count() == 2)
        }
    }

    // MARK: 3. conditional delete

    @Test func conditionalDeleteDeletesOneAndNothingElse() async throws {
        try await TestRegistry.run { r in
            let a = try await r.createPatient(site: "A", mrn: "CD-1")
            let b = try await r.createPatient(site: "B", mrn: "CD-1")
            // clinB's criteria cannot reach A's patient; clinA's reach A's only.
            let none = try await fhir(r, .DELETE, "/fhir/Patient?identifier=\(Self.mrn)A|CD-1", as: "clinB")
            #expect(none.status == .ok, "\(none.text)")
            #expect(none["resourceType"] == "OperationOutcome")
            #expect(none.text.contains("nothing deleted"))
            #expect(try await Patient.find(UUID(uuidString: a)!, on: r.app.db) != nil)
            let stale = try await fhir(r, .DELETE, "/fhir/Patient?identifier=CD-1", as: "clinA", headers: ["If-Match": "W/\"7\""])
            #expect(stale.status == .preconditionFailed, "\(stale.text)")
            let deleted = try await fhir(r, .DELETE, "/fhir/Patient?identifier=CD-1", as: "clinA")
            #expect(deleted.status == .ok, "\(deleted.text)")
            #expect(deleted.text.contains(a))
            #expect(try await Patient.find(UUID(uuidString: a)!, on: r.app.db) == nil)
            #expect(try await Patient.find(UUID(uuidString: b)!, on: r.app.db) != nil)
            let again = try await fhir(r, .DELETE, "/fhir/Patient?identifier=CD-1", as: "clinA")
            #expect(again.status == .ok)
            #expect(again.text.contains("nothing deleted"))
            let unsupported = try await fhir(r, .DELETE, "/fhir/Patient?gender=female", as: "clinA")
            #expect(unsupported.status == .badRequest)
            #expect(unsupported.text.contains("gender"))
        }
    }

    @Test func conditionalDeleteWithSeveralMatchesAnswers412() async throws {
        try await TestRegistry.run { r in
            _ = try await fhir(r, .POST, "/fhir/Patient", as: "clinA", body: W.patient("CD-2"))
            let second = W.patient("CD-3").replacingOccurrences(of: #""identifier": ["#, with: #""identifier": [{"system": "urn:oid:1.2.3", "value": "CD-2"}, "#)
            _ = try await fhir(r, .POST, "/fhir", as: "clinA", body: W.transaction("batch", [W.postEntry(second)]))
            let ambiguous = try await fhir(r, .DELETE, "/fhir/Patient?identifier=CD-2", as: "clinA")
            #expect(ambiguous.status == .preconditionFailed, "\(ambiguous.text)")
            #expect(try await Patient.query(on: r.app.db).count() == 2)
        }
    }

    @Test func capabilityStatementListsConditionalUpdateAndDelete() async throws {
        try await TestRegistry.run { r in
            let reply = try await fhir(r, .GET, "/fhir/metadata", as: "clinA")
            #expect(reply.text.contains("\"conditionalUpdate\":true"))
            #expect(reply.text.contains("\"conditionalDelete\":\"single\""))
            #expect(!reply.text.contains("\"conditionalDelete\":\"not-supported\""))
        }
    }
}
