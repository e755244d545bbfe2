import Foundation

/// UUIDs as text without Foundation's formatting: `uuidString` runs `snprintf` and
/// `UUID(uuidString:)` runs `sscanf`, and together they were about 4% of `calcitrack import`
/// (BENCHMARKS.md), which names every record, patient and reference by its id. Same results
/// (`UUIDTextTests` checks them against Foundation's).
extension UUID {
    private static let hexDigits = Array("0123456789abcdef".utf8)
    private static let upperHexDigits = Array("0123456789ABCDEF".utf8)

    /// `uuidString.lowercased()`: the form FHIR ids, API JSON and audit entries use.
    var lowercasedString: String { text(Self.hexDigits) }

    /// `uuidString`: the form a UUID column holds (its `Codable` text, as SQLKit binds it).
    var uppercasedString: String { text(Self.upperHexDigits) }

    private func text(_ hexDigits: [UInt8]) -> String {
        withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { out in
                var o = 0
                for (i, byte) in bytes.enumerated() {
                    if i == 4 || i == 6 || i == 8 || i == 10 { out[o] = UInt8(ascii: "-"); o += 1 }
                    out[o] = hexDigits[Int(byte >> 4)]
                    out[o + 1] = hexDigits[Int(byte & 0x0f)]
                    o += 2
                }
                return o
            }
        }
    }

    /// `UUID(uuidString:)`: 8-4-4-4-12 hexadecimal digits, either case.
    static func parse(_ text: some StringProtocol) -> UUID? {
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let ok = text.utf8.withContiguousStorageIfAvailable { parse($0, into: &bytes) } ?? parse(Array(text.utf8), into: &bytes)
        return ok ? UUID(uuid: bytes) : nil
    }

    private static func parse(_ utf8: some Collection<UInt8>, into bytes: inout uuid_t) -> Bool {
        guard utf8.count == 36 else { return false }
        return withUnsafeMutableBytes(of: &bytes) { out in
            var n = 0, high: UInt8? = nil
            for (i, c) in utf8.enumerated() {
                if i == 8 || i == 13 || i == 18 || i == 23 {
                    guard c == UInt8(ascii: "-") else { return false }
                    continue
                }
                let v: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
                default: return false
                }
                if let h = high { out[n] = h << 4 | v; n += 1; high = nil } else { high = v }
            }
            return true
        }
    }

    /// The order of `uuidString` (and of the 16 bytes, as SQLite compares its UUID blobs).
    func precedes(_ other: UUID) -> Bool {
        withUnsafeBytes(of: uuid) { a in withUnsafeBytes(of: other.uuid) { b in memcmp(a.baseAddress!, b.baseAddress!, 16) < 0 } }
    }
}
