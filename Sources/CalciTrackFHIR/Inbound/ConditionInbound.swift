import CalciTrackCore

/// Condition → the patient's SSc section, an SSc feature, the dialysis history, or an infection
/// episode (docs/fhir.md "Identity"). The calcinosis cutis Condition is the registry's summary of
/// the lesions (Outbound builds it from them), so it creates nothing: lesions come as BodyStructure.
/// Any other condition has no registry home and is rejected.
enum ConditionInbound {
    static func map(_ r: inout ResourceReader) -> [InboundRecord] {
        guard let code = r.take("code") else {
            r.reject(.required, "Condition.code is required: CalciTrack stores only conditions it recognises by code", at: "code")
            return []
        }
        let codings = ResourceReader.codings(code)
        let patient = r.patientReference("subject")
        // Classification and the time of recording add nothing the registry keeps: it records its own.
        r.handled("category", "recordedDate")
        if let verification = ResourceReader.code(r.take("verificationStatus"), system: CodeSystem.conditionVerification) {
            switch verification {
            case "refuted", "entered-in-error":
                r.reject(.businessRule, "Condition.verificationStatus \(verification): a refuted or erroneous diagnosis is not stored", at: "verificationStatus")
            case "confirmed": break
            default:
                r.warn("verificationStatus \(verification) is not stored: the registry records the diagnosis as established", at: "verificationStatus")
            }
        }
        let clinical = ResourceReader.code(r.peekValue("clinicalStatus"), system: CodeSystem.conditionClinical)
        guard let patient else { return [] }
        let refs: [ReferenceRole: String] = [.patient: patient]

        if case .ssc(let subtype)? = InboundCodes.ssc(codings) {
            return ssc(&r, subtype: subtype, clinical: clinical, refs: refs)
        }
        if InboundCodes.isCalcinosisCutis(codings) {
            r.handled("clinicalStatus", "bodySite", "evidence", "onsetDateTime", "onsetPeriod", "abatementDateTime", "note")
            r.warn("the calcinosis cutis Condition is derived from the patient's lesions and creates no record; send each lesion as a BodyStructure "
                   + "(site, laterality, morphology) and its sizes as wound size Observations (LOINC 72287-6)", at: "code")
            return []
        }
        if let kind = InboundCodes.infection(codings) {
            return infection(&r, kind: kind, clinical: clinical, refs: refs)
        }
        if let feature = InboundCodes.sscFeature(codings) {
            r.handled("clinicalStatus", "onsetDateTime", "onsetPeriod")
            return [InboundRecord(kind: .patientUpdate, body: JSONObject([("ssc", .object(JSONObject([("features", .array([.string(feature)]))])))]),
                                  references: refs)]
        }
        if InboundCodes.isDialysis(codings) {
            r.handled("clinicalStatus", "onsetDateTime", "onsetPeriod")
            guard clinical == nil || clinical == "active" else {
                r.reject(.businessRule, "Condition.clinicalStatus \(clinical ?? ""): only current dialysis (active) is stored, as history.dialysis", at: "clinicalStatus")
                return []
            }
            return [InboundRecord(kind: .patientUpdate, body: JSONObject([("history", .object(JSONObject([("dialysis", true)])))]), references: refs)]
        }
        r.reject(.notSupported, "Condition.code \(ResourceReader.describe(code)) is not a condition CalciTrack stores (systemic sclerosis, "
                 + "its features, dialysis, calcinosis cutis, cellulitis, septic arthritis; clinical-spec 12.1-12.3)", at: "code")
        return []
    }

    // MARK: Systemic sclerosis → patient `ssc`

    static let antibodyByName: [(String, String)] = [("scl-70", "scl70"), ("scl70", "scl70"), ("centromere", "centromere"),
                                                      ("pm-scl", "pmScl"), ("rna polymerase iii", "rnaPolIII")]

