import CalciTrackCore
import Foundation

extension OpenAPIDocument {
    // MARK: - JSON Schema builders

    /// Small builders for JSON Schema 2020-12 (the dialect of OpenAPI 3.1). `nullable` means the
    /// server reads null as "absent" (every optional input field does).
    enum S {
        static func obj(_ pairs: [(String, JSONValue?)]) -> JSONValue { .object(JSONObject(compacting: pairs)) }
        static func ref(_ name: String) -> JSONValue { obj([("$ref", .string("#/components/schemas/\(name)"))]) }
        static func type(_ name: String, _ nullable: Bool) -> JSONValue { nullable ? .array([.string(name), "null"]) : .string(name) }
        static func describe(_ text: String?) -> JSONValue? { text.map { .string($0) } }

        static func string(maxLength: Int? = nil, minLength: Int? = nil, pattern: String? = nil, format: String? = nil,
                           nullable: Bool = false, _ description: String? = nil) -> JSONValue {
            obj([("type", type("string", nullable)), ("format", format.map { .string($0) }), ("minLength", .optional(minLength)),
                 ("maxLength", .optional(maxLength)), ("pattern", pattern.map { .string($0) }), ("description", describe(description))])
        }

        /// A string holding at least one character that is not blank (the validators trim with
        /// Foundation's `.whitespaces`: Unicode Zs and tab).
        static func nonBlank(maxLength: Int, _ description: String? = nil) -> JSONValue {
            string(maxLength: maxLength, pattern: Patterns.notOnlyZsOrTab, description)
        }

        static func number(minimum: Double? = nil, maximum: Double? = nil, exclusiveMinimum: Double? = nil, nullable: Bool = false,
                           _ description: String? = nil) -> JSONValue {
            obj([("type", type("number", nullable)), ("minimum", .optional(minimum)), ("exclusiveMinimum", .optional(exclusiveMinimum)),
                 ("maximum", .optional(maximum)), ("description", describe(description))])
        }

        /// A number in one of the engine's plausible ranges (values outside are impossible input).
        static func plausible(_ range: PlausibleRange, nullable: Bool = true) -> JSONValue {
            number(minimum: range.lowInclusive ? range.low : nil, maximum: range.high,
                   exclusiveMinimum: range.lowInclusive ? nil : range.low, nullable: nullable, range.unit)
        }

        static func integer(minimum: Int? = nil, maximum: Int? = nil, nullable: Bool = false, _ description: String? = nil) -> JSONValue {
            obj([("type", type("integer", nullable)), ("minimum", .optional(minimum)), ("maximum", .optional(maximum)),
                 ("description", describe(description))])
        }

        static func boolean(nullable: Bool = false, _ description: String? = nil) -> JSONValue {
            obj([("type", type("boolean", nullable)), ("description", describe(description))])
        }

        static func enumeration(_ values: [String], nullable: Bool = false, _ description: String? = nil) -> JSONValue {
            obj([("type", type("string", nullable)), ("enum", .array(values.map { .string($0) } + (nullable ? [.null] : []))),
                 ("description", describe(description))])
        }

        static func vocabulary<V: CaseVocabulary>(_ type: V.Type, nullable: Bool = false, _ description: String? = nil) -> JSONValue {
            enumeration(V.allCases.map(\.rawValue), nullable: nullable, description)
        }

        static func constant(_ value: JSONValue) -> JSONValue { obj([("const", value)]) }

        /// A calendar date `YYYY-MM-DD` (years 0001-9999; 2023-02-30 is not a date).
        static func date(nullable: Bool = false, _ description: String? = nil) -> JSONValue {
            string(pattern: Patterns.isoDate, format: "date", nullable: nullable, description)
        }

        static let uuid = string(format: "uuid")
        static let nullableUUID = string(format: "uuid", nullable: true)
        static let timestamp = string(format: "date-time", "UTC, to the second")
        static let version = integer(minimum: 1, "increases by one with every update; the ETag")

        static func array(_ items: JSONValue, nullable: Bool = false, _ description: String? = nil) -> JSONValue {
            obj([("type", type("array", nullable)), ("items", items), ("description", describe(description))])
        }

        /// An object. `closed`: unknown keys are rejected (request bodies) or never sent (responses).
        static func object(_ properties: [(String, JSONValue)], required: [String] = [], closed: Bool = true, nullable: Bool = false,
                           _ description: String? = nil, extra: [(String, JSONValue?)] = []) -> JSONValue {
            obj([("type", type("object", nullable)), ("description", describe(description)),
                 ("properties", .object(JSONObject(properties))),
                 ("required", required.isEmpty ? nil : .array(required.map { .string($0) })),
                 ("additionalProperties", closed ? .bool(false) : nil)] + extra)
        }

        /// Keys a client may echo back from a response; the server ignores them (any value).
        static func ignored(_ keys: [String]) -> [(String, JSONValue)] {
            keys.sorted().map { ($0, obj([("description", "read-only; ignored when sent (it comes from the URL, If-Match or the server)")])) }
        }
    }

    enum Patterns {
        static let isoDate = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
        /// Some character other than tab or a Unicode space separator (Zs).
        static let notOnlyZsOrTab = "[^\t \u{00A0}\u{1680}\u{2000}-\u{200A}\u{202F}\u{205F}\u{3000}]"
        /// Some character that is not Unicode White_Space (Swift's `Character.isWhitespace`).
        static let notOnlyWhiteSpace = "[^\t\n\u{0B}\u{0C}\r \u{85}\u{A0}\u{1680}\u{2000}-\u{200A}\u{2028}\u{2029}\u{202F}\u{205F}\u{3000}]"
        static let yearOnly = "^([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])$"
        static let etag = "^\"[1-9][0-9]*\"$"
    }
}
