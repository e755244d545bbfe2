import CalciTrackCore

/// ImagingStudy, or a DiagnosticReport of an imaging service, → an imaging study (date,
/// modality, inconclusive, findings). Modality from DICOM codes (PS3.16 CID 29: CR/DX
/// radiograph, US ultrasound, CT, MR), the v2-0074 service section (RX, RUS, CT, NMR), or a
/// CalciTrack local code. A DiagnosticReport of any other service (e.g. LAB) is rejected: its
/// results are stored as Observations.
enum ImagingInbound {
    static let inconclusiveExtension = InboundCodes.extensionBase + "imaging-inconclusive"
    /// v2-0074 sections of imaging (Radiology and the modality-specific ones).
    static let imagingSections: Set<String> = ["RAD", "RX", "RUS", "CUS", "CT", "NMR", "VUS", "OUS"]

    static func map(_ r: inout ResourceReader) -> [InboundRecord] {
        let isReport = r.type == "DiagnosticReport"
        let patient = r.patientReference("subject")
        var modality: String?
        var body = JSONObject()
        if isReport {
            let categories = ResourceReader.array(r.take("category"))
            let sections = categories.flatMap(ResourceReader.codings).filter { $0.system == InboundCodes.v2DiagnosticService }.compactMap(\.code)
            guard sections.contains(where: imagingSections.contains) else {
                r.reject(.notSupported, "a DiagnosticReport is stored only for imaging (category v2-0074 RAD, RX, RUS, CT, NMR); "
                         + "found \(sections.isEmpty ? "no v2-0074 category" : sections.joined(separator: ", ")). Send lab results as Observations", at: "category")
                return []
            }
            modality = sections.compactMap { InboundCodes.v2SectionModality[$0]?.rawValue }.first
            let status = r.status(accepting: ["final", "amended", "corrected", "appended", "preliminary", "partial"], what: "reports")
            if status == "preliminary" || status == "partial" { r.warn("status \(status!) is not stored: the report is stored as final", at: "status") }
            let code = r.take("code")
            if modality == nil, let code { modality = modalityFromText(code) }
            let effective = r.take("effectiveDateTime") ?? r.take("effectivePeriod")?["start"]
            r.handled("effectivePeriod", "issued")
            if let date = r.day(effective, at: "effective[x]", what: "the day of the study") { body["date"] = .string(date) }
            if let conclusion = ResourceReader.string(r.take("conclusion")) { body["findings"] = .string(conclusion) }
        } else {
            _ = r.status(accepting: ["available", "registered"], what: "imaging studies")
            for coding in ResourceReader.array(r.take("modality")).compactMap({ ResourceReader.object($0) }) {
                if modality == nil, ResourceReader.string(coding["system"]) == InboundCodes.dicom,
                   let m = ResourceReader.string(coding["code"]).flatMap({ InboundCodes.dicomModality[$0] }) { modality = m.rawValue }
            }
            if modality == nil {
                for series in ResourceReader.array(r.peekValue("series")) {
                    if let code = ResourceReader.string(series["modality"]?["code"]), let m = InboundCodes.dicomModality[code] { modality = m.rawValue; break }
                }
            }
            if let date = r.day(r.take("started"), at: "started", what: "the day of the study") { body["date"] = .string(date) }
            // Outbound's description ("ultrasound of calcinosis (inconclusive)") repeats modality and
            // flag; any other description names the study, not its findings, and is not stored.
            if let description = ResourceReader.string(r.take("description")),
               !ImagingModality.allCases.contains(where: { description.hasPrefix("\($0.rawValue) of calcinosis") }) {
                r.warn("description \"\(description)\" is not stored (the registry keeps the report's findings, in note \"findings: ...\")", at: "description")
            }
            // Outbound's notes: "findings: ...", "inconclusive", "scores: name value, ...".
            var other: [String] = []
            for item in ResourceReader.array(r.take("note")) {
                guard let text = ResourceReader.string(item["text"]) else { continue }
                if text.hasPrefix("findings: ") { body["findings"] = .string(String(text.dropFirst(10))) }
                else if text == "inconclusive" { body["inconclusive"] = true }
                else if text.hasPrefix("scores: "), let scores = Self.scores(String(text.dropFirst(8))) { body["scores"] = .object(scores) }
                else { other.append(text) }
            }
            if !other.isEmpty {
                let joined = other.joined(separator: "\n")
                body["findings"] = .string(ResourceReader.string(body["findings"]).map { $0 + "\n" + joined } ?? joined)
            }
            if r.peekValue("series") != nil { r.handled("numberOfSeries", "numberOfInstances") }
        }
        if let ext = r.takeExtension(inconclusiveExtension) {
            if let b = ResourceReader.bool(ext["valueBoolean"]) { body["inconclusive"] = .bool(b) }
            else { r.reject(.value, "the imaging-inconclusive extension needs valueBoolean", at: "extension('\(inconclusiveExtension)')") }
        }
        guard let modality else {
            r.reject(.required, "the imaging modality is not recognisable (\(ImagingModality.allowedList)): use a DICOM modality code (CR, DX, US, CT, MR) "
                     + "or a v2-0074 category (RX, RUS, CT, NMR)", at: isReport ? "category" : "modality")
            return []
        }
        body["modality"] = .string(modality)
        guard let patient else { return [] }
        return [InboundRecord(kind: .imagingStudies, body: body, references: [.patient: patient], date: ResourceReader.string(body["date"]))]
    }

    /// "sctcTotal 12, hands 3" → {"sctcTotal": 12, "hands": 3}; nil unless every item is a name and a number.
    static func scores(_ text: String) -> JSONObject? {
        var out = JSONObject()
        for item in text.split(separator: ",") {
            let parts = item.split(separator: " ")
            guard parts.count == 2, let value = Double(parts[1]) else { return nil }
            out[String(parts[0])] = .number(value)
        }
        return out
    }

    /// The modality a report's code names in words ("XR Hand 2 views", "US soft tissue", "MRI knee").
    static func modalityFromText(_ code: JSONValue) -> String? {
        let texts = ([ResourceReader.string(code["text"])] + ResourceReader.codings(code).map(\.display)).compactMap { $0?.lowercased() }
        for text in texts {
            let words = Set(text.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init))
            if !words.isDisjoint(with: ["xr", "x", "radiograph", "radiography", "dx", "cr"]) { return ImagingModality.radiograph.rawValue }
            if !words.isDisjoint(with: ["us", "ultrasound", "ultrasonography", "sonography"]) { return ImagingModality.ultrasound.rawValue }
            if !words.isDisjoint(with: ["ct", "tomography"]) && !words.contains("magnetic") { return ImagingModality.ct.rawValue }
            if !words.isDisjoint(with: ["mr", "mri", "magnetic"]) { return ImagingModality.mri.rawValue }
        }
        return nil
    }
}
