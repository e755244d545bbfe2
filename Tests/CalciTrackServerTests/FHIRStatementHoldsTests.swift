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
            let id = created.locationID
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
            let id = created.locationID
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

    /// A statement is its medication and its holds, so each stored version shows the holds it
    /// had (FHIR R4 http.html#vread: a version is the resource as it was). Before, every version
    /// showed today's holds: a vread of the version before a hold showed the hold, and one of the
    /// held version showed none once the hold was deleted.
    @Test func eachVersionOfAStatementShowsTheHoldsItHad() async throws {
        try await TestRegistry.run { r in
            func notes(_ path: String) async throws -> [String] {
                let reply = try await r.send(.GET, path, as: "clinA")
                #expect(reply.status == .ok, "\(path): \(reply.text)")
                guard case .array(let items)? = reply["note"] else { return [] }
                return items.compactMap { $0["text"]?.stringValue }
            }
            // Through the JSON API: version 1 without a hold, 2 held, 3 the hold ended, 4 deleted.
            let patient = try await r.createPatient(mrn: "SH-V")
            let med = try await r.send(.POST, "/api/v1/patients/\(patient)/medications", as: "clinA",
                                       json: #"{"drug": "mycophenolate", "doseMg": 1000, "frequency": "bid", "route": "oral", "start": "2025-01-01"}"#).id.lowercased()
            let hold = try await r.send(.POST, "/api/v1/medications/\(med)/holds", as: "clinA", json: #"{"start": "2020-01-01", "reason": "severe infection"}"#)
            #expect(try await r.send(.PUT, "/api/v1/holds/\(hold.id)", as: "clinA", json: #"{"start": "2020-01-01", "end": "2020-02-01", "reason": "severe infection"}"#,
                                     headers: ["If-Match": VersionCheck.etag(1)]).status == .ok)
            #expect(try await r.send(.DELETE, "/api/v1/holds/\(hold.id)", as: "clinA", headers: ["If-Match": VersionCheck.etag(2)]).status == .noContent)
            let path = "/fhir/MedicationStatement/\(med)"
            #expect(try await notes("\(path)/_history/1") == [])
            #expect(try await notes("\(path)/_history/2") == ["held from 2020-01-01 (no end date): severe infection"])
            #expect(try await r.send(.GET, "\(path)/_history/2", as: "clinA")["status"] == "on-hold")
            #expect(try await notes("\(path)/_history/3") == ["held from 2020-01-01 to 2020-02-01: severe infection"])
            #expect(try await notes("\(path)/_history/4") == [])
            #expect(try await notes(path) == [])
            // The instance history lists the same, newest first.
            let history = try await r.send(.GET, "\(path)/_history", as: "clinA")
            guard case .array(let entries)? = history["entry"] else { Issue.record("no entries: \(history.text)"); return }
            #expect(entries.map { entry -> Int in
                if case .array(let n)? = entry["resource"]?["note"] { return n.count } else { return 0 }
            } == [0, 1, 1, 0])

            // Through FHIR: a PUT that adds a hold (version 5), then one that drops it (version 6).
            var current = try await r.send(.GET, path, as: "clinA").json
            if case .object(var object) = current {
                object["meta"] = nil
                object["note"] = .array([.object(JSONObject([("text", "held from 2026-03-01 to 2026-03-05: dental extraction")]))])
                current = .object(object)
            }
            #expect(try await r.send(.PUT, path, as: "clinA", json: JSONWriter.write(current, pretty: false),
                                     headers: ["Content-Type": "application/fhir+json", "If-Match": "W/\"4\""]).status == .ok)
            if case .object(var object) = current { object["note"] = nil; current = .object(object) }
            #expect(try await r.send(.PUT, path, as: "clinA", json: JSONWriter.write(current, pretty: false),
                                     headers: ["Content-Type": "application/fhir+json", "If-Match": "W/\"5\""]).status == .ok)
            #expect(try await notes("\(path)/_history/5") == ["held from 2026-03-01 to 2026-03-05: dental extraction"])
            #expect(try await notes("\(path)/_history/6") == [])
            #expect(try await notes("\(path)/_history/4") == [])

            // Through the import: a statement created with its hold has it in version 1, and keeps
            // it there after a PUT that drops the hold.
            let dir = NSTemporaryDirectory() + "fhir-holds-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let lines = [FHIRWriteTests.patient("SH-W", id: "src-shw"), Self.statement(subject: "Patient/src-shw", id: "src-medw")]
                .map { $0.replacingOccurrences(of: "\n", with: " ") }
            try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/resources.ndjson", atomically: true, encoding: .utf8)
            let summary = try await FHIRImport.run(paths: [dir], on: r.app.db, options: FHIRImport.Options(chunkSize: 10, today: TestRegistry.today, actor: "test-import"))
            #expect(summary.rejected.isEmpty, "\(summary.rejected)")
            let imported = try await MedicationRecord.query(on: r.app.db).filter(\.$id != UUID(uuidString: med)!).first()!.id!.lowercasedString
            let importedPath = "/fhir/MedicationStatement/\(imported)"
            #expect(try await notes("\(importedPath)/_history/1") == ["held from 2026-01-01 to 2026-01-10: surgery"])
            var importedBody = try await r.send(.GET, importedPath, as: "clinA").json
            if case .object(var object) = importedBody { object["meta"] = nil; object["note"] = nil; importedBody = .object(object) }
            #expect(try await r.send(.PUT, importedPath, as: "clinA", json: JSONWriter.write(importedBody, pretty: false),
                                     headers: ["Content-Type": "application/fhir+json", "If-Match": "W/\"1\""]).status == .ok)
            #expect(try await notes("\(importedPath)/_history/1") == ["held from 2026-01-01 to 2026-01-10: surgery"])
            #expect(try await notes("\(importedPath)/_history/2") == [])
        }
    }

    /// The demo's held mycophenolate (seed 1, HOLD-01) has its hold in version 1, and a drug
    /// stopped and held in one web visit has both in its new version (the stop writes the
    /// version, the hold comes after it in the same transaction).
    @Test func theDemoAndTheVisitFormVersionTheirHolds() async throws {
        try await WebUITests.run { r, b in
            var b = b
            _ = try await b.signIn("demoClin")
            let token = try await Accounts.issueToken(username: "demoClin", label: "t", actor: "test", on: r.app.db)
            func statement(_ path: String) async throws -> JSONValue {
                let reply = try await r.app.testing().sendRequest(.GET, path, headers: ["Authorization": "Bearer \(token)"])
                #expect(reply.status == .ok, "\(path)")
                return try JSONParser.parse(Array(reply.body.readableBytesView))
            }
            func notes(_ resource: JSONValue) -> [String] {
                guard case .array(let items)? = resource["note"] else { return [] }
                return items.compactMap { $0["text"]?.stringValue }
            }
            let mycophenolate = try await MedicationRecord.query(on: r.app.db).filter(\.$drug == "mycophenolate").first()!
            let held = "/fhir/MedicationStatement/\(mycophenolate.id!.lowercasedString)"
            #expect(notes(try await statement("\(held)/_history/1")) == ["held from 2023-09-01 (no end date): held during sepsis (HOLD-01)"])
            #expect(notes(try await statement("\(held)/_history/1")) == notes(try await statement(held)))

            let id = try await WebUITests.patientID(r, mrn: "SEED-2")
            let colchicine = try await MedicationRecord.query(on: r.app.db).filter(\.$drug == "colchicine").first()!
            let med = colchicine.id!.lowercasedString
            let form = try await b.get("/patients/\(id)/visits/new")
            let saved = try await b.submit("/patients/\(id)/visits", from: form, [
                ("_csrf", form.csrf ?? ""), ("visit_date", "2026-11-24"), ("visit_kind", "clinic"),
                ("stop_\(med)", "on"), ("hold_\(med)", "on"), ("hold_\(med)_reason", "diarrhoea")])
            #expect(saved.status == .seeOther, "\(saved.html.prefix(400))")
            let version = colchicine.version + 1
            let stopped = try await statement("/fhir/MedicationStatement/\(med)/_history/\(version)")
            #expect(stopped["effectivePeriod"]?["end"] == "2026-11-24")
            #expect(notes(stopped) == ["held from 2026-11-24 (no end date): diarrhoea"])
            #expect(notes(try await statement("/fhir/MedicationStatement/\(med)/_history/\(colchicine.version)")) == [])
        }
    }
}
