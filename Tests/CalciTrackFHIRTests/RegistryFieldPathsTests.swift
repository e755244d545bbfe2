@testable import CalciTrackFHIR
import XCTest

/// The element an OperationOutcome names for a refused registry field (issue 5: errors name the
/// element path). Before, a missing given name was reported at "Patient", a lab value out of
/// range at "Observation".
final class RegistryFieldPathsTests: XCTestCase {
    func testFieldsMapToTheElementsTheInboundMappersRead() {
        XCTAssertEqual(RegistryFieldPaths.element(resourceType: "Patient", field: "givenName"), "Patient.name.given")
        XCTAssertEqual(RegistryFieldPaths.element(resourceType: "Observation", field: "value"), "Observation.valueQuantity.value")
        XCTAssertEqual(RegistryFieldPaths.element(resourceType: "Observation", field: "vitals[0].temperatureC"), "Observation.valueQuantity.value")
        XCTAssertEqual(RegistryFieldPaths.element(resourceType: "MedicationStatement", field: "doseMg"), "MedicationStatement.dosage.doseAndRate.doseQuantity")
        XCTAssertNil(RegistryFieldPaths.element(resourceType: "Patient", field: "somethingElse"), "no guess: the caller names the resource")
        XCTAssertNil(RegistryFieldPaths.element(resourceType: "Flag", field: "date"))
    }
}
