#if canImport(Glibc)
import Glibc
#endif

/// Random (version 4) UUIDs, lower case, for the cards of one call. The random bytes of several
/// ids come from one system call (getentropy): `SystemRandomNumberGenerator` makes a system call per
/// 8 bytes (two per id, ~20 per call: 1.5 % of an RS384 call's CPU; BENCHMARKS.md, CDS Hooks),
/// and Foundation's `UUID()` opens, reads and closes /dev/urandom for each id.
struct CDSCardIDs {
    /// Ids per refill: a call issues about ten cards; 256 bytes is getentropy's limit.
    static let batch = 16
    private var random: [UInt8] = []
    private var used = 0

    mutating func next() -> String {
        if used + 16 > random.count {
            random = Self.randomBytes(16 * Self.batch)
            used = 0
        }
        let start = used
        used += 16
        return String(unsafeUninitializedCapacity: 36) { text in
            var n = 0
            for i in 0..<16 {
                var byte = random[start + i]
                if i == 6 { byte = (byte & 0x0F) | 0x40 }  // version 4 (RFC 9562 §5.4)
                if i == 8 { byte = (byte & 0x3F) | 0x80 }  // variant 10
                if i == 4 || i == 6 || i == 8 || i == 10 { text[n] = UInt8(ascii: "-"); n += 1 }
                text[n] = Self.hex[Int(byte >> 4)]
                text[n + 1] = Self.hex[Int(byte & 0x0F)]
                n += 2
            }
            return n
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// `count` bytes (at most 256) from the kernel's CSPRNG in one call (getentropy, glibc's
    /// wrapper of getrandom); the system generator if that fails.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var filled = false
        #if canImport(Glibc)
        if count <= 256 { filled = out.withUnsafeMutableBytes { getentropy($0.baseAddress!, count) } == 0 }
        #endif
        if !filled {
            var generator = SystemRandomNumberGenerator()
            for i in 0..<count { out[i] = generator.next() }
        }
        return out
    }
}
