@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import Testing
import VaporTesting

/// The SSc Condition and the body weight Observation live on the patient row (patient sections).
/// `FHIRWriter` changes the row in memory per entry, keeps a version row per update, and writes
/// the row once at the end of the call (`writeSectionUpdates`): every version must still be
/// there, each with its own body, and the row must end as the last one.
@Suite(.serialized) struct FHIRSectionUpdateTests {
    func object(_ reply: TestRegistry.Reply) throws -> JSONObject {
        guard case .object(let o) = reply.json else { throw APIError(.badRequest, "not an object: \(reply.text)") }
        return o
    }

    static func put(_ resource: JSONObject, _ url: String) -> String {
        #"{"resource": \#(JSONWriter.write(.object(resource), pretty: false)), "request": {"method": "PUT", "url": "\#(url)"}}"#
    }

    /// A patient with a weight and an SSc profile, and its SSc Condition and weight Observation as read.
    func patientWithSections(_ r: TestRegistry, mrn: String) async throws -> (patient: String, ssc: JSONObject, weight: JSONObject) {
        let patient = try await r.createPatient(mrn: mrn, extra: #", "weightKg": 61, "ssc": {"subtype": "diffuse", "diagnosisDate": "2010"}"#)
        return (patient, try object(try await r.send(.GET, "/fhir/Condition/ssc-\(patient)", as: "clinA")),
                try object(try await r.send(.GET, "/fhir/Observation/weight-\(patient)", as: "clinA")))
    }

    static func kilograms(_ value: Double) -> JSONValue {
        .object(JSONObject([("value", .number(value)), ("unit", "kg"), ("system", "http://unitsofmeasure.org"), ("code", "kg")]))
    }

    func versions(_ r: TestRegistry, _ patient: String) async throws -> [ResourceHistory.Version] {
        try await ResourceHistory.versions(kind: "patients", id: UUID.parse(patient)!, on: r.app.db).sorted { $0.version < $1.version }
    }

    @Test func twoSectionUpdatesOfOnePatientInATransactionAreTwoVersions() async throws {
        try await TestRegistry.run { r in
            let sections = try await patientWithSections(r, mrn: "SU-1")
            let patient = sections.patient
            var ssc = sections.ssc, weight = sections.weight
            ssc["onsetDateTime"] = "2012"
            ssc["meta"] = nil
            weight["valueQuantity"] = Self.kilograms(64)
            weight["meta"] = nil
            let reply = try await r.send(.POST, "/fhir", as: "clinA", json: FHIRWriteTests.transaction("transaction", [
                Self.put(ssc, "Condition/ssc-\(patient)"), Self.put(weight, "Observation/weight-\(patient)"),
            ]), headers: ["Content-Type": "application/fhir+json"])
            #expect(reply.status == .ok, "\(reply.text)")
            guard case .array(let entries)? = reply["entry"] else { Issue.record("no entries: \(reply.text)"); return }
            #expect(entries.map { $0["response"]?["etag"]?.stringValue } == [#"W/"2""#, #"W/"3""#])

            let stored = try #require(try await Patient.find(UUID.parse(patient)!, on: r.app.db))
            #expect(stored.version == 3)
            #expect(stored.weightKg == 64)
            #expect(stored.ssc?.contains("2012") == true, "\(stored.ssc ?? "nil")")
            // One version row each, with the body of that version: v2 has the new diagnosis date and the old weight.
            let history = try await versions(r, patient)
            #expect(history.map(\.version) == [1, 2, 3])
            #expect(history[1].body["weightKg"] == 61)
            #expect(history[1].body["ssc"]?["diagnosisDate"] == "2012")
            #expect(history[2].body["weightKg"] == 64)
            #expect(history[2].body["ssc"]?["diagnosisDate"] == "2012")
            // Read back as FHIR, the Condition is the new version too.
            let read = try await r.send(.GET, "/fhir/Condition/ssc-\(patient)", as: "clinA")
            #expect(read["onsetDateTime"] == "2012")
            #expect(read.etag == #"W/"3""#)
        }
    }

    /// Before, the section update of a patient the same call creates compared its unset name keys
    /// and crashed (carebundle transaction Bundles; found by the interop e2e).
    @Test func aNewPatientAndItsSScConditionInOneTransaction() async throws {
        try await TestRegistry.run { r in
            let source = try await r.createPatient(mrn: "SU-2", extra: #", "ssc": {"subtype": "limited", "diagnosisDate": "2015"}"#)
            var ssc = try object(try await r.send(.GET, "/fhir/Condition/ssc-\(source)", as: "clinA"))
            let patientURL = "urn:uuid:7c0c5e1e-8f8a-4e0e-9a0a-2f4b1d9c0e11"
            ssc["id"] = nil
            ssc["meta"] = nil
            ssc["subject"] = .object(JSONObject([("reference", .string(patientURL))]))
            let reply = try await r.send(.POST, "/fhir", as: "clinA", json: FHIRWriteTests.transaction("transaction", [
                FHIRWriteTests.postEntry(FHIRWriteTests.patient("SU-3"), fullUrl: patientURL),
                FHIRWriteTests.postEntry(JSONWriter.write(.object(ssc), pretty: false), type: "Condition"),
            ]), headers: ["Content-Type": "application/fhir+json"])
            #expect(reply.status == .ok, "\(reply.text)")
            let created = try #require(try await Patient.query(on: r.app.db).filter(\.$mrn == "SU-3").first())
            #expect(created.version == 1)
            #expect(created.ssc?.contains("2015") == true)
            #expect(try await versions(r, created.id!.lowercasedString).map(\.version) == [1])
        }
    }

    /// An import chunk whose MedicationStatement is refused (its savepoint undone) after the same
    /// patient's section update, which waits for the end of the chunk: the update is still
    /// written, and the next chunk's update of the same patient is the version after it.
    @Test func aRefusedStatementDoesNotLoseAPendingSectionUpdate() async throws {
        try await TestRegistry.run { r in
            let sections = try await patientWithSections(r, mrn: "SU-4")
            let patient = sections.patient
            var ssc = sections.ssc, weight = sections.weight
            ssc["onsetDateTime"] = "2013"
            weight["valueQuantity"] = Self.kilograms(66)
            let dir = NSTemporaryDirectory() + "fhir-sections-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            // Chunk 1: the Condition, a statement with a refused hold, a lab of the same patient; chunk 2: the weight.
            let lines = [JSONWriter.write(.object(ssc), pretty: false), FHIRBatchEntryTests.statement(subject: "Patient/\(patient)"),
                         FHIRWriteTests.calcium(subject: "Patient/\(patient)"), JSONWriter.write(.object(weight), pretty: false)]
                .map { $0.replacingOccurrences(of: "\n", with: " ") }
            try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/resources.ndjson", atomically: true, encoding: .utf8)
            let summary = try await FHIRImport.run(paths: [dir], on: r.app.db, options: FHIRImport.Options(chunkSize: 3, today: TestRegistry.today, actor: "test-import"))
            #expect(summary.rejected.map(\.resourceType) == ["MedicationStatement"])
            #expect(summary.updated == 2, "\(summary)")
            let stored = try #require(try await Patient.find(UUID.parse(patient)!, on: r.app.db))
            #expect(stored.version == 3)
            #expect(stored.weightKg == 66)
            #expect(stored.ssc?.contains("2013") == true)
            let history = try await versions(r, patient)
            #expect(history.map(\.version) == [1, 2, 3])
            #expect(history[1].body["ssc"]?["diagnosisDate"] == "2013")
            #expect(history[1].body["weightKg"] == 61)
            #expect(history[2].body["weightKg"] == 66)
            #expect(try await MedicationRecord.query(on: r.app.db).count() == 0)
        }
    }
}
