import CalciTrackCore

/// Encounter → a visit (date, kind, next due). The kind comes from `class` (v3-ActCode, the R4
/// binding): AMB ambulatory → clinic, IMP / ACUTE / NONAC inpatient and EMER emergency →
/// hospital, VR virtual → telephone, HH home health → other; or a CalciTrack local code in
/// `type` (`visit-wound-care`, as Outbound writes it). The next due date, pain score and note have
/// no R4 element: CalciTrack's `next-due`, `pain-vas` and `note` extensions.
enum EncounterInbound {
    static let nextDueExtension = InboundCodes.extensionBase + "next-due"
    static let painExtension = InboundCodes.extensionBase + "pain-vas"
    static let noteExtension = InboundCodes.extensionBase + "note"
    static let classKind: [String: VisitKind] = ["AMB": .clinic, "IMP": .hospital, "ACUTE": .hospital, "NONAC": .hospital, "EMER": .hospital,
                                                 "OBSENC": .hospital, "SS": .hospital, "VR": .telephone, "HH": .other, "FLD": .other]

    static func map(_ r: inout ResourceReader) -> [InboundRecord] {
        let patient = r.patientReference("subject")
        _ = r.status(accepting: ["finished", "in-progress", "arrived", "triaged", "onleave"], what: "encounters that took place")
        var body = JSONObject()
        if let period = r.take("period") {
            if let day = r.day(period["start"], at: "period.start", what: "the day of the visit") { body["date"] = .string(day) }
        } else {
            r.reject(.required, "Encounter.period.start is required: the registry needs the day of the visit", at: "period")
        }
        var kind: String?
        for (i, type) in ResourceReader.array(r.take("type")).enumerated() {
            // Outbound writes "visit-<kind>"; the bare kind is accepted too.
            let local = ResourceReader.code(type, system: CodeSystem.local).map { $0.hasPrefix("visit-") ? String($0.dropFirst(6)) : $0 }
            if let local, VisitKind(rawValue: local) != nil { kind = local }
            else { r.warn("type \(ResourceReader.describe(type)) is not stored (the visit kind comes from class, or a CalciTrack local code in type)", at: "type[\(i)]") }
        }
        if let cls = r.take("class") {
            let code = ResourceReader.string(cls["code"])
            if kind == nil, let code, let k = classKind[code] { kind = k.rawValue }
            else if kind == nil { r.warn("class \(code ?? "(none)") maps to no visit kind (\(VisitKind.allowedList)); the visit is stored without a kind", at: "class") }
        } else {
            r.reject(.required, "Encounter.class is required (R4)", at: "class")
        }
        if let kind { body["kind"] = .string(kind) }
        if let ext = r.takeExtension(nextDueExtension) {
            if let due = r.day(ext["valueDate"], at: "extension('\(nextDueExtension)').valueDate", what: "the next due date") { body["nextDue"] = .string(due) }
        }
        if let ext = r.takeExtension(painExtension) {
            if let pain = ResourceReader.number(ext["valueDecimal"]) ?? ResourceReader.number(ext["valueInteger"]) { body["painVas"] = .number(pain) }
            else { r.reject(.value, "the pain-vas extension needs valueDecimal (0-10)", at: "extension('\(painExtension)')") }
        }
        if let ext = r.takeExtension(noteExtension) {
            if let note = ResourceReader.string(ext["valueString"]) { body["note"] = .string(note) }
            else { r.reject(.value, "the note extension needs valueString", at: "extension('\(noteExtension)')") }
        }
        guard let patient else { return [] }
        return [InboundRecord(kind: .visits, body: body, references: [.patient: patient], date: ResourceReader.string(body["date"]))]
    }
}
