/// One problem with one input field: the case-format error shape
/// `{"field": "vitals[0].temperatureC", "value": 385, "message": "..."}`.
public struct FieldIssue: Sendable, Equatable {
    public let field: String
    /// The value as given; nil when the field is missing.
    public let value: JSONValue?
    public let message: String

    public init(field: String, value: JSONValue?, message: String) {
        self.field = field; self.value = value; self.message = message
    }

    public var json: JSONValue {
        .object(JSONObject([("field", .string(field)), ("value", value ?? .null), ("message", .string(message))]))
    }
}

/// Walks a JSON object and collects every error instead of stopping at the first, so that a
/// rejected case lists all of its problems at once. Unknown keys become warnings: a misspelt
/// field must not vanish silently, but a newer writer's extra fields must not break an old reader.
struct FieldReader {
    var errors: [FieldIssue] = []
    var warnings: [FieldIssue] = []

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    mutating func fail(_ path: String, _ value: JSONValue?, _ message: String) {
        errors.append(FieldIssue(field: path, value: value, message: message))
    }

    /// The object at `value`, with unknown keys reported; nil (and an error) if it is not an object.
    mutating func object(_ value: JSONValue?, at path: String, known: Set<String>) -> JSONObject? {
        guard let value, value != .null else { return nil }
        guard case .object(let object) = value else {
            fail(path, value, "\(path.isEmpty ? "the case" : path) must be an object, got \(value.typeName)")
            return nil
        }
        for key in object.keys where !known.contains(key) {
            warnings.append(FieldIssue(field: FieldReader.join(path, key), value: object[key],
                                       message: "unknown field ignored (case format v1 has no \"\(key)\" here)"))
        }
        return object
    }

    mutating func array(_ object: JSONObject, _ key: String, at path: String) -> [JSONValue] {
        let field = FieldReader.join(path, key)
        guard let value = object[key], value != .null else { return [] }
        guard case .array(let items) = value else {
            fail(field, value, "\(key) must be an array, got \(value.typeName)")
            return []
        }
        return items
    }

    mutating func string(_ object: JSONObject, _ key: String, at path: String, required: Bool = false) -> String? {
        let field = FieldReader.join(path, key)
        guard let value = object[key], value != .null else {
            if required { fail(field, nil, "\(key) is required") }
            return nil
        }
        guard case .string(let text) = value else {
            fail(field, value, "\(key) must be a string, got \(value.typeName)")
            return nil
        }
        // A registry stores what a case names (a drug, a lesion id): SQLite reads text back as a C
        // string, which ends at a NUL ("\u{0}x" came back as "", and the stored case no longer
        // decoded), and PostgreSQL refuses one; FHIR's string type excludes it (R4 datatypes.html#string).
        if text.unicodeScalars.contains("\u{0}") {
            fail(field, value, "\(key) must not contain the NUL character (U+0000)")
            return nil
        }
        return text
    }

    mutating func bool(_ object: JSONObject, _ key: String, at path: String) -> Bool? {
        let field = FieldReader.join(path, key)
        guard let value = object[key], value != .null else { return nil }
        guard case .bool(let flag) = value else {
            fail(field, value, "\(key) must be true or false, got \(value.typeName)")
            return nil
        }
        return flag
    }

    /// A number, checked against `range` when given. `describe` names the unit for the message.
    mutating func number(_ object: JSONObject, _ key: String, at path: String, required: Bool = false,
                         range: PlausibleRange? = nil) -> Double? {
        let field = FieldReader.join(path, key)
        guard let value = object[key], value != .null else {
            if required { fail(field, nil, "\(key) is required") }
            return nil
        }
        guard case .number(let number) = value else {
            fail(field, value, "\(key) must be a number, got \(value.typeName)")
            return nil
        }
        if let range, !range.contains(number) {
            fail(field, value, range.message(for: key))
            return nil
        }
        return number
    }

    mutating func vocabulary<V: CaseVocabulary>(_ type: V.Type, _ object: JSONObject, _ key: String, at path: String,
                                                required: Bool = false) -> V? {
        guard let text = string(object, key, at: path, required: required) else { return nil }
        return vocabulary(type, text, field: FieldReader.join(path, key), name: key)
    }

    mutating func vocabulary<V: CaseVocabulary>(_ type: V.Type, _ text: String, field: String, name: String) -> V? {
        guard let value = V(rawValue: text) else {
            fail(field, .string(text), "\(name) must be one of: \(V.allowedList)")
            return nil
        }
        return value
    }

    mutating func date(_ object: JSONObject, _ key: String, at path: String, required: Bool = false) -> LocalDate? {
        guard let text = string(object, key, at: path, required: required) else { return nil }
        guard let date = LocalDate(iso: text) else {
            fail(FieldReader.join(path, key), .string(text), "\(key) must be a calendar date written YYYY-MM-DD")
            return nil
        }
        return date
    }
}

/// A physiologically plausible interval (case-format.md "Validation"); values outside are impossible
/// input, not abnormal results, and reject the case.
public struct PlausibleRange: Sendable {
    public let low: Double
    public let high: Double
    /// "degrees Celsius", "mg/dL", ...
    public let unit: String
    public let lowInclusive: Bool

    public init(_ low: Double, _ high: Double, _ unit: String, lowInclusive: Bool = true) {
        self.low = low; self.high = high; self.unit = unit; self.lowInclusive = lowInclusive
    }

    public func contains(_ value: Double) -> Bool {
        (lowInclusive ? value >= low : value > low) && value <= high
    }

    public func message(for name: String) -> String {
        let lowText = JSONWriter.formatNumber(low), highText = JSONWriter.formatNumber(high)
        return lowInclusive
            ? "\(name) must be between \(lowText) and \(highText) (\(unit))"
            : "\(name) must be greater than \(lowText) and at most \(highText) (\(unit))"
    }
}
