import CalciTrackCore
import Foundation

/// Validation for registry fields that the case format does not describe (procedures,
/// infection episodes, holds, notes, pain scores). Collects every problem, then throws once:
/// the API names each field, its value and what is allowed, and writes nothing.
struct FieldValidator {
    let body: JSONObject
    let today: LocalDate
    private(set) var issues: [FieldIssue] = []
    private var known: Set<String> = []

    init(_ body: JSONObject, today: LocalDate) { self.body = body; self.today = today }

    /// Marks keys that another validator (e.g. `CaseFragment`) checks.
    mutating func accept(_ keys: [String]) { known.formUnion(keys) }

    mutating func fail(_ field: String, _ value: JSONValue?, _ message: String) {
        issues.append(FieldIssue(field: field, value: value, message: message))
    }

    private mutating func raw(_ key: String, required: Bool) -> JSONValue? {
        known.insert(key)
        guard let value = body[key], value != .null else {
            if required { fail(key, nil, "\(key) is required") }
            return nil
        }
        return value
    }

    mutating func string(_ key: String, required: Bool = false, maxLength: Int = 2000) -> String? {
        guard let value = raw(key, required: required) else { return nil }
        guard case .string(let s) = value else { fail(key, value, "\(key) must be a string, got \(value.typeName)"); return nil }
        if required && s.trimmingCharacters(in: .whitespaces).isEmpty { fail(key, value, "\(key) must not be empty"); return nil }
        if s.count > maxLength { fail(key, value, "\(key) must be at most \(maxLength) characters"); return nil }
        // SQLite's C strings end at a NUL (a label "\u{0}x" read back as "") and PostgreSQL refuses
        // one in text; FHIR's string type excludes it too (R4 datatypes.html#string).
        if s.unicodeScalars.contains("\u{0}") { fail(key, value, "\(key) must not contain the NUL character (U+0000)"); return nil }
        return s
    }

    mutating func vocabulary(_ key: String, _ allowed: [String], required: Bool = false) -> String? {
        guard let value = raw(key, required: required) else { return nil }
        guard case .string(let s) = value, allowed.contains(s) else {
            fail(key, value, "\(key) must be one of: \(allowed.joined(separator: ", "))"); return nil
        }
        return s
    }

    /// An ISO date, not after today + 1 day (the case format's tolerance for measurement dates).
    mutating func date(_ key: String, required: Bool = false) -> LocalDate? {
        guard let value = raw(key, required: required) else { return nil }
        guard case .string(let s) = value, let date = LocalDate(iso: s) else {
            fail(key, value, "\(key) must be a calendar date written YYYY-MM-DD"); return nil
        }
        if !RegistryDates.range.contains(date) { fail(key, value, RegistryDates.message(key)); return nil }
        if date > today.adding(days: 1) { fail(key, value, "\(key) must not be after \(today.adding(days: 1)) (today + 1 day)"); return nil }
        return date
    }

    mutating func number(_ key: String, range: ClosedRange<Double>, unit: String, required: Bool = false) -> Double? {
        guard let value = raw(key, required: required) else { return nil }
        guard case .number(let n) = value, n.isFinite else { fail(key, value, "\(key) must be a number (\(unit))"); return nil }
        guard range.contains(n) else {
            fail(key, value, "\(key) must be between \(JSONWriter.formatNumber(range.lowerBound)) and \(JSONWriter.formatNumber(range.upperBound)) (\(unit))"); return nil
        }
        return n
    }

    mutating func bool(_ key: String, required: Bool = false) -> Bool? {
        guard let value = raw(key, required: required) else { return nil }
        guard case .bool(let b) = value else { fail(key, value, "\(key) must be true or false"); return nil }
        return b
    }

    mutating func uuid(_ key: String, required: Bool = false) -> UUID? {
        guard let value = raw(key, required: required) else { return nil }
        guard case .string(let s) = value, let id = UUID.parse(s) else { fail(key, value, "\(key) must be a record id (UUID)"); return nil }
        return id
    }

    /// Validates the keys that the case format describes through `CaseFragment` (same units,
    /// ranges and messages as the engine); returns the decoded case holding the record.
    mutating func caseFragment(_ keys: [String], at path: [String], adding extra: [(String, JSONValue)] = []) -> Case? {
        accept(keys)
        let subset = JSONObject(extra + body.entries.filter { keys.contains($0.key) }.map { ($0.key, $0.value) })
        checkDateRange(.object(subset), path: "")
        do {
            return try CaseFragment.decode(subset, at: path, today: today)
        } catch {
            issues += error.fieldIssues
            return nil
        }
    }

    /// Every full date (and year-only diagnosisDate) inside `value` must lie in the registry's
    /// date range; the case format itself accepts any year.
    mutating func checkDateRange(_ value: JSONValue, path: String) {
        switch value {
        case .string(let s):
            if let date = LocalDate(iso: s), !RegistryDates.range.contains(date) {
                fail(path, value, RegistryDates.message(path))
            } else if s.count == 4, let year = Int(s), !(RegistryDates.range.lowerBound.year...RegistryDates.range.upperBound.year).contains(year) {
                fail(path, value, RegistryDates.message(path))
            }
        case .array(let items):
            for (i, item) in items.enumerated() { checkDateRange(item, path: "\(path)[\(i)]") }
        case .object(let object):
            for entry in object.entries { checkDateRange(entry.value, path: path.isEmpty ? entry.key : "\(path).\(entry.key)") }
        default: break
        }
    }

    /// A date the case format accepts (it is checked there) must still not lie in the future.
    mutating func notFuture(_ key: String) {
        guard case .string(let s)? = body[key], let date = LocalDate(iso: s), date > today.adding(days: 1) else { return }
        fail(key, .string(s), "\(key) must not be after \(today.adding(days: 1)) (today + 1 day)")
    }

    /// Fails for keys nobody read, then throws every issue found.
    mutating func finish(ignoring common: Set<String> = RecordFields.common) throws(APIError) {
        for key in body.keys where !known.contains(key) && !common.contains(key) {
            fail(key, body[key], "unknown field \"\(key)\"; see /openapi.json for the allowed fields")
        }
        if !issues.isEmpty { throw APIError(validation: issues) }
    }
}

/// Fields every record's JSON carries that a client may echo back in an update; they are read
/// from the URL and the `If-Match` header, never from the body.
enum RecordFields {
    static let common: Set<String> = ["id", "patientId", "version", "createdAt", "updatedAt", "createdBy", "updatedBy"]
}

/// The dates a registry record may carry (a project decision): no clinical record predates 1900,
/// and planned dates (next visit, planned stop) stay within two centuries. Keeps de-identified
/// date shifting inside four-digit years.
enum RegistryDates {
    static let range = LocalDate(iso: "1900-01-01")!...LocalDate(iso: "2199-12-31")!

    static func message(_ field: String) -> String {
        "\(field) must be a date from \(range.lowerBound) to \(range.upperBound)"
    }
}
