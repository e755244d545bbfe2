@testable import CalciTrackServer
import Fluent
import Foundation
import Testing

/// A registry's export writes each vitals row as one Observation per vital, with the derived id
/// "<row id>-<vital>" (docs/fhir.md "Identity"). A patient can have two rows on one day; the
/// import must rebuild each row from the Observations that name it. Before, a vital joined the
/// first row of the day it fitted: row B's respiratory rate and temperature went into row A,
/// and the export of the import no longer had the ids of the export it came from.
@Suite(.serialized) struct FHIRImportVitalsRowTests {
    static func vital(_ id: String, loinc: String, value: Double, unit: String, patient: String, date: String = "2026-11-02") -> String {
        """
        {"resourceType": "Observation", "id": "\(id)", "status": "final",
         "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
         "code": {"coding": [{"system": "http://loinc.org", "code": "\(loinc)"}]}, "subject": {"reference": "Patient/\(patient)"},
         "effectiveDateTime": "\(date)", "valueQuantity": {"value": \(value), "unit": "\(unit)", "system": "http://unitsofmeasure.org", "code": "\(unit)"}}
        """
    }

    @Test func twoRowsOfOneDayComeBackAsTheyWereExported() async throws {
        try await TestRegistry.run { r in
            let dir = NSTemporaryDirectory() + "fhir-vitals-rows-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let patient = UUID().lowercasedString, rowA = UUID().lowercasedString, rowB = UUID().lowercasedString
            // Row A: heart rate 70, temperature 36.7; row B: heart rate 71, respiratory rate 16, temperature 36.7.
            let observations = [
                Self.vital("\(rowA)-heart-rate", loinc: "8867-4", value: 70, unit: "/min", patient: patient),
                Self.vital("\(rowA)-temperature", loinc: "8310-5", value: 36.7, unit: "Cel", patient: patient),
                Self.vital("\(rowB)-heart-rate", loinc: "8867-4", value: 71, unit: "/min", patient: patient),
                Self.vital("\(rowB)-respiratory-rate", loinc: "9279-1", value: 16, unit: "/min", patient: patient),
                Self.vital("\(rowB)-temperature", loinc: "8310-5", value: 36.7, unit: "Cel", patient: patient),
            ]
            try (FHIRWriteTests.patient("V-1", id: patient).replacingOccurrences(of: "\n", with: " ") + "\n")
                .write(toFile: dir + "/Patient.ndjson", atomically: true, encoding: .utf8)
            try (observations.map { $0.replacingOccurrences(of: "\n", with: " ") }.joined(separator: "\n") + "\n")
                .write(toFile: dir + "/Observation.ndjson", atomically: true, encoding: .utf8)
            let summary = try await FHIRImport.run(paths: [dir + "/Patient.ndjson", dir + "/Observation.ndjson"], on: r.app.db,
                                                   options: FHIRImport.Options(today: TestRegistry.today, actor: "test-import"))
            #expect(summary.rejected.isEmpty, "\(summary.rejected)")
            let rows = try await VitalsRecord.query(on: r.app.db).all()
            let byID = Dictionary(uniqueKeysWithValues: rows.map { ($0.id!.lowercasedString, $0) })
            #expect(Set(byID.keys) == [rowA, rowB], "each row keeps the id its Observations name")
            #expect(byID[rowA]?.heartRate == 70)
            #expect(byID[rowA]?.respiratoryRate == nil, "row A had no respiratory rate: row B's went here before")
            #expect(byID[rowA]?.temperatureC == 36.7)
            #expect(byID[rowB]?.heartRate == 71)
            #expect(byID[rowB]?.respiratoryRate == 16)
            #expect(byID[rowB]?.temperatureC == 36.7, "row B's temperature equals row A's: it joined row A before")
        }
    }

    /// Observations of another system (ids that name no registry row) still make one row per
    /// day where they fit, as InboundMapping.mergeVitals does for a Bundle.
    @Test func foreignVitalsOfOneDayStillMakeOneRow() async throws {
        try await TestRegistry.run { r in
            let dir = NSTemporaryDirectory() + "fhir-vitals-foreign-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let lines = [FHIRWriteTests.patient("V-2", id: "ehr-p1"),
                         Self.vital("ehr-hr-1", loinc: "8867-4", value: 88, unit: "/min", patient: "ehr-p1"),
                         Self.vital("ehr-rr-1", loinc: "9279-1", value: 18, unit: "/min", patient: "ehr-p1")]
            try (lines.map { $0.replacingOccurrences(of: "\n", with: " ") }.joined(separator: "\n") + "\n")
                .write(toFile: dir + "/resources.ndjson", atomically: true, encoding: .utf8)
            let summary = try await FHIRImport.run(paths: [dir], on: r.app.db, options: FHIRImport.Options(today: TestRegistry.today, actor: "test-import"))
            #expect(summary.rejected.isEmpty, "\(summary.rejected)")
            let rows = try await VitalsRecord.query(on: r.app.db).all()
            #expect(rows.count == 1)
            #expect(rows.first?.heartRate == 88)
            #expect(rows.first?.respiratoryRate == 18)
        }
    }
}
