import Foundation
import Testing
@testable import CalciTrackCore

/// The strict RFC 8259 parser (JSONParser.swift header) and the deterministic writer. case-format.md
/// Validation: "a case that is not valid JSON ... is rejected whole", so strictness matters.
struct JSONParserTests {
    private func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    /// The syntax error for `text`; records an issue when it parses.
    private func syntaxError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSONParser.SyntaxError? {
        syntaxError(Array(text.utf8), sourceLocation: sourceLocation)
    }

    private func syntaxError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> JSONParser.SyntaxError? {
        do {
            let value = try JSONParser.parse(bytes)
            Issue.record("parsed as \(value) but should fail", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Literals (RFC 8259 §3)

    @Test("true, false and null, with surrounding whitespace")
    func literals() throws {
        #expect(try parse("true") == .bool(true))
        #expect(try parse("false") == .bool(false))
        #expect(try parse("null") == .null)
        #expect(try parse(" \t\r\n true \n") == .bool(true))
        #expect(try parse("[true,false,null]") == .array([.bool(true), .bool(false), .null]))
    }

    @Test("misspelt literals are rejected", arguments: [
        ("tru", "invalid literal (expected true)"), ("nul", "invalid literal (expected null)"),
        ("fals", "invalid literal (expected false)"), ("True", "unexpected character 'T'"),
        ("NULL", "unexpected character 'N'"), ("truex", "unexpected text after the JSON value"),
        ("undefined", "unexpected character 'u'"),
    ])
    func badLiterals(text: String, message: String) {
        #expect(syntaxError(text)?.message == message)
    }

    @Test("booleans stay apart from numbers (JSONParser header: why not JSONSerialization)")
    func booleansAreNotNumbers() throws {
        #expect(try parse("1") != .bool(true))
        #expect(try parse("true") != .number(1))
    }

    // MARK: Numbers (RFC 8259 §6)

    @Test("numbers: negative, fraction, exponent", arguments: [
        ("0", 0.0), ("-0", -0.0), ("42", 42), ("-17", -17), ("3.25", 3.25), ("-0.5", -0.5), ("1e3", 1000), ("1E+2", 100),
        ("2.5e-3", 0.0025), ("-1.5E2", -150), ("0e0", 0), ("10", 10), ("1.0", 1), ("123456789", 123_456_789),
        ("1e-400", 0),
    ])
    func numbers(text: String, value: Double) throws {
        #expect(try parse(text) == .number(value))
    }

    @Test("malformed numbers are rejected", arguments: [
        ("01", "leading zeros are not allowed in numbers"), ("-01", "leading zeros are not allowed in numbers"),
        ("00", "leading zeros are not allowed in numbers"), ("1.", "invalid number: digits expected after '.'"),
        ("1.e3", "invalid number: digits expected after '.'"), ("1e", "invalid number: exponent digits expected"),
        ("1e+", "invalid number: exponent digits expected"), ("-", "invalid number"), ("-a", "invalid number"),
        (".5", "unexpected character '.'"), ("+1", "unexpected character '+'"), ("0x10", "unexpected text after the JSON value"),
        ("NaN", "unexpected character 'N'"), ("Infinity", "unexpected character 'I'"), ("-Infinity", "invalid number"),
        ("1e400", "number out of range"), ("-1e400", "number out of range"), ("1 2", "unexpected text after the JSON value"),
    ])
    func badNumbers(text: String, message: String) {
        #expect(syntaxError(text)?.message == message)
    }

    @Test("a leading zero is reported at the offending digit")
    func leadingZeroPosition() {
        let error = syntaxError(#"{"value": 09}"#)
        #expect(error?.message == "leading zeros are not allowed in numbers")
        #expect(error?.line == 1)
        #expect(error?.column == 12)
    }

    // MARK: Strings (RFC 8259 §7)

    @Test("string escapes", arguments: [
        (#""a\"b""#, "a\"b"), (#""back\\slash""#, "back\\slash"), (#""a\/b""#, "a/b"), (#""\b\f\n\r\t""#, "\u{08}\u{0C}\n\r\t"),
        (#""\u00e9""#, "é"), (#""\u00E9""#, "é"), (#""\u20AC""#, "€"), (#""\u0041\u0042""#, "AB"), (#""\u0000""#, "\u{0}"),
        (#""""#, ""), (#""plain é ✓""#, "plain é ✓"),
    ])
    func escapes(json: String, expected: String) throws {
        #expect(try parse(json) == .string(expected))
    }

    @Test("surrogate pairs decode to one scalar (RFC 8259 §7)")
    func surrogatePairs() throws {
        #expect(try parse(#""\uD83D\uDE00""#) == .string("😀"))
        #expect(try parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try parse(#""x\uD834\uDD1Ey""#) == .string("x𝄞y"))
        guard case .string(let s) = try parse(#""\uD83D\uDE00""#) else { Issue.record("not a string"); return }
        #expect(s.unicodeScalars.map(\.value) == [0x1F600])
    }

    @Test("malformed strings are rejected", arguments: [
        (#""\uD83D""#, "unpaired surrogate in \\u escape"), (#""\uD83Dx""#, "unpaired surrogate in \\u escape"),
        (#""\uDE00""#, "unpaired surrogate in \\u escape"), (#""\uD83D\u0041""#, "invalid low surrogate in \\u escape"),
        (#""\x""#, "invalid escape sequence"), (#""\'""#, "invalid escape sequence"), (#""\u12G4""#, "invalid hex digit in \\u escape"),
        (#""\u12""#, "truncated \\u escape"), (#""abc"#, "unterminated string"), ("\"a\tb\"", "control character inside a string"),
        ("\"a\nb\"", "control character inside a string"), (#""abc\"#, "unterminated escape"), ("'a'", "unexpected character '''"),
    ])
    func badStrings(json: String, message: String) {
        #expect(syntaxError(json)?.message == message)
    }

    @Test("invalid UTF-8 inside a string is rejected")
    func invalidUTF8() {
        #expect(syntaxError([0x22, 0xC3, 0x28, 0x22])?.message == "string is not valid UTF-8")
        #expect(syntaxError([0x22, 0xFF, 0x22])?.message == "string is not valid UTF-8")
    }

    // MARK: Objects and arrays

    @Test("objects keep their key order (JSONValue: error paths and output follow the author's order)")
    func keyOrder() throws {
        guard case .object(let object) = try parse(#"{"z": 1, "a": 2, "m": {"y": 3, "b": 4}}"#) else {
            Issue.record("not an object"); return
        }
        #expect(object.keys == ["z", "a", "m"])
        #expect(object["m"]?["y"] == .number(3))
        guard case .object(let inner)? = object["m"] else { Issue.record("not an object"); return }
        #expect(inner.keys == ["y", "b"])
        #expect(try parse(#"{"a": 1, "b": 2}"#) != parse(#"{"b": 2, "a": 1}"#))
    }

    @Test("duplicate keys are rejected at the second key (JSONParser header: duplicate keys reported)")
    func duplicateKeys() {
        let error = syntaxError(#"{"a": 1, "a": 2}"#)
        #expect(error?.message == #"duplicate key "a""#)
        #expect(error?.line == 1)
        #expect(error?.column == 10)
        #expect(syntaxError(#"{"o": {"k": 1, "x": 2, "k": 3}}"#)?.message == #"duplicate key "k""#)
        // the same key after an escape decodes to the same string
        #expect(syntaxError(#"{"ab": 1, "a\u0062": 2}"#)?.message == #"duplicate key "ab""#)
    }

    @Test("the same key in sibling objects is not a duplicate")
    func siblingKeys() throws {
        #expect(try parse(#"[{"a": 1}, {"a": 2}]"#) == .array([.object(JSONObject([("a", 1)])), .object(JSONObject([("a", 2)]))]))
        #expect(try parse(#"{"a": {"a": 1}}"#)["a"]?["a"] == .number(1))
    }

    @Test("structural errors", arguments: [
        (#"{"a": 1"#, "unexpected end of input inside an object"), ("[1, 2", "unexpected end of input inside an array"),
        (#"{"a""#, "expected ':' after key"), (#"{"a" 1}"#, "expected ':' after key"), ("{a: 1}", "expected a quoted key"),
        (#"{"a": 1,}"#, "expected a quoted key"), ("[1,]", "unexpected character ']'"), ("[1 2]", "expected ',' or ']' in an array"),
        (#"{"a": 1 "b": 2}"#, "expected ',' or '}' in an object"), ("[", "unexpected end of input"), (#"{"a":"#, "unexpected end of input"),
        ("{} {}", "unexpected text after the JSON value"), (#"{"a": 1}x"#, "unexpected text after the JSON value"),
        ("]", "unexpected character ']'"), ("\u{0C}1", "unexpected character '\u{0C}'"),
    ])
    func structuralErrors(text: String, message: String) {
        #expect(syntaxError(text)?.message == message)
    }

    @Test("empty and whitespace-only documents are rejected", arguments: ["", " ", "\n\t\r "])
    func empty(text: String) {
        #expect(syntaxError(text)?.message == "the document is empty")
    }

    @Test("trailing text is reported where it starts")
    func trailingText() {
        let error = syntaxError("{} x")
        #expect(error?.message == "unexpected text after the JSON value")
        #expect(error?.column == 4)
        #expect(syntaxError("[1]\n\n  // comment")?.line == 3)
    }

    @Test("nesting is limited to 256 levels")
    func depth() throws {
        let ok = String(repeating: "[", count: 256) + String(repeating: "]", count: 256)
        #expect(throws: Never.self) { try JSONParser.parse(ok) }
        let deep = String(repeating: "[", count: 257) + String(repeating: "]", count: 257)
        #expect(syntaxError(deep)?.message == "nesting deeper than 256 levels")
    }

    // MARK: Error positions

    @Test("line and column of an error (1-based; column counts characters, not bytes)")
    func positions() {
        let literal = syntaxError("{\n  \"a\": tru\n}")
        #expect(literal?.line == 2)
        #expect(literal?.column == 8)
        #expect(literal?.description == "invalid literal (expected true) at line 2, column 8")

        let comma = syntaxError("[1,\n2,\n]")
        #expect(comma?.message == "unexpected character ']'")
        #expect(comma?.line == 3)
        #expect(comma?.column == 1)

        let accented = syntaxError(#"{"é": x}"#)
        #expect(accented?.line == 1)
        #expect(accented?.column == 7)

        let crlf = syntaxError("{\r\n\"a\": 1,\r\n}")
        #expect(crlf?.line == 3)
        #expect(crlf?.column == 1)

        let first = syntaxError("x")
        #expect(first?.line == 1)
        #expect(first?.column == 1)
    }

    // MARK: Byte-order mark

    @Test("a UTF-8 byte-order mark is tolerated (JSONParser: some Windows editors write one)")
    func bom() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        #expect(try JSONParser.parse(bom + Array(#"{"a": 1}"#.utf8)) == .object(JSONObject([("a", 1)])))
        #expect(try JSONParser.parse("\u{FEFF}[true]") == .array([.bool(true)]))
        #expect(syntaxError(bom)?.message == "the document is empty")
        // only at the very start
        #expect(syntaxError("[\u{FEFF}1]")?.message != nil)
        #expect(syntaxError(bom + bom + Array("1".utf8)) != nil)
    }

    @Test("error columns after a byte-order mark count from the first visible character")
    func bomColumn() {
        let error = syntaxError([0xEF, 0xBB, 0xBF] + Array(#"{"a": x}"#.utf8))
        #expect(error?.line == 1)
        #expect(error?.column == 7)
    }

    @Test("a case file with a BOM decodes (case-format: the CLI reads files as given)")
    func bomCase() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(TestCases.json().utf8)
        let decoded = try CaseDecoder.decode(bytes, today: TestCases.today)
        #expect(decoded.case.id == "test")
    }

    @Test("a syntax error in a case is reported with its position (case-format Validation: not valid JSON)")
    func caseSyntaxError() {
        let errors = TestCases.rejection("{\"formatVersion\": 1,\n \"patient\": {\"sex\": female}}")
        #expect(errors.map(\.field) == [""])
        #expect(errors.first?.message == "the case is not valid JSON: invalid literal (expected false) at line 2, column 21")
    }

    // MARK: JSONWriter

    @Test("integers print without a fraction; others in shortest round-trip form (JSONWriter.formatNumber)", arguments: [
        (3.0, "3"), (-2.0, "-2"), (0.0, "0"), (-0.0, "0"), (2.5, "2.5"), (0.1, "0.1"), (9.42, "9.42"), (-0.25, "-0.25"),
        (100_000_000_000_000, "100000000000000"), (999_999_999_999_999, "999999999999999"),
        (30.2, "30.2"), (1000, "1000"), (Double.nan, "null"), (Double.infinity, "null"), (-Double.infinity, "null"),
    ])
    func numberFormatting(value: Double, text: String) {
        #expect(JSONWriter.formatNumber(value) == text)
    }

    @Test("large and tiny values are written as valid JSON numbers that read back exactly", arguments: [1e15, -1e15, 1e20, 1e300, 1e-7, 5e-324, 0.30000000000000004])
    func numberFormattingRoundTrip(value: Double) throws {
        let text = JSONWriter.formatNumber(value)
        #expect(try JSONParser.parse(text) == .number(value), "\(text)")
    }

    @Test("a parsed 9.0 is written as 9")
    func integerFromParse() throws {
        #expect(JSONWriter.write(try parse(#"{"v": 9.0, "w": 1e2}"#), pretty: false) == #"{"v":9,"w":100}"#)
    }

    @Test("compact output keeps key order")
    func compact() {
        let value: JSONValue = .object(JSONObject([("z", 1), ("a", [true, nil, "s"]), ("e", .object(JSONObject())), ("f", [])]))
        #expect(JSONWriter.write(value, pretty: false) == #"{"z":1,"a":[true,null,"s"],"e":{},"f":[]}"#)
    }

    @Test("pretty output: two-space indent, \": \" after keys")
    func pretty() {
        let value: JSONValue = .object(JSONObject([("a", [1, 2]), ("b", .object(JSONObject([("c", "d")]))), ("e", [])]))
        #expect(JSONWriter.write(value) == "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {\n    \"c\": \"d\"\n  },\n  \"e\": []\n}")
    }

    @Test("strings are escaped as JSON requires")
    func stringEscaping() {
        let s = "q\"b\\n\nt\tr\r\u{01}\u{1F}/é😀"
        #expect(JSONWriter.write(.string(s)) == #""q\"b\\n\nt\tr\r\u0001\u001f/é😀""#)
    }

    static let roundTripDocuments = [
        #"{"a": [1, -2.5, 3e-7, 1e+300], "b": {"c": null, "d": true, "e": false}, "s": "x\"y\\z\n\u0001 é 😀"}"#,
        "[]", "{}", "[[[]]]", #""just a string""#, "0.1", "-0", "123456789012",
        #"{"formatVersion": 1, "asOf": "2023-06-15", "patient": {"sex": "female", "weightKg": 58}, "labs": [{"test": "calcium", "value": 9.1}]}"#,
    ]

    @Test("write then parse gives the same value, pretty and compact", arguments: roundTripDocuments)
    func roundTrip(text: String) throws {
        let value = try parse(text)
        #expect(try parse(JSONWriter.write(value, pretty: true)) == value)
        #expect(try parse(JSONWriter.write(value, pretty: false)) == value)
        // writing is deterministic: writing the re-parsed value gives the same text
        #expect(JSONWriter.write(try parse(JSONWriter.write(value, pretty: false)), pretty: false) == JSONWriter.write(value, pretty: false))
    }

    @Test("the shared case files round-trip through parser and writer")
    func sharedCasesRoundTrip() throws {
        let folder = TestCases.sharedDirectory.appendingPathComponent("cases")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        #expect(names.count >= 2)
        for name in names {
            let bytes = try [UInt8](Data(contentsOf: folder.appendingPathComponent(name)))
            let value = try JSONParser.parse(bytes)
            #expect(try JSONParser.parse(JSONWriter.write(value)) == value, "\(name)")
        }
    }

    @Test("JSONObject subscript set replaces in place, nil removes")
    func objectMutation() {
        var object = JSONObject([("a", 1), ("b", 2)])
        object["a"] = 3
        object["c"] = 4
        object["b"] = nil
        #expect(object.keys == ["a", "c"])
        #expect(object["a"] == .number(3))
        #expect(JSONValue.object(object)["c"] == .number(4))
        #expect(JSONValue.array([])["a"] == nil)
    }

    @Test("Long integers parse without overflow (a 20-digit number once crashed the server)",
          arguments: ["12345678901234567890", "-99999999999999999999", "1234567890123456", "123456789012345.6789", "0.00000000000000001"])
    func longNumbers(_ text: String) throws {
        #expect(try JSONParser.parse("[\(text)]") == .array([.number(Double(text)!)]))
    }
}
