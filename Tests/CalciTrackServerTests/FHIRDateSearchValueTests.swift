@testable import CalciTrackServer
import Testing

/// Date search values (R4 search.html#date): a time after the day must be a time. Before, any
/// text after "T" was cut off, so `date=2026-10-19Tgarbage` searched the day 2026-10-19.
@Suite struct FHIRDateSearchValueTests {
    @Test(arguments: ["2026-10-19", "ge2026-10", "lt2026", "2026-10-19T10:00", "2026-10-19T10:00:00Z", "eq2026-10-19T23:59:60.123+05:30",
                      "2026-10-19T00:00:00-05:00"])
    func validValuesAreRead(_ value: String) throws {
        _ = try FHIRSearch.parseDate(value, param: "date")
    }

    @Test(arguments: ["2026-10-19Tgarbage", "2026-10-19T25:00:00Z", "2026-10-19T09", "2026-10-19T10:61", "2026-10-19T10:00:00.",
                      "2026-10-19T10:00+5:30", "2026-10-19T10:00:00+15:00", "2026-13-01", "x2026", "2026-1"])
    func malformedValuesAreRefused(_ value: String) {
        #expect(throws: FHIRError.self) { try FHIRSearch.parseDate(value, param: "date") }
    }
}
