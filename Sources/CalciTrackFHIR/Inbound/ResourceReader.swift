import CalciTrackCore

/// Reads one resource for an Inbound mapper and keeps the books: every top-level element a
/// mapper does not take is reported as a warning when the mapping ends (nothing is dropped
/// silently), and every problem is an OperationOutcome issue with its FHIRPath.
struct ResourceReader {
    let type: String
    let resource: JSONObject
    private(set) var issues: [OperationOutcome.Issue] = []
    /// Elements with nothing to store: identity, version metadata, the generated narrative.
    /// Arrays, not Sets: a resource has a dozen elements, and hashing every key into a fresh Set
    /// per resource was a fifth of mapping a CDS Hooks prefetch (BENCHMARKS.md, CDS Hooks).
    private var used: [String] = ["resourceType", "id", "meta", "text", "language", "implicitRules"]
    private var usedExtensions: [String] = []

    init(type: String, _ resource: JSONObject) {
        self.type = type
        self.resource = resource
    }

    var rejected: Bool { issues.contains { $0.severity == .error || $0.severity == .fatal } }

    /// The element's value (nil when absent or null), marked as handled.
    mutating func take(_ key: String) -> JSONValue? {
        used.append(key)
        guard let value = resource[key], value != .null else { return nil }
        return value
    }

    /// The element's value without marking it handled.
    func peekValue(_ key: String) -> JSONValue? {
        guard let value = resource[key], value != .null else { return nil }
        return value
    }

    /// Marks elements as handled without reading them (checked elsewhere or deliberately not stored).
    mutating func handled(_ keys: String...) { used.append(contentsOf: keys) }

    /// The value of a top-level extension (the whole extension object), marked as handled.
    mutating func takeExtension(_ url: String) -> JSONObject? {
        usedExtensions.append(url)
        return Self.extensions(of: resource).first { $0["url"] == .string(url) }
    }

    func path(_ element: String) -> String { element.isEmpty ? type : "\(type).\(element)" }

    mutating func reject(_ code: OperationOutcome.IssueType, _ message: String, at element: String) {
        issues.append(.init(.error, code, message, at: [path(element)]))
    }

    mutating func warn(_ message: String, at element: String) {
        issues.append(.init(.warning, .informational, message, at: [path(element)]))
    }

    mutating func inform(_ message: String, at element: String) {
        issues.append(.init(.information, .informational, message, at: [path(element)]))
    }

    /// Reports what no mapper took. A modifier extension changes the meaning of the resource, so
    /// one CalciTrack does not understand rejects it (R4 §2.1.0.3 "modifierExtension").
    mutating func finish() {
        for (key, value) in resource.entries where !used.contains(key) && value != .null {
            switch key {
            case "modifierExtension":
                for ext in Self.extensions(in: value) {
                    reject(.notSupported, "modifier extension \(Self.string(ext["url"]) ?? "(no url)") is not understood, so the resource cannot be stored safely",
                           at: "modifierExtension")
                }
            case "extension":
                for ext in Self.extensions(in: value) {
                    let url = Self.string(ext["url"]) ?? ""
                    if !usedExtensions.contains(url) {
                        warn("extension \(url.isEmpty ? "(no url)" : url) is not stored by CalciTrack", at: "extension('\(url)')")
                    }
                }
            default:
                warn("\(path(key)) is not stored by CalciTrack", at: key)
            }
        }
    }

    // MARK: Reading helpers (static: they read any part of a resource)

    static func string(_ value: JSONValue?) -> String? {
        if case .string(let s)? = value { return s }
        return nil
    }

    /// A value as compact JSON, for messages.
    static func show(_ value: JSONValue) -> String { JSONWriter.write(value, pretty: false) }

    static func number(_ value: JSONValue?) -> Double? {
        if case .number(let n)? = value { return n }
        return nil
    }

    static func bool(_ value: JSONValue?) -> Bool? {
        if case .bool(let b)? = value { return b }
        return nil
    }

