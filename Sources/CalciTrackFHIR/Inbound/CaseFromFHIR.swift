import CalciTrackCore

/// A set of FHIR resources about one patient (a CDS Hooks prefetch: the Patient and searchset
/// Bundles of Conditions, Observations, MedicationStatements, ...) → a case-format root, built
/// with the Inbound mappers and decoded by the engine's own `CaseDecoder`, exactly as
/// `RegistryCase` builds a case from stored records (same sections, same keys).
///
/// What cannot be used is reported, not hidden: resources the mappers reject, records the
/// case format has no place for (procedures, infection episodes, holds), measurements of a
/// lesion not in the set, and entries the decoder rejects (e.g. an implausible value), which
/// are left out so that one bad value does not cost the whole assessment.
public enum CaseFromFHIR {
    public struct Build: Sendable {
        /// The case-format root handed to the decoder (the entries left out are not in it).
        public var root: JSONObject
        /// The decoded case, or the decoder's rejection when even the cleaned root fails.
        public var decoded: Result<DecodedCase, CaseRejection>
        /// Issues of the mapping and of the decoding, each naming its resource.
        public var issues: [OperationOutcome.Issue]
        /// The FHIR id of the Patient resource, when one was given.
        public var patientID: String?
    }

    /// - Parameters:
    ///   - resources: resources or Bundles (their entries are read; `fullUrl` names a resource
    ///     for `urn:uuid:` references).
    ///   - asOf: the date of the case; `today`: the caller's date (the core reads no clock).
    public static func build(_ resources: [JSONObject], asOf: LocalDate, today: LocalDate) -> Build {
        var issues: [OperationOutcome.Issue] = []
        var items: [(resource: JSONObject, fullUrl: String?)] = []
        for resource in resources { flatten(resource, fullUrl: nil, into: &items) }

        var root = JSONObject([("formatVersion", 1), ("asOf", .string(asOf.description))])
        var patient = JSONObject()
        var patientID: String?
        var weightDate = ""
        var sections: [String: [JSONValue]] = ["labs": [], "vitals": [], "medications": [], "visits": [], "imagingStudies": []]
        var vitals: [InboundRecord] = []
        var lesions: [(names: Set<String>, lesion: JSONObject)] = []
        var measurements: [(ref: String, body: JSONObject, name: String)] = []

        if let p = items.first(where: { $0.resource["resourceType"] == "Patient" }) {
            patientID = ResourceReader.string(p.resource["id"])
        }
        let patientRef = patientID.map { "Patient/\($0)" }

        for (resource, fullUrl) in items {
            let name = describe(resource)
            let result = InboundMapping.map(resource)
            issues += result.issues.map { prefixed($0, name) }
            if result.isRejected { continue }
            for record in result.records {
                // Records of another patient (a prefetch is one patient's) are not this case's.
                if let ref = record.references[.patient], let patientRef, ref.hasPrefix("Patient/"), ref != patientRef, !ref.hasSuffix("/" + patientRef) {
                    issues.append(.init(.warning, .processing, "\(name) is about \(ref), not \(patientRef); left out of the case", at: [resourceType(resource)]))
                    continue
                }
                switch record.kind {
                case .patient:
                    for key in ["sex", "birthDate"] { if let v = record.body[key] { patient[key] = v } }
                case .patientUpdate:
                    var update = record.body
                    if update["weightKg"] != nil {
                        // The latest weight is the current one.
                        if let d = record.date, d < weightDate { update["weightKg"] = nil } else { weightDate = record.date ?? weightDate }
                    }
                    if let w = update["weightKg"] { patient["weightKg"] = w; update["weightKg"] = nil }
                    root = InboundMapping.mergePatientUpdate(update, into: root)
                case .labs: sections["labs"]!.append(.object(record.body))
                case .vitals: vitals.append(record)
                case .medications: sections["medications"]!.append(.object(caseMedication(record.body)))
                case .visits: sections["visits"]!.append(.object(record.body))
                case .imagingStudies: sections["imagingStudies"]!.append(.object(keep(record.body, ["date", "modality", "inconclusive"])))
                case .lesions:
                    var names: Set<String> = []
                    if let id = ResourceReader.string(resource["id"]) { names.insert("BodyStructure/\(id)") }
                    if let fullUrl { names.insert(fullUrl) }
                    var lesion = keep(record.body, ["site", "laterality", "morphology", "periarticularMass", "findings"])
                    lesion["id"] = record.body["label"]
                    lesions.append((names, lesion))
                case .measurements:
                    measurements.append((record.references[.lesion] ?? "", keep(record.body, ["date", "lengthCm", "widthCm", "depthCm", "areaCm2", "perimeterCm", "healed"]), name))
                case .procedures, .infectionEpisodes, .holds:
                    issues.append(.init(.information, .informational, "\(name): a \(record.kind.rawValue) record is registry data the case format does not hold; not used",
                                        at: [resourceType(resource)]))
                }
            }
        }
        sections["vitals"] = InboundMapping.mergeVitals(vitals).map { .object($0.body) }

        // Lesion labels must be unique in a case; measurements join their lesion by reference.
        var lesionObjects = lesions.map(\.lesion)
        var seen: [String: Int] = [:]
        for i in lesionObjects.indices {
            let label = ResourceReader.string(lesionObjects[i]["id"]) ?? "lesion"
            seen[label, default: 0] += 1
            if seen[label]! > 1 { lesionObjects[i]["id"] = .string("\(label) (\(seen[label]!))") }
            lesionObjects[i]["measurements"] = .array([])
        }
        for m in measurements {
            let target = ResourceReader.lastTwoSegments(m.ref)
            guard let i = lesions.firstIndex(where: { $0.names.contains(m.ref) || $0.names.contains(target) }) else {
                issues.append(.init(.warning, .notFound, "\(m.name): its lesion \(m.ref) is not among the resources given; the measurement is not used",
                                    at: ["Observation.focus"]))
                continue
            }
            if case .array(var list)? = lesionObjects[i]["measurements"] { list.append(.object(m.body)); lesionObjects[i]["measurements"] = .array(list) }
        }

        root["patient"] = .object(patient)
        if let patientID { root["id"] = .string(patientID) }
        for key in ["labs", "vitals", "medications", "visits", "imagingStudies"] where !(sections[key] ?? []).isEmpty {
            root[key] = .array(sections[key]!)
        }
        if !lesionObjects.isEmpty { root["lesions"] = .array(lesionObjects.map { .object($0) }) }

        // Decode; entries the decoder rejects are left out (each reported) and decoding retried.
        var decoded: Result<DecodedCase, CaseRejection> = .failure(CaseRejection(errors: []))
        for _ in 0..<4 {
            do {
                decoded = .success(try CaseDecoder.decode(.object(root), today: today))
                break
            } catch {
                decoded = .failure(error)
                guard let cleaned = removing(error.errors, from: root, issues: &issues) else { break }
                root = cleaned
            }
        }
        return Build(root: root, decoded: decoded, issues: issues, patientID: patientID)
    }

