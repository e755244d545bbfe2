import CalciTrackCore
import CalciTrackFHIR

/// The bridge from CalciTrackFHIR's inbound mapping (FHIR resource → registry record bodies and
/// OperationOutcome issues) to the write side's `MappedResource`.
enum InboundAdapter {
    static let mrnSystemPrefix = "https://calcitrack.org/fhir/sid/mrn/"

    static func map(_ resource: JSONObject) -> MappedResource {
        let type = resource["resourceType"]?.stringValue ?? ""
        switch type {
        case "Patient": return patient(resource)
        default:
            return MappedResource(records: [], issues: [.init(.error, .notSupported,
                "CalciTrack does not store \(type.isEmpty ? "resources without resourceType" : type) resources", at: [type.isEmpty ? "resourceType" : type])])
        }
    }

    /// Interim Patient mapping until CalciTrackFHIR's Inbound lands.
    private static func patient(_ r: JSONObject) -> MappedResource {
        var body = JSONObject()
        var issues: [OperationOutcome.Issue] = []
        if case .array(let ids)? = r["identifier"] {
            for case .object(let id) in ids {
                guard let value = id["value"]?.stringValue else { continue }
                if let system = id["system"]?.stringValue, system.hasPrefix(mrnSystemPrefix) {
                    body["siteCode"] = .string(String(system.dropFirst(mrnSystemPrefix.count)))
                    body["mrn"] = .string(value)
                    break
                }
                if body["mrn"] == nil { body["mrn"] = .string(value) }
            }
        }
        if body["mrn"] == nil { issues.append(.init(.error, .required, "a patient needs an identifier (the MRN)", at: ["Patient.identifier"])) }
        if case .array(let names)? = r["name"], case .object(let name)? = names.first {
            body["familyName"] = name["family"] ?? .null
            if case .array(let given)? = name["given"] { body["givenName"] = .string(given.compactMap(\.stringValue).joined(separator: " ")) }
        }
        if body["familyName"] == nil || body["familyName"] == .null { issues.append(.init(.error, .required, "name.family is required", at: ["Patient.name.family"])) }
        if body["givenName"] == nil { issues.append(.init(.error, .required, "name.given is required", at: ["Patient.name.given"])) }
        body["sex"] = .string(r["gender"]?.stringValue ?? "unknown")
        if let birth = r["birthDate"] { body["birthDate"] = birth }
        return MappedResource(records: issues.isEmpty ? [MappedRecord(kind: RegistryRecordKind.patient, body: body)] : [], issues: issues)
    }
}