    static func array(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let items)? = value { return items }
        if let value, value != .null { return [value] }
        return []
    }

    static func object(_ value: JSONValue?) -> JSONObject? {
        if case .object(let o)? = value { return o }
        return nil
    }

    static func extensions(of object: JSONObject) -> [JSONObject] { extensions(in: object["extension"]) }
    static func extensions(in value: JSONValue?) -> [JSONObject] { array(value).compactMap { object($0) } }

    struct Coding: Equatable {
        var system: String?
        var code: String?
        var display: String?
    }

    /// The codings of a CodeableConcept.
    static func codings(_ concept: JSONValue?) -> [Coding] {
        array(concept?["coding"]).compactMap { item in
            guard case .object(let c) = item else { return nil }
            return Coding(system: string(c["system"]), code: string(c["code"]), display: string(c["display"]))
        }
    }

    /// The code of the first coding in `system`.
    static func code(_ concept: JSONValue?, system: String) -> String? {
        codings(concept).first { $0.system == system && $0.code != nil }?.code
    }

    /// Text of a CodeableConcept: its `text`, else the first coding display.
    static func text(_ concept: JSONValue?) -> String? {
        string(concept?["text"]) ?? codings(concept).compactMap(\.display).first
    }

    /// "system|code" list for messages.
    static func describe(_ concept: JSONValue?) -> String {
        let list = codings(concept).map { "\($0.system ?? "(no system)")|\($0.code ?? "(no code)")" + ($0.display.map { " (\($0))" } ?? "") }
        if list.isEmpty { return text(concept).map { "text \"\($0)\"" } ?? "no coding" }
        return list.joined(separator: ", ")
    }

    /// The reference string of a Reference element.
    static func reference(_ value: JSONValue?) -> String? { string(value?["reference"]) }

    // MARK: Dates

    enum DateValue: Equatable {
        /// A full calendar day (YYYY-MM-DD), the date as written in the value's own offset.
        case day(String)
        /// A valid FHIR date with year (and month) only.
        case partial(String)
        case invalid
    }

    /// Reads a FHIR date, dateTime or instant (R4 §2.24.0.1 datatypes): YYYY, YYYY-MM, YYYY-MM-DD,
    /// or YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm). A time without a time zone is invalid in R4.
    static func date(_ text: String) -> DateValue {
        // The common case, a plain YYYY-MM-DD, checked as bytes (the same rules as below).
        if text.utf8.count == 10, text.utf8.enumerated().allSatisfy({ i, byte in
            i == 4 || i == 7 ? byte == UInt8(ascii: "-") : (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }) {
            return LocalDate(iso: text) != nil ? .day(text) : .invalid
        }
        // A YYYY-MM-DDThh:mm:ss… dateTime in ASCII: the day as above, the time as bytes (the same
        // rules as `validTime`; for ASCII text bytes and Characters are alike).
        let utf8 = text.utf8
        if utf8.count > 11, utf8.allSatisfy({ $0 < 0x80 }), utf8.prefix(11).enumerated().allSatisfy({ i, byte in
            i == 4 || i == 7 ? byte == UInt8(ascii: "-") : i == 10 ? byte == UInt8(ascii: "T") : (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }) {
            let day = String(text.prefix(10))
            return LocalDate(iso: day) != nil && validTime(Array(utf8.dropFirst(11))) ? .day(day) : .invalid
        }
        let parts = text.split(separator: "T", maxSplits: 1, omittingEmptySubsequences: false)
        let datePart = String(parts[0])
        let fields = datePart.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }), fields[0].count == 4 else { return .invalid }
        switch fields.count {
        case 1:
            return parts.count == 1 && (Int(fields[0]) ?? 0) >= 1 ? .partial(datePart) : .invalid
        case 2:
            guard parts.count == 1, fields[1].count == 2, let m = Int(fields[1]), (1...12).contains(m) else { return .invalid }
            return .partial(datePart)
        case 3:
            guard fields[1].count == 2, fields[2].count == 2, LocalDate(iso: datePart) != nil else { return .invalid }
            if parts.count == 2 && !validTime(parts[1]) { return .invalid }
            return .day(datePart)
        default:
            return .invalid
        }
    }

    /// `validTime` over ASCII bytes.
    private static func validTime(_ bytes: [UInt8]) -> Bool {
        func digit(_ i: Int) -> Int? { i < bytes.count && (48...57).contains(bytes[i]) ? Int(bytes[i] - 48) : nil }
        func two(_ i: Int, max: Int) -> Bool {
            guard let a = digit(i), let b = digit(i + 1) else { return false }
            return a * 10 + b <= max
        }
        guard bytes.count >= 9 else { return false }
        guard two(0, max: 23), bytes[2] == UInt8(ascii: ":"), two(3, max: 59), bytes[5] == UInt8(ascii: ":"), two(6, max: 60) else { return false }
        var i = 8
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while digit(i) != nil { i += 1 }
            if i == start { return false }
        }
        guard i < bytes.count else { return false }
        if bytes[i] == UInt8(ascii: "Z") { return i == bytes.count - 1 }
        guard bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-"), bytes.count == i + 6, two(i + 1, max: 14), bytes[i + 3] == UInt8(ascii: ":"),
              two(i + 4, max: 59) else { return false }
        return true
    }

    private static func validTime(_ time: Substring) -> Bool {
        // hh:mm:ss, optional fraction, then Z or ±hh:mm.
        let chars = Array(time)
        guard chars.count >= 9 else { return false }
        func two(_ i: Int, max: Int) -> Bool {
            guard i + 1 < chars.count, let a = chars[i].wholeNumberValue, let b = chars[i + 1].wholeNumberValue, chars[i].isASCII, chars[i + 1].isASCII else { return false }
            return a * 10 + b <= max
        }
        guard two(0, max: 23), chars[2] == ":", two(3, max: 59), chars[5] == ":", two(6, max: 60) else { return false }
        var i = 8
        if i < chars.count, chars[i] == "." {
            i += 1
            let start = i
            while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
            if i == start { return false }
        }
        guard i < chars.count else { return false }
        if chars[i] == "Z" { return i == chars.count - 1 }
        guard chars[i] == "+" || chars[i] == "-", chars.count == i + 6, two(i + 1, max: 14), chars[i + 3] == ":", two(i + 4, max: 59) else { return false }
        return true
    }

    /// A full day from a date element, or an error issue (and nil) naming the element.
    mutating func day(_ value: JSONValue?, at element: String, what: String, required: Bool = true) -> String? {
        guard let value else {
            if required { reject(.required, "\(path(element)) is required: the registry needs \(what)", at: element) }
            return nil
        }
        guard let text = Self.string(value) else {
            reject(.structure, "\(path(element)) must be a date string, got \(value.typeName)", at: element)
            return nil
        }
        switch Self.date(text) {
        case .day(let d): return d
        case .partial:
            reject(.value, "\(path(element)) \"\(text)\" names no day: the registry needs \(what) as a full date (YYYY-MM-DD)", at: element)
        case .invalid:
            reject(.value, "\(path(element)) \"\(text)\" is not a valid FHIR date (YYYY-MM-DD, or YYYY-MM-DDThh:mm:ss with a time zone)", at: element)
        }
        return nil
    }
}

