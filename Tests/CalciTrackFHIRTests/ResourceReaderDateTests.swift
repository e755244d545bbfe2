@testable import CalciTrackFHIR
import XCTest

/// FHIR date/dateTime reading (R4 §2.24.0.1): the YYYY-MM-DD fast path and the general path
/// must agree on what is a day, a partial date, or invalid.
final class ResourceReaderDateTests: XCTestCase {
    func testDaysPartialsAndInvalid() {
        XCTAssertEqual(ResourceReader.date("2023-09-01"), .day("2023-09-01"))
        XCTAssertEqual(ResourceReader.date("2024-02-29"), .day("2024-02-29"))
        XCTAssertEqual(ResourceReader.date("2023-09-01T08:15:00Z"), .day("2023-09-01"))
        XCTAssertEqual(ResourceReader.date("2023-09-01T08:15:00.5+02:00"), .day("2023-09-01"))
        XCTAssertEqual(ResourceReader.date("2023"), .partial("2023"))
        XCTAssertEqual(ResourceReader.date("2023-09"), .partial("2023-09"))
        for invalid in ["2023-02-29", "2023-13-01", "2023-09-32", "2023-9-01", "2023-09-1", "2023/09/01", "2023-09-01T08:15:00",
                        "20230901", "2023-09-0a", "\u{FF12}023-09-01", "2023-09-01 ", " 2023-09-01", "0000-01-01x", ""] {
            XCTAssertEqual(ResourceReader.date(invalid), .invalid, invalid)
        }
    }
}
