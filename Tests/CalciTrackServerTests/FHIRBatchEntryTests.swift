@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import Testing
import VaporTesting

/// A batch entry is all or nothing: a MedicationStatement is a medication and its holds, and a
/// hold the registry refuses must not leave the medication behind (nor its audit entry), in a
/// batch Bundle, an NDJSON import chunk, or any batch call of `FHIRWriter` with several entries.
@Suite(.serialized) struct FHIRBatchEntryTests {
    /// The second hold ends before it starts: the registry refuses it after the medication and
    /// the first hold are mapped.
    static func statement(subject: String, id: String? = nil, dose: Int = 500) -> String {
        """
        {"resourceType": "MedicationStatement"\(id.map { ", \"id\": \"\($0)\"" } ?? ""), "status": "active",
         "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "7145", "display": "mycophenolate"}], "text": "mycophenolate"},
         "subject": {"reference": "\(subject)"}, "effectivePeriod": {"start": "2025-01-01"},
         "note": [{"text": "held from 2026-01-01 to 2026-01-10: surgery"}, {"text": "held from 2026-11-10 to 2026-11-01: sepsis"}],
         "dosage": [{"text": "\(dose) mg bid oral", "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}, "code": {"text": "bid"}},
                     "route": {"text": "oral"}, "doseAndRate": [{"doseQuantity": {"value": \(dose), "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}}]}]}
        """
    }

    func medicationAudits(_ r: TestRegistry) async throws -> Int {
        try await AuditEntry.query(on: r.app.db).filter(\.$resourceType ~~ ["medications", "holds"]).count()
    }

    @Test func anImportedStatementWithARefusedHoldWritesNothing() async throws {
        try await TestRegistry.run { r in
            let dir = NSTemporaryDirectory() + "fhir-batch-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let lines = [FHIRWriteTests.patient("BE-1", id: "src-be1"), Self.statement(subject: "Patient/src-be1"),
                         FHIRWriteTests.calcium(subject: "Patient/src-be1")].map { $0.replacingOccurrences(of: "\n", with: " ") }
            try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/resources.ndjson", atomically: true, encoding: .utf8)
            let summary = try await FHIRImport.run(paths: [dir], on: r.app.db, options: FHIRImport.Options(chunkSize: 10, today: TestRegistry.today, actor: "test-import"))
            #expect(summary.created == 2)
            #expect(summary.rejected.count == 1)
            #expect(summary.rejected.first?.resourceType == "MedicationStatement")
            // Before: the medication and its first hold were written although the entry was reported rejected.
            #expect(try await MedicationRecord.query(on: r.app.db).count() == 0)
            #expect(try await HoldRecord.query(on: r.app.db).count() == 0)
            #expect(try await medicationAudits(r) == 0)
            #expect(try await LabRecord.query(on: r.app.db).count() == 1)
            #expect(try await Patient.query(on: r.app.db).count() == 1)
        }
    }

    @Test func aStatementUpdateWithARefusedHoldIsUndoneAndTheOtherEntriesStay() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient(mrn: "BE-2")
            let created = try await r.send(.POST, "/api/v1/patients/\(patient)/medications", as: "clinA",
                                           json: #"{"drug": "mycophenolate", "doseMg": 500, "frequency": "bid", "route": "oral", "start": "2025-01-01"}"#)
            #expect(created.status == .created, "\(created.text)")
            let medication = created.id
            let audits = try await medicationAudits(r)
            func prepared(_ entry: WriteEntry) -> FHIRWriter.Prepared { FHIRWriter.prepare(entry) }
            func object(_ text: String) throws -> JSONObject {
                guard case .object(let o) = try JSONParser.parse(text) else { throw APIError(.badRequest, "not an object") }
                return o
            }
            // One batch call of two entries (as an import chunk is): the statement's update is
            // written at once, then its second hold is refused.
            let entries = [
                prepared(WriteEntry(method: .put, resourceType: "MedicationStatement",
                                    resource: try object(Self.statement(subject: "Patient/\(patient)", id: medication, dose: 1000)), id: medication, index: 0)),
                prepared(WriteEntry(method: .post, resourceType: "Observation", resource: try object(FHIRWriteTests.calcium(subject: "Patient/\(patient)")), index: 1)),
            ]
            let writer = FHIRWriter(authority: WriteAuthority(username: "test", sites: [r.siteA], defaultSiteCode: "A"), today: TestRegistry.today, mode: .batch)
            let results = try await AuditLog.write(on: r.app.db, actor: .system("test")) { tx in try await writer.write(entries, on: tx) }
            #expect(results[0].action == .rejected)
            #expect(results[0].issues.contains { $0.diagnostics.contains("end") }, "\(results[0].issues)")
            #expect(results[1].action == .created)
            let stored = try await MedicationRecord.find(UUID(uuidString: medication)!, on: r.app.db)
            #expect(stored?.doseMg == 500)
            #expect(stored?.version == 1)
            #expect(try await HoldRecord.query(on: r.app.db).count() == 0)
            #expect(try await medicationAudits(r) == audits)
            #expect(try await LabRecord.query(on: r.app.db).count() == 1)
        }
    }

    @Test func aBatchBundleStatementWithARefusedHoldWritesNothing() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient(mrn: "BE-3")
            let reply = try await r.send(.POST, "/fhir", as: "clinA", json: FHIRWriteTests.transaction("batch", [
                FHIRWriteTests.postEntry(Self.statement(subject: "Patient/\(patient)"), type: "MedicationStatement"),
                FHIRWriteTests.postEntry(FHIRWriteTests.calcium(subject: "Patient/\(patient)"), type: "Observation"),
            ]), headers: ["Content-Type": "application/fhir+json"])
            #expect(reply.status == .ok, "\(reply.text)")
            guard case .array(let entries)? = reply["entry"] else { Issue.record("no entries"); return }
            #expect(entries[0]["response"]?["status"]?.stringValue?.hasPrefix("422") == true, "\(reply.text)")
            #expect(entries[1]["response"]?["status"]?.stringValue == "201 Created")
            #expect(try await MedicationRecord.query(on: r.app.db).count() == 0)
            #expect(try await HoldRecord.query(on: r.app.db).count() == 0)
        }
    }
}
