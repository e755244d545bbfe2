import CalciTrackCore

/// BodyStructure → a lesion: label (identifier, else description), site (location),
/// laterality (locationQualifier), morphology, and the registry's own fields carried as
/// CalciTrack extensions (findings, periarticular mass, status). Sites and morphologies have no
/// standard codes in clinical-spec 12, so they are read as CalciTrack local codes or as text
/// naming a case-format value ("Right thigh").
enum BodyStructureInbound {
    static let findingsExtension = InboundCodes.extensionBase + "lesion-findings"
    static let periarticularExtension = InboundCodes.extensionBase + "periarticular-mass"
    static let statusExtension = InboundCodes.extensionBase + "lesion-status"
    static let findingNames = ["ulcerated", "purulent", "abscess", "erythema", "warmth", "edema", "pain", "extrusion", "bullae",
                               "skinSloughing", "necrosis", "retiformPurpura", "livedo"]
    static let statuses = ["active", "healed", "excised", "resolved"]

    static func map(_ r: inout ResourceReader) -> [InboundRecord] {
        guard let patient = r.patientReference("patient") else { return [] }
        var body = JSONObject()
        let identifiers = ResourceReader.array(r.take("identifier")).compactMap { ResourceReader.object($0) }
        let description = ResourceReader.string(r.take("description"))
        var described: (status: String?, fields: JSONObject)?
        if let label = identifiers.compactMap({ ResourceReader.string($0["value"]) }).first {
            body["label"] = .string(label)
            if identifiers.count > 1 { r.warn("only the first identifier is stored, as the lesion's label", at: "identifier") }
            if let description {
                if let parsed = Self.outboundDescription(description, label: label) { described = parsed }
                else { body["note"] = .string(description) }
            }
        } else if let description, description.count <= 64 {
            body["label"] = .string(description)
        } else {
            r.reject(.required, "BodyStructure needs an identifier (or a description of at most 64 characters) to name the lesion: the registry's lesion label",
                     at: "identifier")
        }

        if let location = r.take("location") {
            let text = (ResourceReader.text(location) ?? "").lowercased()
            if let site = localOrText(location, BodySite.self) {
                body["site"] = .string(site)
                // "Right thigh" also names the side when no qualifier does.
                if r.peekValue("locationQualifier") == nil, let side = Laterality.allCases.first(where: { text.split(separator: " ").contains(Substring($0.rawValue)) }) {
                    body["laterality"] = .string(side.rawValue)
                }
            } else {
                r.warn("location \(ResourceReader.describe(location)) names no body site CalciTrack records (\(BodySite.allowedList)); the lesion is stored without a site",
                       at: "location")
            }
        }
        for (i, qualifier) in ResourceReader.array(r.take("locationQualifier")).enumerated() {
            if let side = ResourceReader.code(qualifier, system: CodeSystem.snomed).flatMap({ InboundCodes.lateralitySNOMED[$0]?.rawValue })
                ?? localOrText(qualifier, Laterality.self) {
                body["laterality"] = .string(side)
            } else {
                r.warn("locationQualifier \(ResourceReader.describe(qualifier)) is not a laterality CalciTrack records (\(Laterality.allowedList))",
                       at: "locationQualifier[\(i)]")
            }
        }
        if let morphology = r.take("morphology") {
            if let m = localOrText(morphology, Morphology.self) { body["morphology"] = .string(m) }
            else { r.warn("morphology \(ResourceReader.describe(morphology)) is not one CalciTrack records (\(Morphology.allowedList))", at: "morphology") }
        }
        if let ext = r.takeExtension(periarticularExtension) {
            if let b = ResourceReader.bool(ext["valueBoolean"]) { body["periarticularMass"] = .bool(b) }
            else { r.reject(.value, "the periarticular-mass extension needs valueBoolean", at: "extension('\(periarticularExtension)')") }
        }
        if let ext = r.takeExtension(findingsExtension) {
            var findings = JSONObject()
            for item in ResourceReader.extensions(of: ext) {
                let name = ResourceReader.string(item["url"]) ?? ""
                if findingNames.contains(name), let b = ResourceReader.bool(item["valueBoolean"]) { findings[name] = .bool(b) }
                else { r.reject(.value, "lesion finding \"\(name)\" must be one of \(findingNames.joined(separator: ", ")) with valueBoolean", at: "extension('\(findingsExtension)')") }
            }
            body["findings"] = .object(findings)
        }
        let active = r.take("active")
        if let described {
            for (k, v) in described.fields.entries where body[k] == nil { body[k] = v }
        }
        if let ext = r.takeExtension(statusExtension) {
            if let s = ResourceReader.string(ext["valueCode"]), statuses.contains(s) { body["status"] = .string(s) }
            else { r.reject(.value, "the lesion-status extension needs valueCode, one of \(statuses.joined(separator: ", "))", at: "extension('\(statusExtension)')") }
        } else if let status = described?.status {
            body["status"] = .string(status)
        } else if active == .bool(false) {
            body["status"] = "resolved"
            r.inform("active false stored as lesion status resolved (healed or excised are not distinguishable without the lesion-status extension)", at: "active")
        }
        return [InboundRecord(kind: .lesions, body: body, references: [.patient: patient])]
    }

