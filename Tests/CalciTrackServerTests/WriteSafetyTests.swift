@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import SQLKit
import Testing
import VaporTesting

/// No lost updates, no half-written records, clear errors (issue 3 item 3; README principles).
@Suite(.serialized) struct WriteSafetyTests {
    static let lab = #"{"test": "calcium", "value": 9.1, "unit": "mg/dL", "date": "2026-11-01"}"#

    @Test("Two clients update the same record from the same version: one wins, the other gets 412")
    func concurrentUpdate() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient()
            let created = try await r.send(.POST, "/api/v1/patients/\(patient)/labs", as: "clinA", json: Self.lab)
            #expect(created.etag == "\"1\"")
            let path = "/api/v1/labs/\(created.id)"
            async let first = r.send(.PUT, path, as: "clinA", json: Self.lab.replacingOccurrences(of: "9.1", with: "9.5"), headers: ["If-Match": "\"1\""])
            async let second = r.send(.PUT, path, as: "clinA", json: Self.lab.replacingOccurrences(of: "9.1", with: "8.0"), headers: ["If-Match": "\"1\""])
            let statuses = try await [first.status, second.status].map(\.code).sorted()
            #expect(statuses == [200, 412])
            let now = try await r.send(.GET, path, as: "clinA")
            #expect(now.etag == "\"2\"")
            let winner = try await first.status == .ok ? 9.5 : 8.0
            #expect(now["value"] == .number(winner))
            let update = try await AuditEntry.query(on: r.app.db).filter(\.$action == "update").all()
            #expect(update.map(\.detail) == ["version 2; changed: value, valueNormalised"], "the audit names the changed fields, not their values")
        }
    }

    @Test("Update without If-Match answers 428; with a stale version 412; nothing changes")
    func preconditions() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient()
            let created = try await r.send(.POST, "/api/v1/patients/\(patient)/labs", as: "clinA", json: Self.lab)
            let path = "/api/v1/labs/\(created.id)"
            #expect(try await r.send(.PUT, path, as: "clinA", json: Self.lab).status == .preconditionRequired)
            #expect(try await r.send(.DELETE, path, as: "clinA").status == .preconditionRequired)
            _ = try await r.send(.PUT, path, as: "clinA", json: Self.lab, headers: ["If-Match": "1"])
            let stale = try await r.send(.PUT, path, as: "clinA", json: Self.lab.replacingOccurrences(of: "9.1", with: "7"), headers: ["If-Match": "1"])
            #expect(stale.status == .preconditionFailed)
            #expect(try await r.send(.GET, path, as: "clinA")["value"] == .number(9.1))
        }
    }

    @Test("Invalid input: 422 lists every bad field with value and allowed range; nothing is written, not even audit")
    func invalidWritesNothing() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient()
            let before = (try await LabRecord.query(on: r.app.db).count(), try await r.auditCount())
            let reply = try await r.send(.POST, "/api/v1/patients/\(patient)/labs", as: "clinA",
                                         json: #"{"test": "calcium", "value": 40, "unit": "mg/dl", "date": "2026-13-01", "extra": true}"#)
            #expect(reply.status == .unprocessableEntity)
            #expect(Set(reply.errorFields) == ["unit", "date", "extra"])
            #expect(reply.text.contains("mg/dL"), "the message names the allowed units")
            let range = try await r.send(.POST, "/api/v1/patients/\(patient)/vitals", as: "clinA", json: #"{"date": "2026-11-01", "temperatureC": 385}"#)
            #expect(range.errorFields == ["temperatureC"])
            #expect(range.text.contains("between 25 and 45"), "case-format.md validation message: \(range.text)")
            let future = try await r.send(.POST, "/api/v1/patients/\(patient)/labs", as: "clinA", json: #"{"test": "wbc", "value": 9, "unit": "10*9/L", "date": "2027-01-01"}"#)
            #expect(future.errorFields == ["date"])
            let notJSON = try await r.send(.POST, "/api/v1/patients/\(patient)/labs", as: "clinA", json: "{not json")
            #expect(notJSON.status == .unprocessableEntity && notJSON.errorFields == ["body"])
            let after = (try await LabRecord.query(on: r.app.db).count(), try await r.auditCount())
            #expect(before == after)
        }
    }

    /// Found by schemathesis: an episode whose onset is before the birth date made the summary's
    /// case-at-onset invalid, and the write answered 500.
    @Test("An infection episode before the birth date is a 422 naming onset; one already stored breaks no later write")
    func episodeBeforeBirth() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient()   // born 1970-05-20
            let before = try await InfectionEpisodeRecord.query(on: r.app.db).count()
            let early = try await r.send(.POST, "/api/v1/patients/\(patient)/infection-episodes", as: "clinA", json: #"{"onset": "1947-06-01", "outcome": "ongoing"}"#)
            #expect(early.status == .unprocessableEntity && early.errorFields == ["onset"], "\(early.text)")
            #expect(early.text.contains("1970-05-20"))
            #expect(try await InfectionEpisodeRecord.query(on: r.app.db).count() == before)
            // Stored by another path (an import, an older version): later writes still work.
            let stored = InfectionEpisodeRecord()
            stored.patientID = UUID(uuidString: patient)!
            stored.onset = "1947-06-01"
            stored.outcome = "ongoing"
            stored.version = 1
            stored.createdBy = "import"
            stored.updatedBy = "import"
            try await stored.create(on: r.app.db)
            let lab = try await r.send(.POST, "/api/v1/patients/\(patient)/labs", as: "clinA", json: #"{"test": "calcium", "value": 9.1, "unit": "mg/dL", "date": "2026-11-01"}"#)
            #expect(lab.status == .created, "\(lab.text)")
            let onTime = try await r.send(.POST, "/api/v1/patients/\(patient)/infection-episodes", as: "clinA", json: #"{"onset": "1970-05-20", "outcome": "ongoing"}"#)
            #expect(onTime.status == .created, "the birth date itself is allowed: \(onTime.text)")
        }
    }

    /// BirthDateCheck: nothing a record says happened can precede birth, whichever path writes
    /// it (a wrong patient or a mistyped year); the error names the field, the value and the
    /// birth date, and nothing is written. The birth date itself is allowed.
    @Test("Records dated before the birth date are refused naming the field, through the JSON API, FHIR and the import")
    func recordsBeforeBirth() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient()   // born 1970-05-20
            let before = (try await LabRecord.query(on: r.app.db).count(), try await MedicationRecord.query(on: r.app.db).count())
            let lab = try await r.send(.POST, "/api/v1/patients/\(patient)/labs", as: "clinA", json: #"{"test": "calcium", "value": 9.1, "unit": "mg/dL", "date": "1960-11-01"}"#)
            #expect(lab.status == .unprocessableEntity && lab.errorFields == ["date"], "\(lab.text)")
            #expect(lab.text.contains("1960-11-01") && lab.text.contains("1970-05-20"))
            let medication = try await r.send(.POST, "/api/v1/patients/\(patient)/medications", as: "clinA",
                                              json: #"{"drug": "warfarin", "doseMg": 2.5, "frequency": "daily", "route": "oral", "start": "1969-01-01"}"#)
            #expect(medication.status == .unprocessableEntity && medication.errorFields == ["start"], "\(medication.text)")
            #expect(before == (try await LabRecord.query(on: r.app.db).count(), try await MedicationRecord.query(on: r.app.db).count()))
            let onTheDay = try await r.send(.POST, "/api/v1/patients/\(patient)/labs", as: "clinA", json: #"{"test": "calcium", "value": 9.1, "unit": "mg/dL", "date": "1970-05-20"}"#)
            #expect(onTheDay.status == .created, "\(onTheDay.text)")

            // FHIR create: a 422 OperationOutcome naming the field and the birth date.
            let fhir = try await r.send(.POST, "/fhir/Observation", as: "clinA", json: FHIRWriteTests.calcium(subject: "Patient/\(patient)", date: "1960-11-01"),
                                        headers: ["Content-Type": "application/fhir+json"])
            #expect(fhir.status == .unprocessableEntity && fhir["resourceType"] == "OperationOutcome", "\(fhir.text)")
            #expect(fhir.text.contains("registry field date") && fhir.text.contains("1970-05-20"), "\(fhir.text)")

            // Import: the early Observation is rejected with its reason, the rest is written.
            let dir = NSTemporaryDirectory() + "birth-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let lines = [FHIRWriteTests.patient("BB-1", id: "src-bb1"), FHIRWriteTests.calcium(subject: "Patient/src-bb1", date: "1960-11-01"),
                         FHIRWriteTests.calcium(subject: "Patient/src-bb1", date: "2026-11-01")].map { $0.replacingOccurrences(of: "\n", with: " ") }
            try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/resources.ndjson", atomically: true, encoding: .utf8)
            let summary = try await FHIRImport.run(paths: [dir], on: r.app.db, options: FHIRImport.Options(chunkSize: 10, today: TestRegistry.today, actor: "test-import"))
            #expect(summary.created == 2 && summary.rejected.count == 1, "\(summary)")
            #expect(summary.rejected.first?.position == "line 2" && summary.rejected.first?.issues.first?.contains("before the patient's birth date (1970-05-20)") == true,
                    "\(summary.rejected)")
        }
    }

    /// BirthDateCheck the other way: a birth date moved after a stored record's date would leave
    /// that record before birth (the engine's case as of it would have no patient). Refused
    /// naming birthDate, the record and its date, through the JSON API and a FHIR Patient update;
    /// the patient is unchanged. A birth date moved earlier, or still before every record, is fine.
    @Test("A birth date changed to after a stored record's date is refused naming both, through the JSON API and FHIR")
    func birthDateAfterStoredRecords() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient()   // born 1970-05-20
            let lab = try await r.send(.POST, "/api/v1/patients/\(patient)/labs", as: "clinA", json: #"{"test": "calcium", "value": 9.1, "unit": "mg/dL", "date": "1980-01-01"}"#)
            #expect(lab.status == .created, "\(lab.text)")
            func body(_ born: String) -> String {
                #"{"siteId": "\#(r.siteA.uuidString)", "mrn": "MRN-1", "familyName": "Doe", "givenName": "Jane", "sex": "female", "birthDate": "\#(born)"}"#
            }
            let later = try await r.send(.PUT, "/api/v1/patients/\(patient)", as: "clinA", json: body("1985-01-01"), headers: ["If-Match": "1"])
            #expect(later.status == .unprocessableEntity && later.errorFields == ["birthDate"], "\(later.text)")
            #expect(later.text.contains("lab result \(lab.id)") && later.text.contains("1980-01-01") && later.text.contains("1985-01-01"), "\(later.text)")
            let stored = try await Patient.find(UUID(uuidString: patient)!, on: r.app.db)
            #expect(stored?.birthDate == "1970-05-20" && stored?.version == 1)
            // FHIR: the same refusal as an OperationOutcome; a deleted record does not count.
            let fhir = try await r.send(.PUT, "/fhir/Patient/\(patient)", as: "clinA",
                                        json: FHIRWriteTests.patient("MRN-1").replacingOccurrences(of: "1970-05-20", with: "1990-02-02")
                                            .replacingOccurrences(of: #"{"resourceType": "Patient""#, with: #"{"resourceType": "Patient", "id": "\#(patient)""#),
                                        headers: ["Content-Type": "application/fhir+json"])
            #expect(fhir.status == .unprocessableEntity && fhir["resourceType"] == "OperationOutcome" && fhir.text.contains("1980-01-01"), "\(fhir.text)")
            #expect(try await Patient.find(UUID(uuidString: patient)!, on: r.app.db)?.birthDate == "1970-05-20")
            // Earlier, or later but still before the lab: accepted.
            let earlier = try await r.send(.PUT, "/api/v1/patients/\(patient)", as: "clinA", json: body("1965-03-03"), headers: ["If-Match": "1"])
            #expect(earlier.status == .ok, "\(earlier.text)")
            let stillBefore = try await r.send(.PUT, "/api/v1/patients/\(patient)", as: "clinA", json: body("1979-12-31"), headers: ["If-Match": "2"])
            #expect(stillBefore.status == .ok, "\(stillBefore.text)")
            // Once the lab is deleted nothing stands in the way.
            #expect(try await r.send(.DELETE, "/api/v1/labs/\(lab.id)", as: "clinA", headers: ["If-Match": lab.etag]).status == .noContent)
            let afterDelete = try await r.send(.PUT, "/api/v1/patients/\(patient)", as: "clinA", json: body("1985-01-01"), headers: ["If-Match": "3"])
            #expect(afterDelete.status == .ok, "\(afterDelete.text)")
        }
    }

    /// Found by schemathesis: a lesion label starting with U+0000 was stored, read back by SQLite
    /// as "" (C strings end at NUL), and the summary refresh failed with a 500.
    @Test("A string with a NUL character is a 422 naming the field; nothing is written")
    func nulCharacterRefused() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient()
            let before = try await LesionRecord.query(on: r.app.db).count()
            let reply = try await r.send(.POST, "/api/v1/patients/\(patient)/lesions", as: "clinA",
                                         json: #"{"label": "\u0000thigh", "site": "thigh", "laterality": "right"}"#)
            #expect(reply.status == .unprocessableEntity && reply.errorFields == ["label"], "\(reply.text)")
            #expect(reply.text.contains("U+0000"))
            let visit = try await r.send(.POST, "/api/v1/patients/\(patient)/visits", as: "clinA", json: #"{"date": "2026-09-01", "note": "a\u0000b"}"#)
            #expect(visit.status == .unprocessableEntity && visit.errorFields == ["note"], "\(visit.text)")
            // A case field (the drug, checked by the case decoder) too; schemathesis found it as a 500.
            let medication = try await r.send(.POST, "/api/v1/patients/\(patient)/medications", as: "clinA", json: #"{"drug": "\u0000$mJ"}"#)
            #expect(medication.status == .unprocessableEntity && medication.errorFields == ["drug"], "\(medication.text)")
            #expect(try await MedicationRecord.query(on: r.app.db).count() == 0)
            #expect(try await LesionRecord.query(on: r.app.db).count() == before)
        }
    }

    @Test("A lab is stored as entered and normalised, with its LOINC code [clinical-spec 12.4]")
    func labNormalised() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient()
            let reply = try await r.send(.POST, "/api/v1/patients/\(patient)/labs", as: "clinA", json: #"{"test": "calcium", "value": 2.5, "unit": "mmol/L", "date": "2026-11-01"}"#)
            #expect(reply["unit"] == "mmol/L" && reply["value"] == .number(2.5))
            #expect(reply["unitNormalised"] == "mg/dL")
            // 1 mmol/L calcium = 4.008 mg/dL (molar mass 40.08 g/mol).
            if case .number(let v)? = reply["valueNormalised"] { #expect(abs(v - 10.02) < 0.01) } else { Issue.record("no valueNormalised") }
            #expect(reply["loinc"] == "2000-8")
        }
    }

    @Test("A write that fails half-way leaves nothing: record, summary and audit roll back together")
    func atomicWrite() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient()
            let before = (try await LesionRecord.query(on: r.app.db).count(), try await r.auditCount())
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await AuditLog.write(on: r.app.db, actor: .system("test")) { tx in
                    let lesion = LesionRecord()
                    try lesion.apply(JSONObject([("label", "x")]), today: TestRegistry.today)
                    lesion.patientID = UUID(uuidString: patient)!
                    lesion.version = 1; lesion.createdBy = "t"; lesion.updatedBy = "t"
                    try await lesion.create(on: tx)
                    throw Boom()
                    return ((), [AuditEvent(action: "create", resourceType: "lesions")])
                }
            }
            #expect(before == (try await LesionRecord.query(on: r.app.db).count(), try await r.auditCount()))
        }
    }

    @Test("Dates outside 1900-2199 and an asOf before birth are 422, never a server error (found by schemathesis)")
    func dateBounds() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient()
            let ancient = try await r.send(.POST, "/api/v1/patients/\(patient)/medications", as: "clinA", json: #"{"drug": "aspirin", "start": "0001-01-01"}"#)
            #expect(ancient.status == .unprocessableEntity && ancient.errorFields == ["start"])
            let history = try await r.send(.PUT, "/api/v1/patients/\(patient)", as: "clinA", json: """
                {"siteId": "\(r.siteA.uuidString)", "mrn": "MRN-1", "familyName": "Doe", "givenName": "Jane", "sex": "female",
                 "ssc": {"diagnosisDate": "0003"}}
                """, headers: ["If-Match": "1"])
            #expect(history.status == .unprocessableEntity && history.errorFields == ["ssc.diagnosisDate"])
            let beforeBirth = try await r.send(.GET, "/api/v1/patients/\(patient)/assessment?asOf=1900-01-01", as: "clinA")
            #expect(beforeBirth.status == .unprocessableEntity && beforeBirth.errorFields == ["asOf"])
            let farFuture = try await r.send(.GET, "/api/v1/patients/\(patient)/assessment?asOf=9999-12-31", as: "research")
            #expect(farFuture.status == .unprocessableEntity && farFuture.errorFields == ["asOf"])
            let badLimit = try await r.send(.GET, "/api/v1/audit?limit=abc", as: "admin")
            #expect(badLimit.status == .unprocessableEntity && badLimit.errorFields == ["limit"])
        }
    }
}