    private static func ssc(_ r: inout ResourceReader, subtype: String?, clinical: String?, refs: [ReferenceRole: String]) -> [InboundRecord] {
        var section = JSONObject()
        if let subtype { section["subtype"] = .string(subtype) }
        if let clinical, clinical != "active" {
            r.warn("clinicalStatus \(clinical) is not stored: the registry keeps SSc as a lifelong diagnosis", at: "clinicalStatus")
        }
        _ = r.take("clinicalStatus")
        if let onset = r.take("onsetDateTime") {
            // case-format: diagnosisDate is YYYY-MM-DD or a bare year.
            switch ResourceReader.string(onset).map(ResourceReader.date) {
            case .day(let d)?: section["diagnosisDate"] = .string(d)
            case .partial(let p)?:
                section["diagnosisDate"] = .string(String(p.prefix(4)))
                if p.count > 4 { r.inform("onset \(p) stored as the year \(p.prefix(4)) (diagnosisDate is a full date or a year)", at: "onsetDateTime") }
            default: r.reject(.value, "Condition.onsetDateTime is not a valid FHIR dateTime", at: "onsetDateTime")
            }
        }
        // Outbound writes features (SNOMED or text) and antibody results as evidence; read them back.
        var features: [JSONValue] = []
        var antibodies = JSONObject()
        for (i, item) in ResourceReader.array(r.take("evidence")).enumerated() {
            for (j, concept) in ResourceReader.array(item["code"]).enumerated() {
                let codings = ResourceReader.codings(concept)
                let text = (ResourceReader.text(concept) ?? "").lowercased()
                if let feature = InboundCodes.sscFeature(codings) ?? SScFeature(rawValue: text)?.rawValue {
                    if !features.contains(.string(feature)) { features.append(.string(feature)) }
                } else if let (key, status) = antibody(text) {
                    antibodies[key] = .string(status)
                } else {
                    r.warn("evidence \"\(ResourceReader.describe(concept))\" is neither an SSc feature nor an antibody result the registry stores",
                           at: "evidence[\(i)].code[\(j)]")
                }
            }
            if item["detail"] != nil { r.warn("evidence detail references are not stored", at: "evidence[\(i)].detail") }
        }
        if !features.isEmpty { section["features"] = .array(features) }
        if !antibodies.entries.isEmpty { section["antibodies"] = .object(antibodies) }
        return [InboundRecord(kind: .patientUpdate, body: JSONObject([("ssc", .object(section))]), references: refs)]
    }

    /// "anti-Scl-70 positive" → ("scl70", "positive").
    private static func antibody(_ text: String) -> (String, String)? {
        guard let status = AntibodyStatus.allCases.first(where: { text.hasSuffix(" " + $0.rawValue) }) else { return nil }
        let name = text.dropLast(status.rawValue.count + 1)
        guard let key = antibodyByName.first(where: { name.hasSuffix($0.0) })?.1 else { return nil }
        return (key, status.rawValue)
    }

    // MARK: Infection → infection episode

