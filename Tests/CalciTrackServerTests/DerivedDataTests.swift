@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import SQLKit
import Testing
import VaporTesting

/// Derived data that spares the hot reads work must never disagree with the records: the case
/// sections stored with each patient (migration 008) and the cached worklist counts
/// (WorklistCache, valid per data version).
@Suite(.serialized) struct DerivedDataTests {
    @Test("Stored case sections equal the sections built from the records after creates, updates and deletes; the assessment reads them and cuts measurements at asOf [008]")
    func caseRecordsStayCurrent() async throws {
        try await TestRegistry.run { r in
            let id = try await r.createPatient()
            let lesion = try await r.send(.POST, "/api/v1/patients/\(id)/lesions", as: "clinA", json: #"{"label": "tibia", "site": "lower-leg", "laterality": "right"}"#)
            _ = try await r.send(.POST, "/api/v1/lesions/\(lesion.id)/measurements", as: "clinA", json: #"{"date": "2026-06-01", "lengthCm": 3, "widthCm": 2}"#)
            let later = try await r.send(.POST, "/api/v1/lesions/\(lesion.id)/measurements", as: "clinA", json: #"{"date": "2026-09-01", "lengthCm": 2, "widthCm": 1.5}"#)
            let lab = try await r.send(.POST, "/api/v1/patients/\(id)/labs", as: "clinA", json: #"{"test": "crp", "value": 12, "unit": "mg/L", "date": "2026-09-01"}"#)
            _ = try await r.send(.POST, "/api/v1/patients/\(id)/medications", as: "clinA", json: #"{"drug": "diltiazem", "doseMg": 120, "frequency": "daily", "start": "2026-06-01"}"#)
            let updated = try await r.send(.PUT, "/api/v1/measurements/\(later.id)", as: "clinA", json: #"{"date": "2026-09-01", "lengthCm": 1, "widthCm": 1, "healed": true}"#,
                                           headers: ["If-Match": later.etag])
            #expect(updated.status == .ok, "\(updated.text)")
            let deleted = try await r.send(.DELETE, "/api/v1/labs/\(lab.id)", as: "clinA", headers: ["If-Match": lab.etag])
            #expect(deleted.status == .noContent, "\(deleted.text)")

            let uuid = UUID(uuidString: id)!
            let patient = try #require(try await Patient.find(uuid, on: r.app.db))
            let built = RegistryCase.recordSections(try await RegistryCase.records(of: uuid, on: r.app.db))
            let stored = try await RegistryCase.storedSections(of: uuid, on: r.app.db)
            #expect(stored == JSONWriter.write(.object(built), pretty: false))
            #expect(stored?.contains(#""healed":true"#) == true, "the update is in the stored sections")
            #expect(stored?.contains("crp") == false, "the deleted lab is gone from them")

            // The same case from the stored sections and from the records (rows without sections).
            let asOf = LocalDate(iso: "2026-07-01")!
            let (loaded, sections) = try #require(try await RegistryCase.patientWithSections(uuid, on: r.app.db))
            #expect(sections == stored)
            let viaStored = try await RegistryCase.json(patient: loaded, sections: sections, asOf: asOf, on: r.app.db)
            let viaRecords = RegistryCase.json(patient: patient, records: try await RegistryCase.records(of: uuid, on: r.app.db), asOf: asOf)
            #expect(viaStored == viaRecords)
            // Without a stored row (a patient stored before 008 and not yet filled) the records are read.
            try await (r.app.db as! any SQLDatabase).raw("DELETE FROM patient_case_records WHERE patient_id = \(bind: uuid)").run()
            let (same, none) = try #require(try await RegistryCase.patientWithSections(uuid, on: r.app.db))
            #expect(none == nil)
            #expect(try await RegistryCase.json(patient: same, sections: none, asOf: asOf, on: r.app.db) == viaRecords)
            // Case format: no measurement after asOf (the 2026-09-01 one is cut).
            #expect(viaStored["lesions"].items.first?["measurements"].items.count == 1)

            let assessment = try await r.send(.GET, "/api/v1/patients/\(id)/assessment", as: "clinA")
            #expect(assessment.status == .ok)
            #expect(assessment["lesions"].items.first?["healed"] == .bool(true), "\(assessment.text)")
        }
    }

    @Test("calcitrack generate stores the same case sections the server builds from the records it wrote")
    func generatedSectionsMatchRecords() async throws {
        try await TestRegistry.run { r in
            _ = try await SyntheticRegistry.generate(on: r.app.db, options: .init(patients: 40, seed: 3, today: TestRegistry.today, batchSize: 16))
            let ids = try await Patient.query(on: r.app.db).all().compactMap(\.id)
            #expect(ids.count == 40)
            let records = try await RegistryCase.records(ofPatients: ids, on: r.app.db)
            for id in ids {
                let built = JSONWriter.write(.object(RegistryCase.recordSections(records[id] ?? .empty)), pretty: false)
                #expect(try await RegistryCase.storedSections(of: id, on: r.app.db) == built, "\(id)")
            }
        }
    }

    @Test("Migration 011 fills the case sections (table of 008) and the worklist flags of patients stored before them")
    func migrationBackfills() async throws {
        try await TestRegistry.run { r in
            let id = try await r.createPatient()
            _ = try await r.send(.POST, "/api/v1/patients/\(id)/visits", as: "clinA", json: #"{"date": "2026-09-01", "kind": "clinic", "nextDue": "2026-12-01"}"#)
            let uuid = UUID(uuidString: id)!
            let before = try await RegistryCase.storedSections(of: uuid, on: r.app.db)
            #expect(before?.contains("2026-12-01") == true)
            // An open infection with a febrile visit: a positive sepsis screen today.
            _ = try await r.send(.POST, "/api/v1/patients/\(id)/infection-episodes", as: "clinA", json: #"{"onset": "2026-09-01", "outcome": "ongoing"}"#)
            _ = try await r.send(.POST, "/api/v1/patients/\(id)/vitals", as: "clinA", json: #"{"date": "2026-09-01", "temperatureC": 39, "heartRate": 120}"#)
            let stored = try await Patient.find(uuid, on: r.app.db)!
            let sections = try await RegistryCase.storedSections(of: uuid, on: r.app.db)
            // On one connection: SQLite parses ADD COLUMN against the schema the connection last
            // loaded, so a pooled connection that did not see the revert reports a duplicate column.
            try await r.app.db.withConnection { db in
                try await FindingsHistoryAndWorklistFlags().revert(on: db)
                try await CaseRecordsAndDataVersion().revert(on: db)
                try await CaseRecordsAndDataVersion().prepare(on: db)
                try await FindingsHistoryAndWorklistFlags().prepare(on: db)
            }
            #expect(try await RegistryCase.storedSections(of: uuid, on: r.app.db) == sections)
            let filled = try await Patient.find(uuid, on: r.app.db)!
            #expect(filled.sepsisScreenPositive && filled.sepsisScreen == stored.sepsisScreen && filled.sepsisScreen == "SIRS 2/4: temperature, heart rate")
        }
    }

    @Test("Worklist totals follow every write, also one made by another server process on the same database; overdue lists most overdue first")
    func worklistTotalsFollowWrites() async throws {
        try await TestRegistry.run { r in
            // Overdue on 2026-11-24: nextDue more than 30 days past (case-format follow-up rule).
            let first = try await r.createPatient(mrn: "FIRST")
            _ = try await r.send(.POST, "/api/v1/patients/\(first)/visits", as: "clinA", json: #"{"date": "2026-09-01", "kind": "clinic", "nextDue": "2026-10-01"}"#)
            func page(_ query: String) async throws -> (total: Double?, mrns: [String]) {
                let reply = try await r.send(.GET, "/api/v1/patients?\(query)", as: "clinA")
                guard case .array(let items)? = reply["items"] else { Issue.record("\(query): \(reply.text)"); return (nil, []) }
                guard case .number(let total)? = reply["total"] else { Issue.record("\(query): \(reply.text)"); return (nil, []) }
                return (total, items.compactMap { $0["mrn"]?.stringValue })
            }
            #expect(try await page("followUp=overdue").total == 1)
            #expect(try await page("followUp=overdue&limit=1&offset=1") == (1, []))

            let second = try await r.createPatient(mrn: "SECOND")
            _ = try await r.send(.POST, "/api/v1/patients/\(second)/visits", as: "clinA", json: #"{"date": "2026-08-01", "kind": "clinic", "nextDue": "2026-09-15"}"#)
            #expect(try await page("followUp=overdue") == (2, ["SECOND", "FIRST"]), "more overdue first")

            // Another process writes through the same audited transaction, not through this server
            // (with the derived columns its PatientSummary would store: nothing due, so "ok").
            try await AuditLog.write(on: r.app.db, actor: .system("other-process")) { tx in
                try await (tx as! any SQLDatabase).raw("""
                    UPDATE patients SET next_due = NULL, follow_up_status = 'ok', worklist_tier = 9, standing_until = NULL WHERE mrn = 'FIRST'
                    """).run()
                return ((), [AuditEvent(action: "update", resourceType: "patients", patientID: first.lowercased())])
            }
            #expect(try await page("followUp=overdue") == (1, ["SECOND"]))
            // The same query by a researcher is answered de-identified, never from the clinician's page.
            let research = try await r.send(.GET, "/api/v1/patients?followUp=overdue", as: "research")
            #expect(research.status == .ok && research["total"] == .number(1))
            #expect(!research.text.contains("SECOND") && !research.text.contains("Doe"), "\(research.text)")
        }
    }
}

private extension Optional<JSONValue> {
    var items: [JSONValue] { if case .array(let items)? = self { items } else { [] } }
}
