import CalciTrackCore

/// Small builders for the FHIR JSON the Outbound mappers write. Absent values (nil) are left
/// out, so an element is present only when the registry holds it.
enum FHIR {
    static func object(_ pairs: [(String, JSONValue?)]) -> JSONValue {
        .object(JSONObject(pairs.compactMap { key, value in value.map { (key, $0) } }))
    }

    static func coding(_ system: String, _ code: String, _ display: String? = nil) -> JSONValue {
        object([("system", .string(system)), ("code", .string(code)), ("display", display.map { .string($0) })])
    }

    /// A CodeableConcept from codings (may be empty: text only) and text.
    static func concept(_ codings: [JSONValue], text: String? = nil) -> JSONValue {
        object([("coding", codings.isEmpty ? nil : .array(codings)), ("text", text.map { .string($0) })])
    }

    static func reference(_ type: String, _ id: String) -> JSONValue { object([("reference", .string("\(type)/\(id)"))]) }

    /// A UCUM quantity (http://unitsofmeasure.org), `unit` shown as written.
    static func quantity(_ value: Double, ucum: String, unit: String? = nil) -> JSONValue {
        object([("value", .number(value)), ("unit", .string(unit ?? ucum)), ("system", .string(CodeSystem.ucum)), ("code", .string(ucum))])
    }

    /// `meta` from the record's version and update time (docs/fhir.md: versionId = registry version).
    static func meta(_ record: JSONValue, profile: String? = nil) -> JSONValue? {
        let version = record["version"]?.numberValue.map { String(Int($0)) }
        let updated = record["updatedAt"]?.stringValue ?? record["createdAt"]?.stringValue
        if version == nil && updated == nil && profile == nil { return nil }
        return object([("versionId", version.map { .string($0) }), ("lastUpdated", updated.map { .string($0) }),
                       ("profile", profile.map { .array([.string($0)]) })])
    }

    static func annotation(_ text: String) -> JSONValue { object([("text", .string(text))]) }

    static func string(_ s: String?) -> JSONValue? { s.map { .string($0) } }

    /// A local CalciTrack code (clinical-spec 12: where no standard code exists, "use local codes").
    static func local(_ code: String, _ display: String? = nil) -> JSONValue { coding(CodeSystem.local, code, display) }

    /// Local extensions for registry fields FHIR R4 has no element for.
    static let extensionBase = CodeSystem.extensionBase
    static func ext(_ name: String, _ valueKey: String, _ value: JSONValue) -> JSONValue {
        object([("url", .string(extensionBase + name)), (valueKey, value)])
    }
}

extension JSONValue {
    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    var numberValue: Double? { if case .number(let n) = self { n } else { nil } }
    var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
}

/// What a mapper needs besides the record itself.
public struct OutboundContext: Sendable {
    /// The day statuses are judged on (e.g. whether a medication hold is current).
    public var asOf: LocalDate
    /// Lesions of the patient by id (API JSON), for infection episodes (site, laterality).
    public var lesions: [String: JSONValue]
    /// Holds by medication id (API JSON).
    public var holds: [String: [JSONValue]]

    public init(asOf: LocalDate, lesions: [String: JSONValue] = [:], holds: [String: [JSONValue]] = [:]) {
        self.asOf = asOf; self.lesions = lesions; self.holds = holds
    }
}
