@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import SQLKit
import Testing
import VaporTesting

/// A MedicationStatement's holds (its "held from ..." notes) are found again when the statement
/// is written again: by an import rerun, a PUT of the statement or a conditional update. A stored
/// medication's hold is the one with the same start; nothing is created twice.
@Suite(.serialized) struct FHIRStatementHoldsTests {
    static func statement(subject: String, id: String? = nil, holdEnd: String = "2026-01-10", identifier: Bool = false) -> String {
        FHIRBatchEntryTests.statement(subject: subject, id: id)
            .replacingOccurrences(of: #", {"text": "held from 2026-11-10 to 2026-11-01: sepsis"}"#, with: "")
            .replacingOccurrences(of: "to 2026-01-10: surgery", with: "to \(holdEnd): surgery")
            .replacingOccurrences(of: #""status": "active","#, with: identifier ? #""status": "active", "identifier": [{"system": "urn:oid:9.9", "value": "med-1"}],"# : #""status": "active","#)
    }

    @Test func reimportingAStatementWithHoldsCreatesNoSecondHold() async throws {
        try await TestRegistry.run { r in
            let dir = NSTemporaryDirectory() + "fhir-holds-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let statement = Self.statement(subject: "Patient/src-be4", id: "src-med4")
            let lines = [FHIRWriteTests.patient("BE-4", id: "src-be4"), statement].map { $0.replacingOccurrences(of: "\n", with: " ") }
            try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/resources.ndjson", atomically: true, encoding: .utf8)
            let options = FHIRImport.Options(chunkSize: 10, today: TestRegistry.today, actor: "test-import")
            let first = try await FHIRImport.run(paths: [dir], on: r.app.db, options: options)
            #expect(first.rejected.isEmpty, "\(first.rejected)")
            #expect(try await HoldRecord.query(on: r.app.db).count() == 1)
            try await (r.app.db as! any SQLDatabase).raw("DELETE FROM fhir_import_progress").run()
            let second = try await FHIRImport.run(paths: [dir], on: r.app.db, options: options)
            #expect(second.created == 0, "\(second)")
            #expect(try await MedicationRecord.query(on: r.app.db).count() == 1)
            #expect(try await HoldRecord.query(on: r.app.db).count() == 1)
        }
    }

    @Test func aPutOrConditionalUpdateOfAStatementFindsItsHolds() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient(mrn: "SH-1")
            let created = try await r.send(.POST, "/fhir/MedicationStatement", as: "clinA", json: Self.statement(subject: "Patient/\(patient)", identifier: true),
                                           headers: ["Content-Type": "application/fhir+json"])
            #expect(created.status == .created, "\(created.text)")
            let id = String((created.headers.first(name: .location) ?? "").split(separator: "/").dropFirst().first ?? "")
            #expect(try await HoldRecord.query(on: r.app.db).count() == 1)
            // The same statement PUT back (If-Match is the statement's version, not the hold's).
            let put = try await r.send(.PUT, "/fhir/MedicationStatement/\(id)", as: "clinA", json: Self.statement(subject: "Patient/\(patient)", id: id, identifier: true),
                                       headers: ["Content-Type": "application/fhir+json", "If-Match": "W/\"1\""])
            #expect(put.status == .ok, "\(put.text)")
            #expect(try await HoldRecord.query(on: r.app.db).count() == 1)
            // A conditional update that moves the hold's end updates that hold.
            let conditional = try await r.send(.PUT, "/fhir/MedicationStatement?identifier=urn:oid:9.9|med-1", as: "clinA",
                                               json: Self.statement(subject: "Patient/\(patient)", holdEnd: "2026-01-20", identifier: true),
                                               headers: ["Content-Type": "application/fhir+json"])
            #expect(conditional.status == .ok, "\(conditional.text)")
            let holds = try await HoldRecord.query(on: r.app.db).all()
            #expect(holds.count == 1)
            #expect(holds.first?.end == "2026-01-20")
            #expect(holds.first?.version == 2)
            // A new hold note with If-Match: the hold is created (the precondition is the statement's).
            let added = Self.statement(subject: "Patient/\(patient)", id: id, holdEnd: "2026-01-20", identifier: true)
                .replacingOccurrences(of: #""note": ["#, with: #""note": [{"text": "held from 2026-03-01 (no end date): infection"}, "#)
            let withNew = try await r.send(.PUT, "/fhir/MedicationStatement/\(id)", as: "clinA", json: added,
                                           headers: ["Content-Type": "application/fhir+json", "If-Match": "W/\"3\""])
            #expect(withNew.status == .ok, "\(withNew.text)")
            #expect(try await HoldRecord.query(on: r.app.db).count() == 2)
            #expect(try await MedicationRecord.query(on: r.app.db).count() == 1)
        }
    }

    /// The notes are the statement's whole list of holds (Outbound writes every hold as one): an
    /// update without a hold's note deletes that hold, with an audit entry, a deleted version in its
    /// history, and an information issue naming it. Before, the hold stayed, and the engine kept
    /// counting a hold the source had withdrawn.
    @Test func anUpdateThatNoLongerListsAHoldDeletesIt() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient(mrn: "SH-2")
            let created = try await r.send(.POST, "/fhir/MedicationStatement", as: "clinA", json: Self.statement(subject: "Patient/\(patient)"),
                                           headers: ["Content-Type": "application/fhir+json"])
            #expect(created.status == .created, "\(created.text)")
            let id = String((created.headers.first(name: .location) ?? "").split(separator: "/").dropFirst().first ?? "")
            let hold = try #require(try await HoldRecord.query(on: r.app.db).first())
            let withoutNote = Self.statement(subject: "Patient/\(patient)", id: id)
                .replacingOccurrences(of: #""note": [{"text": "held from 2026-01-01 to 2026-01-10: surgery"}],"#, with: "")
            #expect(!withoutNote.contains("held from"))
            let put = try await r.send(.PUT, "/fhir/MedicationStatement/\(id)", as: "clinA", json: withoutNote,
                                       headers: ["Content-Type": "application/fhir+json", "If-Match": "W/\"1\"", "Prefer": "return=OperationOutcome"])
            #expect(put.status == .ok, "\(put.text)")
            #expect(put.text.contains("the hold from 2026-01-01 to 2026-01-10 is deleted"), "\(put.text)")
            #expect(try await HoldRecord.query(on: r.app.db).count() == 0)
            #expect(try await MedicationRecord.query(on: r.app.db).count() == 1)
            let versions = try await ResourceHistory.versions(kind: RegistryRecordKind.hold.rawValue, id: hold.id!, on: r.app.db)
            #expect(versions.first?.deleted == true)
            let audits = try await AuditEntry.query(on: r.app.db).filter(\.$action == "delete").filter(\.$resourceID == hold.id!.lowercasedString).count()
            #expect(audits == 1)
            // The statement read back has no hold note.
            let read = try await r.send(.GET, "/fhir/MedicationStatement/\(id)", as: "clinA")
            #expect(!read.text.contains("held from"), "\(read.text)")
        }
    }

