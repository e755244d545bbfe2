/// Serialises a `JSONValue` deterministically (key order as built), pretty or compact.
/// Writes UTF-8 bytes into one buffer: appending to a String scalar by scalar was the main cost
/// of the CLI's JSON output (see BENCHMARKS.md).
public enum JSONWriter {
    public static func write(_ value: JSONValue, pretty: Bool = true) -> String {
        String(decoding: bytes(value, pretty: pretty), as: UTF8.self)
    }

    /// The UTF-8 bytes `write` would give, for a response body: making a String of them first
    /// validates every byte again (≈ 1 % of a CDS Hooks call's CPU; BENCHMARKS.md).
    public static func bytes(_ value: JSONValue, pretty: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(8192)
        write(value, into: &out, pretty: pretty, indent: 0)
        return out
    }

    private static func write(_ value: JSONValue, into out: inout [UInt8], pretty: Bool, indent: Int) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): appendNumber(n, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            if items.isEmpty { out.append(contentsOf: "[]".utf8); return }
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(&out, indent + 1) }
                write(item, into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { newline(&out, indent) }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            if object.entries.isEmpty { out.append(contentsOf: "{}".utf8); return }
            out.append(UInt8(ascii: "{"))
            for (i, entry) in object.entries.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(&out, indent + 1) }
                writeString(entry.key, into: &out)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(UInt8(ascii: " ")) }
                write(entry.value, into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { newline(&out, indent) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(_ out: inout [UInt8], _ indent: Int) {
        out.append(UInt8(ascii: "\n"))
        for _ in 0..<(indent * 2) { out.append(UInt8(ascii: " ")) }
    }

    /// Integers print without a fraction; other values use Swift's shortest round-trip form.
    public static func formatNumber(_ n: Double) -> String {
        guard n.isFinite else { return "null" }
        if n == n.rounded(), abs(n) < 1e15 { return String(Int64(n)) }
        if let hundredths = exactHundredths(n) {
            return String(unsafeUninitializedCapacity: 24) { buffer in writeHundredths(hundredths, into: buffer) }
        }
        return String(n)
    }

    /// `n` as a whole number of hundredths when it is exactly the double nearest to one (every value
    /// that went through `rounded(_:places: 2)` is). Below 1e12 a double's spacing is far finer
    /// than 0.01, so no shorter decimal maps to the same double, and the shortest round-trip form
    /// that `String(n)` prints is these digits with trailing zeros dropped (checked against
    /// `String(n)` over 65 million values when this was written).
    private static func exactHundredths(_ n: Double) -> Int64? {
        guard abs(n) < 1e12 else { return nil }
        let scaled = (n * 100).rounded()
        return scaled / 100 == n ? Int64(scaled) : nil
    }

    /// Writes hundredths as decimal text ("-12.5", "0.05"); the value is not a whole number.
    private static func writeHundredths(_ hundredths: Int64, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var count = 0
        var k = hundredths
        if k < 0 { buffer[count] = UInt8(ascii: "-"); count += 1; k = -k }
        var whole = k / 100
        let fraction = Int(k % 100)
        let first = count
        repeat { buffer[count] = UInt8(48 + whole % 10); count += 1; whole /= 10 } while whole > 0
        var (i, j) = (first, count - 1)
        while i < j { buffer.swapAt(i, j); i += 1; j -= 1 }
        buffer[count] = UInt8(ascii: "."); count += 1
        buffer[count] = UInt8(48 + fraction / 10); count += 1
        if fraction % 10 != 0 { buffer[count] = UInt8(48 + fraction % 10); count += 1 }
        return count
    }

    /// `formatNumber(n)` appended as bytes, without an intermediate String in the common cases.
    static func appendNumber(_ n: Double, into out: inout [UInt8]) {
        if n.isFinite, !(n == n.rounded() && abs(n) < 1e15), let hundredths = exactHundredths(n) {
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
                out.append(contentsOf: UnsafeMutableBufferPointer(rebasing: buffer[0..<writeHundredths(hundredths, into: buffer)]))
            }
            return
        }
        out.append(contentsOf: formatNumber(n).utf8)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            // Most strings need no escaping: copy them in one go.
            if !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                out.append(contentsOf: bytes)
                return
            }
            // Otherwise copy the runs between escapes in one go (Markdown card details have a
            // newline every few dozen bytes); UTF-8 multi-byte sequences pass through unchanged.
            var runStart = 0
            for i in 0..<bytes.count {
                let byte = bytes[i]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                runStart = i + 1
                switch byte {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(byte)
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(byte)
                case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
                default:
                    out.append(contentsOf: "\\u00".utf8)
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 0x0F)])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        }
        out.append(UInt8(ascii: "\""))
    }
}
