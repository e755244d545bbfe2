@testable import CalciTrackServer
import Foundation
import Testing

/// `UUID.lowercasedString`, `UUID.uppercasedString`, `UUID.parse` and `UUID.precedes` replace Foundation's formatting,
/// parsing and `uuidString` order in bulk writes: they must give Foundation's answers.
@Suite struct UUIDTextTests {
    static let samples: [UUID] = [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
                                  UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))]
        + (0..<200).map { _ in UUID() }

    @Test func formatsAsFoundationDoesInLowerCase() {
        for id in Self.samples { #expect(id.lowercasedString == id.uuidString.lowercased()) }
    }

    @Test func formatsAsFoundationDoesInUpperCase() {
        for id in Self.samples { #expect(id.uppercasedString == id.uuidString) }
    }

    @Test func parsesWhatFoundationFormatsInEitherCase() {
        for id in Self.samples {
            #expect(UUID.parse(id.uuidString) == id)
            #expect(UUID.parse(id.lowercasedString) == id)
            #expect(UUID.parse(id.uuidString.dropFirst(0)) == id, "a Substring")
        }
    }

    @Test func refusesWhatIsNotEightFourFourFourTwelveHexDigits() {
        let id = "0b7e6f0e-5d1c-4a43-9a55-7a3f2a0c1e01"
        #expect(UUID.parse(id) != nil)
        for bad in ["", "0b7e6f0e", id + "0", String(id.dropLast()), id.replacingOccurrences(of: "-", with: ""),
                    "0b7e6f0e-5d1c-4a43-9a55_7a3f2a0c1e01", "0b7e6f0g-5d1c-4a43-9a55-7a3f2a0c1e01", "{0b7e6f0e-5d1c-4a43-9a55-7a3f2a0c1e}",
                    "0b7e6f0e-5d1c-4a43-9a557-a3f2a0c1e01", " b7e6f0e-5d1c-4a43-9a55-7a3f2a0c1e01", "0b7e6f0e-5d1c-4a43-9a55-7a3f2a0c1é1"] {
            #expect(UUID.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func ordersAsUUIDStringsOrder() {
        let byText = Self.samples.sorted { $0.uuidString < $1.uuidString }
        let byBytes = Self.samples.sorted { $0.precedes($1) }
        #expect(byText == byBytes)
        #expect(!Self.samples[5].precedes(Self.samples[5]))
    }
}