    private static func flatten(_ resource: JSONObject, fullUrl: String?, into items: inout [(resource: JSONObject, fullUrl: String?)]) {
        if resource["resourceType"] == "Bundle" {
            for entry in ResourceReader.array(resource["entry"]) {
                if let r = ResourceReader.object(entry["resource"]) { flatten(r, fullUrl: ResourceReader.string(entry["fullUrl"]), into: &items) }
            }
        } else {
            items.append((resource, fullUrl))
        }
    }

    /// A medication record's body as a case-format medication (also `CDSOrderSelect`'s drafts).
    public static func caseMedication(_ body: JSONObject) -> JSONObject { keep(body, ["drug", "doseMg", "frequency", "route", "start", "stop"]) }

    private static func keep(_ body: JSONObject, _ keys: [String]) -> JSONObject {
        JSONObject(body.entries.filter { keys.contains($0.key) }.map { ($0.key, $0.value) })
    }

    private static func resourceType(_ resource: JSONObject) -> String { ResourceReader.string(resource["resourceType"]) ?? "Resource" }

    private static func describe(_ resource: JSONObject) -> String {
        resourceType(resource) + (ResourceReader.string(resource["id"]).map { "/\($0)" } ?? "")
    }

    private static func prefixed(_ issue: OperationOutcome.Issue, _ name: String) -> OperationOutcome.Issue {
        var copy = issue
        copy.diagnostics = "\(name): \(issue.diagnostics)"
        return copy
    }

    /// The root without the array entries the errors name (`labs[2].value` → labs[2]); nil when
    /// an error is not inside such an entry (nothing to leave out).
    private static func removing(_ errors: [FieldIssue], from root: JSONObject, issues: inout [OperationOutcome.Issue]) -> JSONObject? {
        var drop: [String: Set<Int>] = [:]
        for error in errors {
            guard let open = error.field.firstIndex(of: "["), let close = error.field.firstIndex(of: "]"),
                  let index = Int(error.field[error.field.index(after: open)..<close]) else { return nil }
            let section = String(error.field[..<open])
            guard case .array? = root[section] else { return nil }
            drop[section, default: []].insert(index)
            issues.append(.init(.warning, .value, "left out of the case: \(error.field): \(error.message)", at: [error.field]))
        }
        guard !drop.isEmpty else { return nil }
        var out = root
        for (section, indices) in drop {
            guard case .array(let list)? = out[section] else { continue }
            out[section] = .array(list.enumerated().filter { !indices.contains($0.offset) }.map(\.element))
        }
        return out
    }
}
