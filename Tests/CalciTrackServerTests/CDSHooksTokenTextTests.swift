@testable import CalciTrackServer
import Foundation
import Testing
import Vapor

/// The byte-level helpers of CDS Hooks authentication and cards: base64url as Foundation decodes
/// it, the bearer token as Vapor reads it, card ids as RFC 9562 version 4 UUIDs.
@Suite struct CDSHooksTokenTextTests {
    @Test("base64url decoding gives Foundation's bytes for every length, and refuses what Foundation refuses")
    func base64URL() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<80 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let standard = Data(bytes).base64EncodedString()
            let url = standard.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(CDSCallerAuthentication.base64URL(url[...].utf8) == bytes, "length \(length)")
            #expect(CDSCallerAuthentication.base64URL(standard[...].utf8) == bytes, "padded standard alphabet, length \(length)")
        }
        for bad in ["a", "abcde", "ab.c", "ab c", "é"] {
            #expect(CDSCallerAuthentication.base64URL(bad[...].utf8) == nil, "\(bad)")
        }
    }

    @Test("The bearer token is read as Vapor's bearerAuthorization reads it")
    func bearer() {
        for value in ["Bearer abc.def.ghi", "bearer abc", "BEARER x", "Basic abc", "Bearer", "Bearer a b", "Bearer  spaced"] {
            let headers = HTTPHeaders([("Authorization", value)])
            #expect(CDSCallerAuthentication.bearerToken(headers) == headers.bearerAuthorization?.token, "\(value)")
        }
        #expect(CDSCallerAuthentication.bearerToken(HTTPHeaders()) == nil)
    }

    @Test("Card ids are distinct lower-case version 4 UUIDs")
    func cardIDs() {
        let ids = (0..<1000).map { _ in CDSHooksController.randomCardID() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(50) {
            let uuid = UUID(uuidString: id)
            #expect(uuid != nil && uuid!.uuidString.lowercased() == id, "\(id)")
            let bytes = withUnsafeBytes(of: uuid!.uuid) { Array($0) }
            #expect(bytes[6] >> 4 == 4 && bytes[8] >> 6 == 0b10, "\(id)")
        }
    }
}
