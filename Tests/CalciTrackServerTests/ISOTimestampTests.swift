@testable import CalciTrackServer
import Foundation
import Testing

/// Timestamps are written from digits for speed; they must equal Foundation's ISO 8601 output.
struct ISOTimestampTests {
    @Test("Digit-built timestamps equal ISO8601DateFormatter's", arguments: [0.0, 1_795_000_000.123, 951_782_400.999, 1_700_000_000.5, -86_400.25])
    func sameAsFoundation(_ seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let millis = ISO8601DateFormatter()
        millis.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        #expect(ISOTimestamp.iso(date) == plain.string(from: date))
        #expect(ISOTimestamp.isoMillis(date) == millis.string(from: date))
    }
}
