import CalciTrackFHIR
import XCTest

final class ResourceIDTests: XCTestCase {
    let uuid = "0b6f1f0e-2c1d-4c7e-9a59-0d1f2b3c4d5e"

    func testVitalIdsRoundTrip() {
        for vital in ResourceID.Vital.allCases {
            let id = ResourceID.vital(uuid, vital)
            XCTAssertTrue(ResourceID.isValid(id), id)
            XCTAssertEqual(ResourceID.parseVital(id)?.vitalsID, uuid)
            XCTAssertEqual(ResourceID.parseVital(id)?.vital, vital)
        }
        XCTAssertNil(ResourceID.parseVital(uuid))
        XCTAssertNil(ResourceID.parseVital("short-weight"))
    }

    // FHIR R4 "id" datatype: [A-Za-z0-9\-\.]{1,64} (http://hl7.org/fhir/R4/datatypes.html#id).
    func testIdSyntax() {
        XCTAssertTrue(ResourceID.isValid(ResourceID.sscCondition(patientID: uuid)))
        XCTAssertFalse(ResourceID.isValid(""))
        XCTAssertFalse(ResourceID.isValid(String(repeating: "a", count: 65)))
        XCTAssertFalse(ResourceID.isValid("a_b"))
        XCTAssertFalse(ResourceID.isValid("a/b"))
    }

    func testOperationOutcomeNamesTheElement() {
        let outcome = OperationOutcome(.error, .value, "unit must be one of mg/dL, mmol/L", at: "Observation.valueQuantity.unit")
        XCTAssertTrue(outcome.isFailure)
        guard case .array(let issues)? = outcome.json["issue"] else { return XCTFail("no issue array") }
        XCTAssertEqual(issues.first?["expression"], .array(["Observation.valueQuantity.unit"]))
        guard case .array(let empty)? = OperationOutcome([]).json["issue"] else { return XCTFail("no issue array") }
        XCTAssertEqual(empty.count, 1, "R4 requires at least one issue")
    }
}