    /// The description Outbound writes ("Calcinosis lesion L1; status healed; periarticular mass;
    /// findings present: purulent, pain; absent: abscess; note: ...") back into the lesion's
    /// status, periarticular mass, findings and note. nil for any other description.
    static func outboundDescription(_ text: String, label: String) -> (status: String?, fields: JSONObject)? {
        let head = "Calcinosis lesion \(label)"
        guard text == head || text.hasPrefix(head + "; ") else { return nil }
        var rest = Substring(text.dropFirst(head.count))
        var status: String?
        var fields = JSONObject()
        var findings = JSONObject()
        // The note is last and may itself contain "; ".
        if let n = rest.firstRange(of: "; note: ") {
            fields["note"] = .string(String(rest[n.upperBound...]))
            rest = rest[..<n.lowerBound]
        }
        for part in rest.split(separator: ";").map({ $0.trimmingPrefix(" ") }) where !part.isEmpty {
            if part.hasPrefix("status "), statuses.contains(String(part.dropFirst(7))) { status = String(part.dropFirst(7)) }
            else if part == "periarticular mass" { fields["periarticularMass"] = true }
            else if part.hasPrefix("findings present: ") || part.hasPrefix("absent: ") {
                let present = part.hasPrefix("findings present: ")
                let names = part.dropFirst(present ? 18 : 8).split(separator: ",").map { String($0.trimmingPrefix(" ")) }
                guard names.allSatisfy(findingNames.contains) else { return nil }
                for name in names { findings[name] = .bool(present) }
            } else {
                return nil
            }
        }
        if !findings.entries.isEmpty { fields["findings"] = .object(findings) }
        return (status, fields)
    }

    /// A CalciTrack local code, or a coding display / text naming a vocabulary value
    /// ("Lower leg" → lower-leg), of the vocabulary `V`.
    static func localOrText<V: CaseVocabulary>(_ concept: JSONValue, _: V.Type) -> String? {
        if let code = ResourceReader.code(concept, system: CodeSystem.local), V(rawValue: code) != nil { return code }
        let texts = [ResourceReader.string(concept["text"])] + ResourceReader.codings(concept).map(\.display)
        for text in texts.compactMap({ $0?.lowercased() }) {
            let dashed = String(text.map { $0 == " " ? "-" : $0 })
            if V(rawValue: dashed) != nil { return dashed }
            // "right thigh": the value as a whole word at the end.
            // The longest value that matches, the first of equal length (as a stable sort by
            // length then a search would find, without sorting the vocabulary per call).
            var match: String?
            for value in V.allCases where dashed.hasSuffix("-" + value.rawValue) && value.rawValue.count > (match?.count ?? -1) { match = value.rawValue }
            if let match { return match }
        }
        return nil
    }
}