extension ResourceReader {
    /// The patient a record belongs to: a Reference to a Patient (`Patient/<id>`, an absolute
    /// URL ending in it, or a Bundle `urn:uuid:`), required.
    mutating func patientReference(_ key: String) -> String? {
        guard let value = take(key) else {
            reject(.required, "\(path(key)) is required: CalciTrack stores records of a patient", at: key)
            return nil
        }
        return reference(value, at: key, to: "Patient")
    }

    /// A reference to a resource of `type` (or a `urn:uuid:` of a Bundle entry), else an error.
    mutating func reference(_ value: JSONValue, at element: String, to type: String) -> String? {
        guard let ref = Self.reference(value) else {
            reject(.required, "\(path(element)).reference is required (e.g. \(type)/<id> or urn:uuid:<uuid>); an identifier or display alone cannot be resolved",
                   at: element + ".reference")
            return nil
        }
        guard ref.hasPrefix("urn:uuid:") || Self.names(ref, type) else {
            reject(.value, "\(path(element)).reference \"\(ref)\" must name a \(type)", at: element + ".reference")
            return nil
        }
        return ref
    }

    /// Whether a reference's path ends in `<type>/<id>` or `<type>/<id>/_history/<version>`
    /// (segments split at "/", empty ones skipped). ASCII references, nearly all, are scanned as
    /// bytes from the end, without splitting: splitting by Characters was the largest cost of
    /// mapping a resource (BENCHMARKS.md, CDS Hooks); for ASCII text bytes and Characters split
    /// and compare alike.
    static func names(_ ref: String, _ type: String) -> Bool {
        var text = ref
        let ascii = text.withUTF8 { bytes -> Bool? in
            guard !bytes.contains(where: { $0 >= 0x80 }) else { return nil }
            func segmentIs(_ k: Int, _ expected: String) -> Bool {
                guard let range = Self.segment(fromEnd: k, of: bytes) else { return false }
                return UnsafeBufferPointer(rebasing: bytes[range]).elementsEqual(expected.utf8)
            }
            return segmentIs(1, type) || (segmentIs(3, type) && segmentIs(1, "_history"))
        }
        if let ascii { return ascii }
        let segments = ref.split(separator: "/")
        return segments.count >= 2 && segments[segments.count - 2] == type
            || (segments.count >= 4 && segments[segments.count - 4] == type && segments[segments.count - 2] == "_history")
    }

