import CalciTrackCore

/// Patient → the registry patient body (`PatientInput`): MRN, names, sex, birth date. The site
/// comes from the MRN identifier's system when it is CalciTrack's
/// (`https://calcitrack.org/fhir/sid/mrn/<site code>`, docs/fhir.md "Identity") as `siteCode`;
/// the caller turns it into `siteId`.
enum PatientInbound {
    static func map(_ r: inout ResourceReader) -> [InboundRecord] {
        var body = JSONObject()
        let identifiers = ResourceReader.array(r.take("identifier")).compactMap { ResourceReader.object($0) }
        // Ours first, then one typed MR (v2-0203 "Medical record number").
        let ours = identifiers.firstIndex { ResourceReader.string($0["system"])?.hasPrefix(InboundCodes.mrnSystemPrefix) == true }
        let typedMR = identifiers.firstIndex { id in
            ResourceReader.codings(id["type"]).contains { $0.system == InboundCodes.v2IdentifierType && $0.code == "MR" }
        }
        if let i = ours ?? typedMR, let value = ResourceReader.string(identifiers[i]["value"]) {
            body["mrn"] = .string(value)
            if let i = ours, let system = ResourceReader.string(identifiers[i]["system"]) {
                body["siteCode"] = .string(String(system.dropFirst(InboundCodes.mrnSystemPrefix.count)))
            }
            for (j, other) in identifiers.enumerated() where j != i {
                r.warn("identifier \(ResourceReader.string(other["system"]) ?? "(no system)")|\(ResourceReader.string(other["value"]) ?? "") is not stored (the registry keeps one MRN)",
                       at: "identifier[\(j)]")
            }
        } else if !identifiers.isEmpty {
            // No MRN is recognisable: none is guessed. The API requires one, so the caller must supply it.
            r.warn("no identifier is a CalciTrack MRN (system \(InboundCodes.mrnSystemPrefix)<site>) or typed MR (v2-0203); none was taken as the MRN",
                   at: "identifier")
        }

        let names = ResourceReader.array(r.take("name")).compactMap { ResourceReader.object($0) }
        if let name = names.first(where: { ResourceReader.string($0["use"]) == "official" }) ?? names.first {
            if let family = ResourceReader.string(name["family"]) { body["familyName"] = .string(family) }
            let given = ResourceReader.array(name["given"]).compactMap { ResourceReader.string($0) }
            if !given.isEmpty { body["givenName"] = .string(given.joined(separator: " ")) }
            if names.count > 1 { r.warn("only one name is stored (the official one, else the first)", at: "name") }
        }

        // administrative-gender (R4) is the registry's sex vocabulary (female, male, other, unknown).
        if let gender = r.take("gender") {
            if let g = ResourceReader.string(gender), Sex(rawValue: g) != nil { body["sex"] = .string(g) }
            else { r.reject(.value, "Patient.gender must be one of \(Sex.allowedList) (administrative-gender)", at: "gender") }
        }
        if let birth = r.take("birthDate") {
            switch ResourceReader.string(birth).map(ResourceReader.date) {
            case .day(let d)?: body["birthDate"] = .string(d)
            case .partial(let p)?: r.warn("birthDate \"\(p)\" is not a full date; the registry stores full birth dates only, so it is not stored", at: "birthDate")
            default: r.reject(.value, "Patient.birthDate is not a valid FHIR date (YYYY-MM-DD)", at: "birthDate")
            }
        }
        if let active = r.take("active"), active != .bool(true) {
            r.warn("active \(ResourceReader.show(active)) is not stored: the registry keeps every patient it holds as active", at: "active")
        }
        return [InboundRecord(kind: .patient, body: body)]
    }
}
