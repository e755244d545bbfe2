import CalciTrackCore

/// Procedure → a registry procedure (date, kind, lesion, note). clinical-spec 12 gives no codes
/// for the calcinosis procedures, so the kind is read from CalciTrack's local code or from text
/// naming it ("Incision and drainage"); any other procedure is stored as kind `other` with its
/// name in the note, never dropped.
enum ProcedureInbound {
    static let kinds = ["debridement", "excision", "burr", "co2-laser", "eswl", "npwt", "incision-and-drainage", "flap", "biopsy", "other"]

    static func map(_ r: inout ResourceReader) -> [InboundRecord] {
        let patient = r.patientReference("subject")
        let status = r.status(accepting: ["completed", "in-progress", "stopped"], what: "procedures that were performed")
        if let status, status != "completed" { r.warn("status \(status) is not stored: the registry records the procedure as performed", at: "status") }
        r.handled("category")
        var body = JSONObject()
        var notes: [String] = []
        if let code = r.take("code") {
            if let kind = kind(code) { body["kind"] = .string(kind) }
            else {
                body["kind"] = "other"
                notes.append(ResourceReader.text(code) ?? ResourceReader.describe(code))
                r.inform("procedure \(ResourceReader.describe(code)) is not one of CalciTrack's kinds (\(kinds.joined(separator: ", "))); stored as other, named in the note", at: "code")
            }
        } else {
            r.reject(.required, "Procedure.code is required: the registry records what was done", at: "code")
        }
        let performed = r.take("performedDateTime") ?? r.take("performedPeriod")?["start"]
        r.handled("performedPeriod")
        if let date = r.day(performed, at: "performed[x]", what: "the day of the procedure") { body["date"] = .string(date) }

        var refs: [ReferenceRole: String] = [:]
        if let ext = r.takeExtension(InboundCodes.procedureTargetBodyStructure), let ref = ext["valueReference"],
           let lesion = r.reference(ref, at: "extension('\(InboundCodes.procedureTargetBodyStructure)')", to: "BodyStructure") {
            refs[.lesion] = lesion
        }
        for (i, site) in ResourceReader.array(r.take("bodySite")).enumerated() {
            if let ext = ResourceReader.extensions(in: site["extension"]).first(where: { $0["url"] == .string(InboundCodes.bodySiteExtension) }),
               let ref = ext["valueReference"], let lesion = r.reference(ref, at: "bodySite[\(i)].extension", to: "BodyStructure") {
                refs[.lesion] = lesion
            } else {
                r.warn("bodySite \(ResourceReader.describe(site)) is not stored: a procedure names its lesion by a BodyStructure reference "
                       + "(extension \(InboundCodes.procedureTargetBodyStructure))", at: "bodySite[\(i)]")
            }
        }
        notes += ResourceReader.array(r.take("note")).compactMap { ResourceReader.string($0["text"]) }
        if !notes.isEmpty { body["note"] = .string(notes.joined(separator: "\n")) }
        guard let patient else { return [] }
        refs[.patient] = patient
        return [InboundRecord(kind: .procedures, body: body, references: refs, date: ResourceReader.string(body["date"]))]
    }

    /// A local code, or text naming a kind ("CO2 laser", "Incision and drainage", "ESWL").
    static func kind(_ code: JSONValue) -> String? {
        // Outbound writes "procedure-<kind>"; the bare kind is accepted too.
        if let c = ResourceReader.code(code, system: CodeSystem.local) {
            let kind = c.hasPrefix("procedure-") ? String(c.dropFirst(10)) : c
            if kinds.contains(kind) { return kind }
        }
        for text in ([ResourceReader.string(code["text"])] + ResourceReader.codings(code).map(\.display)).compactMap({ $0?.lowercased() }) {
            let dashed = String(text.map { $0 == " " ? "-" : $0 })
            if kinds.contains(dashed) && dashed != "other" { return dashed }
        }
        return nil
    }
}