    /// The last two non-empty "/"-separated segments of a reference joined by "/" ("a/b/Type/id"
    /// → "Type/id"), as `split(separator: "/").suffix(2).joined(separator: "/")`; bytes for ASCII.
    static func lastTwoSegments(_ ref: String) -> String {
        var text = ref
        let ascii = text.withUTF8 { bytes -> String? in
            guard !bytes.contains(where: { $0 >= 0x80 }) else { return nil }
            guard let last = segment(fromEnd: 0, of: bytes) else { return "" }
            let lastText = String(decoding: UnsafeBufferPointer(rebasing: bytes[last]), as: UTF8.self)
            guard let first = segment(fromEnd: 1, of: bytes) else { return lastText }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[first]), as: UTF8.self) + "/" + lastText
        }
        return ascii ?? ref.split(separator: "/").suffix(2).joined(separator: "/")
    }

    /// The k-th non-empty "/"-separated segment counted from the end (0 = the last), or nil.
    private static func segment(fromEnd k: Int, of bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        let slash = UInt8(ascii: "/")
        var end = bytes.count, n = 0
        while true {
            while end > 0 && bytes[end - 1] == slash { end -= 1 }
            if end == 0 { return nil }
            var start = end
            while start > 0 && bytes[start - 1] != slash { start -= 1 }
            if n == k { return start..<end }
            n += 1
            end = start
        }
    }

    /// Checks a resource `status` against the values CalciTrack stores; rejects the others.
    mutating func status(accepting accepted: Set<String>, what: String, required: Bool = true) -> String? {
        guard let value = take("status") else {
            if required { reject(.required, "\(path("status")) is required (R4)", at: "status") }
            return nil
        }
        guard let status = Self.string(value) else {
            reject(.structure, "\(path("status")) must be a code", at: "status")
            return nil
        }
        guard accepted.contains(status) else {
            reject(.businessRule, "\(path("status")) \"\(status)\": CalciTrack stores \(what) with status \(accepted.sorted().joined(separator: ", ")) only",
                   at: "status")
            return nil
        }
        return status
    }
}
