@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import SQLKit
import Testing
import VaporTesting

/// `$validate` (R4 resource-operation-validate, `FHIRValidateOperation`): the write a create or
/// update would make, rolled back; 200 with an OperationOutcome whether valid or not, nothing
/// written and nothing audited.
@Suite(.serialized) struct FHIRValidateOperationTests {
    static let fhirJSON: HTTPHeaders = ["Content-Type": "application/fhir+json"]

    func counts(_ r: TestRegistry) async throws -> [Int] {
        let sql = r.app.db as! any SQLDatabase
        var result = [try await LabRecord.query(on: r.app.db).withDeleted().count(), try await MedicationRecord.query(on: r.app.db).count(),
                      try await HoldRecord.query(on: r.app.db).count(), try await r.auditCount()]
        for table in ["resource_versions", "fhir_import_ids", "patient_case_records"] {
            result.append(try await sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()!.decode(column: "n", as: Int.self))
        }
        return result
    }

    @Test("A valid resource is reported as what it would become, an invalid one with the write's own errors; nothing is written or audited")
    func validate() async throws {
        try await TestRegistry.run { r in
            let pid = try await r.createPatient(mrn: "VA-1")   // born 1970-05-20
            let before = try await counts(r)
            func issues(_ reply: TestRegistry.Reply) -> [(String, String, String)] {
                guard case .array(let items)? = reply["issue"] else { return [] }
                return items.map { ($0["severity"]?.stringValue ?? "", $0["code"]?.stringValue ?? "", $0["diagnostics"]?.stringValue ?? "") }
            }
            let valid = try await r.send(.POST, "/fhir/Observation/$validate", as: "clinA", json: FHIRWriteTests.calcium(subject: "Patient/\(pid)"), headers: Self.fhirJSON)
            #expect(valid.status == .ok && valid["resourceType"] == "OperationOutcome", "\(valid.text)")
            #expect(issues(valid).first.map { $0.0 == "information" && $0.2.contains("would create it as Observation (registry labs)") } == true, "\(valid.text)")
            #expect(!issues(valid).contains { $0.0 == "error" })

            // The write's own refusals, still 200: a date before birth, an unknown patient.
            let early = try await r.send(.POST, "/fhir/Observation/$validate", as: "clinA", json: FHIRWriteTests.calcium(subject: "Patient/\(pid)", date: "1960-01-01"), headers: Self.fhirJSON)
            #expect(early.status == .ok && issues(early).contains { $0.0 == "error" && $0.2.contains("before the patient's birth date (1970-05-20)") }, "\(early.text)")
            let stranger = try await r.send(.POST, "/fhir/Observation/$validate", as: "clinA", json: FHIRWriteTests.calcium(subject: "Patient/src-nobody"), headers: Self.fhirJSON)
            #expect(stranger.status == .ok && issues(stranger).contains { $0.0 == "error" && $0.2.contains("names no patient known to CalciTrack") }, "\(stranger.text)")
            // What would not be stored is a warning of a valid resource (an Encounter type that is not a visit kind).
            let encounter = #"{"resourceType": "Encounter", "status": "finished", "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}, "#
                + #""type": [{"text": "follow-up"}], "subject": {"reference": "Patient/\#(pid)"}, "period": {"start": "2026-11-01"}}"#
            let warned = try await r.send(.POST, "/fhir/Encounter/$validate", as: "clinA", json: encounter, headers: Self.fhirJSON)
            #expect(warned.status == .ok && issues(warned).first?.0 == "information" && issues(warned).contains { $0.0 == "warning" && $0.2.contains("is not stored") }, "\(warned.text)")

            #expect(try await counts(r) == before, "the validations above wrote nothing")
            // As Parameters, with mode update of a stored Observation.
            let lab = try await r.send(.POST, "/api/v1/patients/\(pid)/labs", as: "clinA", json: #"{"test":"calcium","value":9.1,"unit":"mg/dL","date":"2026-11-01"}"#).id.lowercased()
            let stored = try await counts(r)
            let changed = FHIRWriteTests.calcium(subject: "Patient/\(pid)", value: 9.9).replacingOccurrences(of: #"{"resourceType": "Observation","#, with: #"{"resourceType": "Observation", "id": "\#(lab)","#)
            let parameters = #"{"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": \#(changed)}, {"name": "mode", "valueCode": "update"}]}"#
            let update = try await r.send(.POST, "/fhir/Observation/$validate", as: "clinA", json: parameters, headers: Self.fhirJSON)
            #expect(update.status == .ok && issues(update).first.map { $0.2.contains("would update Observation") } == true, "\(update.text)")
            #expect(try await LabRecord.find(UUID(uuidString: lab)!, on: r.app.db)?.value == 9.1, "rolled back")
            #expect(try await counts(r) == stored)

            // Nothing to validate: 400.
            let wrongType = try await r.send(.POST, "/fhir/Observation/$validate", as: "clinA", json: FHIRWriteTests.patient("VA-2"), headers: Self.fhirJSON)
            #expect(wrongType.status == .badRequest, "\(wrongType.text)")
            let badMode = try await r.send(.POST, "/fhir/Observation/$validate?mode=delete", as: "clinA", json: FHIRWriteTests.calcium(subject: "Patient/\(pid)"), headers: Self.fhirJSON)
            #expect(badMode.status == .badRequest && badMode["issue"]?.arrayFirst?["expression"] == .array(["mode"]), "\(badMode.text)")
            #expect(try await r.send(.POST, "/fhir/Observation/$validate", as: "research", json: FHIRWriteTests.calcium(subject: "Patient/\(pid)"), headers: Self.fhirJSON).status == .forbidden)

            // Nothing of the validations was written, versioned, put in the ledger or audited.
            #expect(try await counts(r)[0] == before[0] + 1)   // the lab the API wrote
            let metadata = try await r.send(.GET, "/fhir/metadata", as: nil)
            #expect(metadata.text.contains(FHIRValidateOperation.definition))
        }
    }
}
