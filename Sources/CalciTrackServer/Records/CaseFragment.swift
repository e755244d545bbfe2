import CalciTrackCore

/// Validates registry input that the case format also describes (a lab, a vitals row, a lesion,
/// ...) by decoding a minimal case that holds it. The registry therefore accepts exactly what
/// the engine accepts, with the same units, ranges and messages (case-format.md "Validation").
enum CaseFragment {
    /// `record` is placed at `path` (e.g. `["labs"]`, or `["lesions", "measurements"]` for a
    /// measurement inside a stub lesion). Error and warning paths are rewritten relative to the
    /// record; an unknown key is an error here, because a registry must not drop data silently.
    static func decode(_ record: JSONObject, at path: [String], today: LocalDate) throws(APIError) -> Case {
        var root = JSONObject([("formatVersion", 1), ("asOf", .string(today.description)), ("patient", .object(JSONObject()))])
        var prefix: String
        if path.count == 2 {
            let lesion = JSONObject([("id", "stub"), (path[1], .array([.object(record)]))])
            root[path[0]] = .array([.object(lesion)])
            prefix = "\(path[0])[0].\(path[1])[0]."
        } else {
            root[path[0]] = .array([.object(record)])
            prefix = "\(path[0])[0]."
        }
        return try decode(root, stripping: prefix, today: today)
    }

    /// Decodes top-level case sections (patient, ssc, history, ...) given as a whole case root.
    static func decode(_ root: JSONObject, stripping prefix: String, today: LocalDate) throws(APIError) -> Case {
        do {
            let decoded = try CaseDecoder.decode(.object(root), today: today)
            let unknown = decoded.warnings.map { relative($0, prefix) }
            if !unknown.isEmpty {
                throw APIError(validation: unknown.map {
                    FieldIssue(field: $0.field, value: $0.value, message: "unknown field \"\($0.field)\"; see /openapi.json for the allowed fields")
                })
            }
            return decoded.case
        } catch let rejection as CaseRejection {
            throw APIError(validation: rejection.errors.map { relative($0, prefix) })
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.internalServerError, "unexpected validation failure")
        }
    }

    private static func relative(_ issue: FieldIssue, _ prefix: String) -> FieldIssue {
        guard !prefix.isEmpty, issue.field.hasPrefix(prefix) else { return issue }
        return FieldIssue(field: String(issue.field.dropFirst(prefix.count)), value: issue.value, message: issue.message)
    }
}
