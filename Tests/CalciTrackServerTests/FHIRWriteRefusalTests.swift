@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import Testing
import VaporTesting

/// Writes a FHIR server must refuse or must not turn into something else (found by an
/// integration engineer probing the API, 2026-12-07). Each answer is an OperationOutcome and
/// changes nothing. Runs on SQLite, and on PostgreSQL when DATABASE_URL is set.
@Suite(.serialized) struct FHIRWriteRefusalTests {
    func fhir(_ r: TestRegistry, _ method: HTTPMethod, _ path: String, body: String? = nil, contentType: String = "application/fhir+json") async throws -> TestRegistry.Reply {
        var headers: HTTPHeaders = [:]
        if body != nil { headers.replaceOrAdd(name: .contentType, value: contentType) }
        return try await r.send(method, path, as: "clinA", json: body, headers: headers)
    }

    func patientID(_ r: TestRegistry, mrn: String) async throws -> String {
        let created = try await fhir(r, .POST, "/fhir/Patient", body: FHIRWriteTests.patient(mrn))
        #expect(created.status == .created, "\(created.text)")
        return created["id"]?.stringValue ?? ""
    }

    /// R4 http.html#create: a POST creates; a urn:uuid fullUrl names a resource inside its own
    /// Bundle only (bundle.html#references). A second Bundle that reuses the first one's
    /// fullUrls for other content wrote over the first Bundle's patient (MRN, name) before.
    @Test func aReusedFullUrlWithOtherContentCreatesAndLeavesTheEarlierResource() async throws {
        try await TestRegistry.run { r in
            let url = "urn:uuid:11111111-2222-4333-8444-555555555501"
            let first = FHIRWriteTests.transaction("transaction", [FHIRWriteTests.postEntry(FHIRWriteTests.patient("FU-1", family: "First"), fullUrl: url)])
            #expect(try await fhir(r, .POST, "/fhir", body: first).status == .ok)
            let again = try await fhir(r, .POST, "/fhir", body: first)
            #expect(again["entry"]?.arrayValue?.first?["response"]?["status"] == "200 OK", "the same Bundle again: the same resource, unchanged")
            let other = FHIRWriteTests.transaction("transaction", [FHIRWriteTests.postEntry(FHIRWriteTests.patient("FU-2", family: "Other"), fullUrl: url)])
            let reply = try await fhir(r, .POST, "/fhir", body: other)
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply["entry"]?.arrayValue?.first?["response"]?["status"] == "201 Created", "\(reply.text)")
            let patients = try await Patient.query(on: r.app.db).all()
            #expect(Set(patients.map(\.mrn)) == ["FU-1", "FU-2"])
            #expect(patients.first { $0.mrn == "FU-1" }?.familyName == "First", "the earlier patient is not written over")
        }
    }

    /// bdl-3: a batch or transaction entry has a request.
    @Test func aBundleEntryWithoutRequestIsRefused() async throws {
        try await TestRegistry.run { r in
            let bundle = FHIRWriteTests.transaction("transaction", [#"{"fullUrl": "urn:uuid:0d6ab0e4-65a4-4c4b-9d8e-3a9b1c2d3e4f", "resource": \#(FHIRWriteTests.patient("NR-1"))}"#])
            let reply = try await fhir(r, .POST, "/fhir", body: bundle)
            #expect(reply.status == .badRequest, "\(reply.text)")
            #expect(reply.text.contains("Bundle.entry[0].request"))
            #expect(try await Patient.query(on: r.app.db).count() == 0)
        }
    }

    /// A PUT of a deleted resource's id answered 500 (the row keeps its primary key); now 410,
    /// as a read of it answers.
    @Test func aPutOfADeletedResourceIsGone() async throws {
        try await TestRegistry.run { r in
            let id = try await patientID(r, mrn: "DEL-1")
            #expect(try await fhir(r, .DELETE, "/fhir/Patient/\(id)").status == .ok)
            let body = FHIRWriteTests.patient("DEL-1", id: id)
            let reply = try await fhir(r, .PUT, "/fhir/Patient/\(id)", body: body)
            #expect(reply.status == .gone, "\(reply.text)")
            #expect(reply["resourceType"] == "OperationOutcome")
            #expect(reply["issue"]?.arrayValue?.first?["code"] == "deleted")
            // Its MRN stays taken; the answer says by whom (it advised an If-None-Exist that cannot match).
            let again = try await fhir(r, .POST, "/fhir/Patient", body: FHIRWriteTests.patient("DEL-1"))
            #expect(again.status == .unprocessableEntity)
            #expect(again.text.contains("deleted patient"), "\(again.text)")
        }
    }

    /// R4 http.html#vread: a version before the deletion is served; only the deletion answers
    /// 410 (all of a deleted patient's versions answered 410 before).
    @Test func aDeletedPatientsEarlierVersionsAreStillRead() async throws {
        try await TestRegistry.run { r in
            let id = try await patientID(r, mrn: "VR-1")
            #expect(try await fhir(r, .DELETE, "/fhir/Patient/\(id)").status == .ok)
            #expect(try await fhir(r, .GET, "/fhir/Patient/\(id)").status == .gone)
            let first = try await fhir(r, .GET, "/fhir/Patient/\(id)/_history/1")
            #expect(first.status == .ok, "\(first.text)")
            #expect(first["id"]?.stringValue == id)
            #expect(try await fhir(r, .GET, "/fhir/Patient/\(id)/_history/2").status == .gone, "version 2 is the deletion")
        }
    }

    /// R4 http.html#upsert: a PUT creates at the URL's id or is refused; it answered 201 with
    /// another id, and that URL id then updated and deleted the record though a read of it was 404.
    @Test func aPutOfAClientIdThatIsNotARegistryIdIsRefused() async throws {
        try await TestRegistry.run { r in
            let reply = try await fhir(r, .PUT, "/fhir/Patient/my-custom-id", body: FHIRWriteTests.patient("UC-1", id: "my-custom-id"))
            #expect(reply.status == .badRequest, "\(reply.text)")
            #expect(reply.text.contains("UUID"))
            #expect(try await Patient.query(on: r.app.db).count() == 0)
            // A registry id (UUID) no record has is still created at that id (updateCreate).
            let uuid = UUID().lowercasedString
            let created = try await fhir(r, .PUT, "/fhir/Patient/\(uuid)", body: FHIRWriteTests.patient("UC-2", id: uuid))
            #expect(created.status == .created, "\(created.text)")
            #expect(created["id"]?.stringValue == uuid)
        }
    }

    /// A PUT of a lab's id with a heart-rate body created a vitals row beside the lab (201 at
    /// "<id>-heart-rate"); an update cannot change what a resource is.
    @Test func aPutCannotTurnARecordIntoAnotherKind() async throws {
        try await TestRegistry.run { r in
            let pid = try await patientID(r, mrn: "K-1")
            let lab = try await fhir(r, .POST, "/fhir/Observation", body: FHIRWriteTests.calcium(subject: "Patient/\(pid)"))
            #expect(lab.status == .created, "\(lab.text)")
            let labID = lab["id"]?.stringValue ?? ""
            let heartRate = FHIRImportVitalsRowTests.vital(labID, loinc: "8867-4", value: 80, unit: "/min", patient: pid)
            let reply = try await fhir(r, .PUT, "/fhir/Observation/\(labID)", body: heartRate)
            #expect(reply.status == .conflict, "\(reply.text)")
            #expect(try await VitalsRecord.query(on: r.app.db).count() == 0)
            #expect(try await LabRecord.query(on: r.app.db).count() == 1)
        }
    }

    /// Writes name types the CapabilityStatement declares with that interaction: a
    /// MedicationRequest POST answered 201 with a MedicationStatement; Flag is read-only.
    @Test func writesOfUndeclaredOrReadOnlyTypesAreRefused() async throws {
        try await TestRegistry.run { r in
            let pid = try await patientID(r, mrn: "T-1")
            let request = #"{"resourceType": "MedicationRequest", "status": "active", "intent": "order", "medicationCodeableConcept": {"text": "sodium thiosulfate"}, "subject": {"reference": "Patient/\#(pid)"}, "authoredOn": "2026-11-01"}"#
            let reply = try await fhir(r, .POST, "/fhir/MedicationRequest", body: request)
            #expect(reply.status == .notFound, "\(reply.text)")
            #expect(reply["resourceType"] == "OperationOutcome")
            #expect(try await MedicationRecord.query(on: r.app.db).count() == 0)
            let flag = try await fhir(r, .DELETE, "/fhir/Flag/alert-ddi-08-\(pid)")
            #expect(flag.status == .methodNotAllowed, "\(flag.text)")
            // Derived from the lesions: it answered "does not exist; nothing deleted" (200).
            let calcinosis = try await fhir(r, .DELETE, "/fhir/Condition/calcinosis-\(pid)")
            #expect(calcinosis.status == .methodNotAllowed, "\(calcinosis.text)")
        }
    }

    /// R4 http.html#mime-type: a body declared as another format is refused with 415.
    @Test func aBodyDeclaredAsXMLIsRefused() async throws {
        try await TestRegistry.run { r in
            let reply = try await fhir(r, .POST, "/fhir/Patient", body: FHIRWriteTests.patient("CT-1"), contentType: "application/xml")
            #expect(reply.status == .unsupportedMediaType, "\(reply.text)")
            #expect(try await Patient.query(on: r.app.db).count() == 0)
            let json = try await fhir(r, .POST, "/fhir/Patient", body: FHIRWriteTests.patient("CT-1"), contentType: "application/json; charset=utf-8")
            #expect(json.status == .created, "application/json is read as FHIR JSON: \(json.text)")
        }
    }

    /// A value the registry refuses is reported at its element (issue 5: "errors are
    /// OperationOutcome with the element path"); both were reported at the resource type.
    @Test func refusedValuesNameTheirElement() async throws {
        try await TestRegistry.run { r in
            let nameless = #"{"resourceType": "Patient", "identifier": [{"system": "\#(FHIRWriteTests.mrnSystem)A", "value": "EL-1"}], "name": [{"family": "Doe"}], "gender": "female", "birthDate": "1970-05-20"}"#
            let patient = try await fhir(r, .POST, "/fhir/Patient", body: nameless)
            #expect(patient.status == .unprocessableEntity, "\(patient.text)")
            #expect(patient["issue"]?.arrayValue?.first?["expression"] == .array(["Patient.name.given"]), "\(patient.text)")
            let pid = try await patientID(r, mrn: "EL-2")
            let lab = try await fhir(r, .POST, "/fhir/Observation", body: FHIRWriteTests.calcium(subject: "Patient/\(pid)", value: 900))
            #expect(lab.status == .unprocessableEntity, "\(lab.text)")
            #expect(lab["issue"]?.arrayValue?.first?["expression"] == .array(["Observation.valueQuantity.value"]), "\(lab.text)")
        }
    }

    /// What no route matches is an OperationOutcome, not Vapor's JSON error.
    @Test func unknownPathsAndMethodsAnswerAnOperationOutcome() async throws {
        try await TestRegistry.run { r in
            let patch = try await fhir(r, .PATCH, "/fhir/Patient/\(UUID().lowercasedString)", body: "[]")
            #expect(patch.status == .methodNotAllowed)
            #expect(patch["resourceType"] == "OperationOutcome", "\(patch.text)")
            #expect(patch.headers.contentType?.description.hasPrefix("application/fhir+json") == true, "\(patch.headers)")
            let unknown = try await fhir(r, .GET, "/fhir/Patient/\(UUID().lowercasedString)/foo")
            #expect(unknown.status == .notFound)
            #expect(unknown["resourceType"] == "OperationOutcome", "\(unknown.text)")
        }
    }
}
