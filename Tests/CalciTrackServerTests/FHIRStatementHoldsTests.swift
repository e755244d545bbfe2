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
}
