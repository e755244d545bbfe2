@testable import CalciTrackServer
import Foundation
import Testing

/// The ledger key of a reference (`FHIRWriter.referenceKey`): the last `Type/id` of a relative,
/// absolute or versioned reference, and `urn:` references as they are.
@Suite struct FHIRReferenceKeyTests {
    @Test(arguments: [
        ("Patient/1", "Patient/1"),
        ("Patient/0b7e6f0e-5d1c-4a43-9a55-7a3f2a0c1e01", "Patient/0b7e6f0e-5d1c-4a43-9a55-7a3f2a0c1e01"),
        ("http://example.org/fhir/Patient/1", "Patient/1"),
        ("http://example.org/fhir/Patient/1/_history/3", "Patient/1"),
        ("Patient/1/_history/3", "Patient/1"),
        ("/Patient/1", "Patient/1"),
        ("Patient/1/", "Patient/1"),
        ("urn:uuid:0b7e6f0e-5d1c-4a43-9a55-7a3f2a0c1e01", "urn:uuid:0b7e6f0e-5d1c-4a43-9a55-7a3f2a0c1e01"),
        ("Patient", "Patient"),
        ("Patient/", "Patient/"),
    ])
    func keyOf(_ reference: String, _ key: String) {
        #expect(FHIRWriter.referenceKey(reference) == key)
    }
}
