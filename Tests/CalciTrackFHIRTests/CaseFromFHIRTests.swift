@testable import CalciTrackFHIR
import CalciTrackCore
import Foundation
import XCTest

/// A set of FHIR resources → a case → the engine, against the seed cases of ../shared/cases and
/// FHIR written by a tool we did not write (PyPI carebundle 0.5.0).
final class CaseFromFHIRTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared")

    static func load(_ url: URL) throws -> JSONObject {
        guard case .object(let o) = try JSONParser.parse(Array(try Data(contentsOf: url))) else { throw CocoaError(.fileReadCorruptFile) }
        return o
    }

    /// Seed-1 at admission written as FHIR (Tests/CalciTrackFHIRTests/Fixtures, by hand from the
    /// case file) gives the same assessment as the case file, except what FHIR does not carry
    /// (the case's explicit `false` history flags and clinician infection inputs).
    func testSeed1FromFHIRMatchesTheCaseFile() throws {
        let bundle = try Self.load(Self.fixtures.appendingPathComponent("seed-1-admission.fhir.json"))
        let asOf = LocalDate(iso: "2023-09-01")!
        let build = CaseFromFHIR.build([bundle], asOf: asOf, today: asOf)
        XCTAssertEqual(build.patientID, "seed-1-admission")
        XCTAssertEqual(build.issues.filter { $0.severity == .error || $0.severity == .warning }, [], "\(build.issues)")
        let fromFHIR = try build.decoded.get()

        var caseFile = try Self.load(Self.shared.appendingPathComponent("cases/seed-1-admission.case.json"))
        caseFile["history"] = nil
        caseFile["infection"] = nil
        let fromFile = try CaseDecoder.decode(.object(caseFile), today: asOf)

        let a = AssessmentJSON.encode(Assessor().assess(fromFHIR))
        let b = AssessmentJSON.encode(Assessor().assess(fromFile))
        XCTAssertEqual(JSONWriter.write(a), JSONWriter.write(b))
        // And the clinically decisive parts, so a change to both sides cannot hide a regression.
        XCTAssertEqual(a["infection"]?["severity"], "severe")
        guard case .array(let alerts)? = a["alerts"] else { return XCTFail("no alerts") }
        XCTAssertTrue(alerts.contains { $0["id"] == "HOLD-01" })
    }

    /// carebundle's CKD stage 3 patient: labs it stores are taken (calcium, albumin, creatinine,
    /// eGFR, WBC), everything else is reported, and the case decodes.
    func testCarebundleCKDPatient() throws {
        let bundle = try Self.load(Self.fixtures.appendingPathComponent("carebundle-ckd_stage3-seed3.json"))
        let today = LocalDate(iso: "2026-11-24")!
        let build = CaseFromFHIR.build([bundle], asOf: today, today: today)
        let decoded = try build.decoded.get()
        XCTAssertEqual(Set(decoded.case.labs.map(\.test.rawValue)), ["calcium", "albumin", "creatinine", "egfr", "wbc"])
        XCTAssertEqual(decoded.case.patient.sex, .female)
        XCTAssertEqual(decoded.case.patient.weightKg, 98.1)
        XCTAssertEqual(decoded.case.vitals.count, 1, "one day's vital signs are one row")
        XCTAssertEqual(decoded.case.vitals.first?.systolicBP != nil, true)
        XCTAssertEqual(decoded.case.medications.map(\.drug).sorted(), ["furosemide", "lisinopril"])
        XCTAssertEqual(decoded.case.visits.count, 1)
        // Sodium, Practitioner, AllergyIntolerance, lab DiagnosticReports, CKD: each rejected by name.
        let errors = build.issues.filter { $0.severity == .error }
        XCTAssertTrue(errors.contains { $0.diagnostics.contains("2951-2") })
        XCTAssertTrue(errors.contains { $0.expression == ["Practitioner"] })
        XCTAssertTrue(errors.contains { $0.expression == ["AllergyIntolerance"] })
        XCTAssertTrue(errors.contains { $0.expression == ["Condition.code"] && $0.diagnostics.contains("N18.31") })
    }

    /// clinosim 0.6.5 (`clinosim test-disease bacterial_pneumonia -n 1 -s 3 --severity severe
    /// --format fhir-r4`, one Observation per code kept): inpatient FHIR of another generator.
    func testClinosimPneumoniaPatient() throws {
        let bundle = try Self.load(Self.fixtures.appendingPathComponent("clinosim-pneumonia-seed3.json"))
        let today = LocalDate(iso: "2026-11-24")!
        let build = CaseFromFHIR.build([bundle], asOf: today, today: today)
        let decoded = try build.decoded.get()
        // Ceftriaxone 1 G Injection (RxNorm 309090, a clinical drug, not an ingredient): found by name; 1 g → 1000 mg.
        let ceftriaxone = decoded.case.medications.first { $0.drug == "ceftriaxone" }
        XCTAssertEqual(ceftriaxone?.doseMg, 1000)
        XCTAssertEqual(ceftriaxone?.route, .intravenous)
        XCTAssertEqual(ceftriaxone?.frequency, .daily)
        // WBC in /uL is stored as /mm3 (the same quantity).
        XCTAssertEqual(decoded.case.labs.first { $0.test == .wbc }?.unit, "/mm3")
        XCTAssertFalse(decoded.case.vitals.isEmpty)
        XCTAssertFalse(decoded.case.imagingStudies.isEmpty, "chest radiograph ImagingStudy")
    }

    /// Nothing is dropped silently: every resource of both generators' output either gives a
    /// record or says (with an issue) why not, and every issue names an element.
    func testEveryResourceIsAccountedFor() throws {
        for name in ["clinosim-pneumonia-seed3.json", "carebundle-ckd_stage3-seed3.json", "seed-1-admission.fhir.json"] {
            let bundle = try Self.load(Self.fixtures.appendingPathComponent(name))
            guard case .array(let entries)? = bundle["entry"] else { return XCTFail(name) }
            for entry in entries {
                guard case .object(let resource)? = entry["resource"] else { continue }
                let result = InboundMapping.map(resource)
                XCTAssertFalse(result.records.isEmpty && result.issues.isEmpty, "\(name): \(resource["resourceType"] ?? .null) gave nothing and said nothing")
                XCTAssertEqual(result.isRejected, result.records.isEmpty && result.issues.contains { $0.severity == .error }, name)
                for issue in result.issues { XCTAssertFalse(issue.expression.isEmpty, "\(name): \(issue.diagnostics)") }
            }
        }
    }

    func testImplausibleValueIsLeftOutAndSaid() throws {
        let asOf = LocalDate(iso: "2023-09-01")!
        let resources: [JSONObject] = [
            JSONObject([("resourceType", "Patient"), ("id", "p"), ("gender", "male")]),
            parseObject("""
            {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
             "subject": {"reference": "Patient/p"}, "effectiveDateTime": "2023-09-01", "valueQuantity": {"value": 385, "code": "Cel", "system": "http://unitsofmeasure.org"}}
            """),
        ]
        let build = CaseFromFHIR.build(resources, asOf: asOf, today: asOf)
        let decoded = try build.decoded.get()
        XCTAssertTrue(decoded.case.vitals.isEmpty)
        XCTAssertTrue(build.issues.contains { $0.severity == .warning && $0.expression == ["vitals[0].temperatureC"] })
    }
}