    /// An unchanged re-import changes nothing, so a hold entered in CalciTrack since stays.
    @Test func anUnchangedReimportKeepsAHoldEnteredSince() async throws {
        try await TestRegistry.run { r in
            let dir = NSTemporaryDirectory() + "fhir-holds-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let lines = [FHIRWriteTests.patient("SH-3", id: "src-sh3"), Self.statement(subject: "Patient/src-sh3", id: "src-med-sh3")]
                .map { $0.replacingOccurrences(of: "\n", with: " ") }
            try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/resources.ndjson", atomically: true, encoding: .utf8)
            let options = FHIRImport.Options(chunkSize: 10, today: TestRegistry.today, actor: "test-import")
            _ = try await FHIRImport.run(paths: [dir], on: r.app.db, options: options)
            let medication = try #require(try await MedicationRecord.query(on: r.app.db).first())
            let added = try await r.send(.POST, "/api/v1/medications/\(medication.id!.lowercasedString)/holds", as: "clinA",
                                         json: #"{"start": "2026-05-01", "end": "2026-05-05", "reason": "dental extraction"}"#)
            #expect(added.status == .created, "\(added.text)")
            try await (r.app.db as! any SQLDatabase).raw("DELETE FROM fhir_import_progress").run()
            let again = try await FHIRImport.run(paths: [dir], on: r.app.db, options: options)
            #expect(again.unchanged == 2, "\(again)")
            #expect(try await HoldRecord.query(on: r.app.db).count() == 2)
        }
    }

    /// A hold written through the JSON API is part of its MedicationStatement (status on-hold, a
    /// note): each write is a new version of the medication, so the statement's versionId, ETag,
    /// history and `_since` export show it; a FHIR write of the statement is one version, not two.
    @Test func aHoldWrittenThroughTheAPIIsANewVersionOfItsStatement() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient(mrn: "SH-9")
            let medication = try await r.send(.POST, "/api/v1/patients/\(patient)/medications", as: "clinA",
                                              json: #"{"drug": "mycophenolate", "doseMg": 1000, "frequency": "bid", "route": "oral", "start": "2025-01-01"}"#)
            #expect(medication.status == .created, "\(medication.text)")
            let med = medication.id.lowercased()
            func statement() async throws -> TestRegistry.Reply { try await r.send(.GET, "/fhir/MedicationStatement/\(med)", as: "clinA") }
            #expect(try await statement()["meta"]?["versionId"] == "1")
            try await Task.sleep(for: .milliseconds(20))
            let since = ISOTimestamp.isoMillis(Date())
            try await Task.sleep(for: .milliseconds(20))

            let hold = try await r.send(.POST, "/api/v1/medications/\(med)/holds", as: "clinA",
                                        json: #"{"start": "2020-01-01", "reason": "severe infection"}"#)
            #expect(hold.status == .created, "\(hold.text)")
            let held = try await statement()
            #expect(held["meta"]?["versionId"] == "2" && held.headers.first(name: .eTag) == "W/\"2\"", "\(held.text)")
            #expect(held["status"] == "on-hold")
            let history = try await r.send(.GET, "/fhir/MedicationStatement/\(med)/_history", as: "clinA")
            #expect(history["total"] == 2, "\(history.text)")
            // The _since export carries the changed statement.
            let started = try await r.send(.GET, "/fhir/$export?_type=MedicationStatement&_since=\(since)", as: "clinA", headers: FHIRBulkExportTests.kickoffHeaders)
            let exported = try await FHIRBulkExportTests().exported(r, started, "MedicationStatement")
            #expect(exported.compactMap { $0["id"]?.stringValue } == [med], "since \(since)")

            #expect(try await r.send(.PUT, "/api/v1/holds/\(hold.id)", as: "clinA", json: #"{"start": "2020-01-01", "end": "2020-02-01", "reason": "severe infection"}"#,
                                     headers: ["If-Match": VersionCheck.etag(1)]).status == .ok)
            let ended = try await statement()
            #expect(ended["meta"]?["versionId"] == "3" && ended["status"] == "active", "\(ended.text)")
            #expect(try await r.send(.DELETE, "/api/v1/holds/\(hold.id)", as: "clinA", headers: ["If-Match": VersionCheck.etag(2)]).status == .noContent)
            #expect(try await statement()["meta"]?["versionId"] == "4")
            #expect(try await r.send(.GET, "/api/v1/medications/\(med)", as: "clinA").etag == VersionCheck.etag(4))
            let audit = try await AuditEntry.query(on: r.app.db).filter(\.$resourceType == "medications").filter(\.$action == "update").all()
            #expect(audit.count == 3 && audit.allSatisfy { $0.detail.contains("changed: holds") }, "\(audit.map(\.detail))")

            // A FHIR update of the statement that changes its hold: one version.
            var body = try await statement().json
            if case .object(var object) = body {
                object["note"] = .array([.object(JSONObject([("text", "held from 2026-03-01 to 2026-03-05: dental extraction")]))])
                object["meta"] = nil
                body = .object(object)
            }
            let put = try await r.send(.PUT, "/fhir/MedicationStatement/\(med)", as: "clinA", json: JSONWriter.write(body, pretty: false),
                                       headers: ["Content-Type": "application/fhir+json", "If-Match": "W/\"4\""])
            #expect(put.status == .ok, "\(put.text)")
            #expect(try await statement()["meta"]?["versionId"] == "5")
            #expect(try await HoldRecord.query(on: r.app.db).count() == 1)
        }
    }
}