    private static func infection(_ r: inout ResourceReader, kind: InboundCodes.InfectionKind, clinical: String?, refs: [ReferenceRole: String]) -> [InboundRecord] {
        var body = JSONObject()
        var refs = refs
        let onsetValue = r.take("onsetDateTime") ?? r.take("onsetPeriod")?["start"]
        r.handled("onsetPeriod")
        if let onset = r.day(onsetValue, at: "onsetDateTime", what: "the infection's onset") { body["onset"] = .string(onset) }
        _ = r.take("clinicalStatus")
        // condition-clinical → registry outcome; "inactive" says nothing more precise.
        var outcome: String? = switch clinical {
        case "active"?: "ongoing"
        case "recurrence"?, "relapse"?: "recurred"
        case "resolved"?, "remission"?: "resolved"
        default: nil
        }
        if let abatement = r.take("abatementDateTime") {
            if let day = r.day(abatement, at: "abatementDateTime", what: "the resolution date") { body["resolvedDate"] = .string(day) }
        }
        // The lesion: bodySite's R4 bodySite extension, or (as Outbound writes it) evidence.detail.
        for (i, site) in ResourceReader.array(r.take("bodySite")).enumerated() {
            if let ext = ResourceReader.extensions(in: site["extension"]).first(where: { $0["url"] == .string(InboundCodes.bodySiteExtension) }),
               let ref = ext["valueReference"], let lesion = r.reference(ref, at: "bodySite[\(i)].extension", to: "BodyStructure") {
                refs[.lesion] = lesion
            }
        }
        for (i, item) in ResourceReader.array(r.take("evidence")).enumerated() {
            for (j, detail) in ResourceReader.array(item["detail"]).enumerated() {
                if let lesion = r.reference(detail, at: "evidence[\(i)].detail[\(j)]", to: "BodyStructure") { refs[.lesion] = lesion }
            }
            for (j, concept) in ResourceReader.array(item["code"]).enumerated() {
                let codings = ResourceReader.codings(concept)
                let text = ResourceReader.text(concept) ?? ""
                // 12.2 infectious agents: B95.62 MRSA, B95.61 MSSA.
                if codings.contains(where: { $0.system == CodeSystem.icd10cm && $0.code == "B95.62" }) { body["mrsa"] = true }
                else if codings.contains(where: { $0.system == CodeSystem.icd10cm && $0.code == "B95.61" }) {
                    body["mrsa"] = false
                    if body["organism"] == nil { body["organism"] = "Staphylococcus aureus" }
                } else if text.lowercased().hasPrefix("organism: ") { body["organism"] = .string(String(text.dropFirst(10))) }
                else { r.warn("evidence \"\(ResourceReader.describe(concept))\" is not stored", at: "evidence[\(i)].code[\(j)]") }
            }
        }
        // Outbound writes the episode's other fields as notes "culture source: ...", etc.
        var notes: [String] = []
        for item in ResourceReader.array(r.take("note")) {
            guard let text = ResourceReader.string(item["text"]) else { continue }
            if let v = suffix(text, "culture source: "), InfectionVocabulary.cultureSources.contains(v) { body["cultureSource"] = .string(v) }
            else if let v = suffix(text, "culture result: "), InfectionVocabulary.cultureResults.contains(v) { body["cultureResult"] = .string(v) }
            else if let v = suffix(text, "outcome: "), InfectionVocabulary.outcomes.contains(v) { outcome = v }
            else if let v = suffix(text, "antibiotic: ") { antibiotic(v, into: &body) }
            else { notes.append(text) }
        }
        if !notes.isEmpty { body["note"] = .string(notes.joined(separator: "\n")) }
        if outcome == nil {
            outcome = "unknown"
            r.inform("no clinicalStatus the registry can map (active, recurrence, relapse, resolved, remission): outcome stored as unknown", at: "clinicalStatus")
        }
        body["outcome"] = .string(outcome!)
        switch kind {
        case .cellulitis: break
        case .septicArthritis where body["cultureSource"] == .string("joint-fluid"): break
        default:
            r.warn("the kind of infection (\(kind.rawValue)) is not stored: the registry keeps an infection episode, read back as cellulitis unless its culture source is joint fluid",
                   at: "code")
        }
        return [InboundRecord(kind: .infectionEpisodes, body: body, references: refs, date: ResourceReader.string(body["onset"]))]
    }

    private static func suffix(_ text: String, _ prefix: String) -> String? {
        text.hasPrefix(prefix) ? String(text.dropFirst(prefix.count)) : nil
    }

    /// "vancomycin intravenous from 2023-09-01 to 2023-09-06" (Outbound's note) → antibiotic fields.
    private static func antibiotic(_ text: String, into body: inout JSONObject) {
        var rest = Substring(text)
        if let r = rest.firstRange(of: " to ") { body["antibioticStop"] = .string(String(rest[r.upperBound...])); rest = rest[..<r.lowerBound] }
        if let r = rest.firstRange(of: " from ") { body["antibioticStart"] = .string(String(rest[r.upperBound...])); rest = rest[..<r.lowerBound] }
        var words = rest.split(separator: " ").map(String.init)
        if let last = words.last, Route(rawValue: last) != nil, words.count > 1 { body["antibioticRoute"] = .string(last); words.removeLast() }
        body["antibiotic"] = .string(words.joined(separator: " "))
    }
}

/// The infection episode vocabularies of the registry (InfectionEpisodeRecord), for reading notes.
enum InfectionVocabulary {
    static let cultureSources = ["wound-swab", "tissue", "bone", "joint-fluid", "blood", "other"]
    static let cultureResults = ["pending", "positive", "negative", "not-done"]
    static let outcomes = ["ongoing", "resolved", "recurred", "amputation", "death", "unknown"]
}
