import CalciTrackCore

/// MedicationStatement / MedicationRequest → a medication course (drug, dose in mg, frequency,
/// route, start, stop, indication) and, for status `on-hold`, its hold. The drug is the engine's
/// generic name: by RxNorm ingredient code from the drug table (clinical-spec 12.5), else by a
/// known name or alias in the code's text, else the text's leading words (kept as unrecognised,
/// as the case format allows; case-format.md `medications[].drug`).
enum MedicationInbound {
    static func map(_ r: inout ResourceReader) -> [InboundRecord] {
        let isRequest = r.type == "MedicationRequest"
        let patient = r.patientReference("subject")
        let status = isRequest
            ? r.status(accepting: ["active", "on-hold", "completed", "stopped"], what: "medication requests")
            : r.status(accepting: ["active", "completed", "stopped", "on-hold", "intended"], what: "medication statements")
        if isRequest, let intent = ResourceReader.string(r.take("intent")), intent == "proposal" || intent == "option" {
            r.reject(.businessRule, "MedicationRequest.intent \(intent) is not a prescription: CalciTrack stores medications given or prescribed", at: "intent")
        }
        r.handled("intent", "category")
        var body = JSONObject()
        if let drug = drug(&r) { body["drug"] = .string(drug) }

        // Dosage: the first instruction is stored; the registry keeps one regimen per course.
        let dosageKey = isRequest ? "dosageInstruction" : "dosage"
        let dosages = ResourceReader.array(r.take(dosageKey)).compactMap { ResourceReader.object($0) }
        if dosages.count > 1 { r.warn("only the first dosage is stored (one regimen per medication course)", at: "\(dosageKey)[1]") }
        var boundsStart: String?, boundsEnd: String?
        if let dosage = dosages.first {
            dose(&r, dosage, at: "\(dosageKey)[0]", into: &body)
            if let timing = ResourceReader.object(dosage["timing"]) {
                frequency(&r, timing, at: "\(dosageKey)[0].timing", into: &body)
                if let bounds = ResourceReader.object(timing["repeat"]?["boundsPeriod"]) {
                    boundsStart = r.day(bounds["start"], at: "\(dosageKey)[0].timing.repeat.boundsPeriod.start", what: "the start", required: false)
                    boundsEnd = r.day(bounds["end"], at: "\(dosageKey)[0].timing.repeat.boundsPeriod.end", what: "the stop", required: false)
                }
            }
            if let route = dosage["route"] {
                if let value = ResourceReader.code(route, system: CodeSystem.snomed).flatMap({ InboundCodes.routeSNOMED[$0]?.rawValue })
                    ?? BodyStructureInbound.localOrText(route, Route.self) {
                    body["route"] = .string(value)
                } else {
                    r.warn("route \(ResourceReader.describe(route)) is not stored (routes: \(Route.allowedList))", at: "\(dosageKey)[0].route")
                }
            }
            for key in dosage.keys where !["timing", "route", "doseAndRate", "text", "sequence"].contains(key) {
                r.warn("\(key) is not stored", at: "\(dosageKey)[0].\(key)")
            }
        }

        // Start and stop.
        var start: String?, stop: String?
        if isRequest {
            let authored = r.take("authoredOn").flatMap { r.day($0, at: "authoredOn", what: "the prescription date", required: false) }
            start = boundsStart ?? authored
            stop = boundsEnd
            if start == nil { r.reject(.required, "the start is required: MedicationRequest.authoredOn or dosageInstruction[0].timing.repeat.boundsPeriod.start", at: "authoredOn") }
        } else {
            if let v = r.take("effectiveDateTime") { start = r.day(v, at: "effectiveDateTime", what: "the start") }
            else if let period = r.take("effectivePeriod") {
                start = r.day(period["start"], at: "effectivePeriod.start", what: "the start", required: false)
                stop = r.day(period["end"], at: "effectivePeriod.end", what: "the stop", required: false)
            }
            start = start ?? boundsStart
            stop = stop ?? boundsEnd
            if start == nil && !r.rejected {
                r.reject(.required, "the start is required: MedicationStatement.effectiveDateTime or effectivePeriod.start", at: "effective[x]")
            }
        }
        if (status == "completed" || status == "stopped") && stop == nil {
            r.reject(.required, "status \(status!) needs the stop date (\(isRequest ? "dosageInstruction[0].timing.repeat.boundsPeriod.end" : "effectivePeriod.end")): "
                     + "without it the registry would count the drug as still taken", at: isRequest ? dosageKey : "effectivePeriod.end")
        }
        if status == "active", let stop { r.inform("the course is active but has an end (\(stop)); stored with that stop date", at: isRequest ? dosageKey : "effectivePeriod.end") }
        if let start { body["start"] = .string(start) }
        body["stop"] = stop.map { .string($0) } ?? .null

        let reasons = ResourceReader.array(r.take("reasonCode")).compactMap { ResourceReader.text($0) }
        if !reasons.isEmpty { body["indication"] = .string(String(reasons.joined(separator: "; ").prefix(200))) }

        guard let patient else { return [] }
        var records = [InboundRecord(kind: .medications, body: body, references: [.patient: patient], date: start)]
        let reason = ResourceReader.text(r.take("statusReason").map { ResourceReader.array($0).first ?? $0 })
        // Outbound writes every hold as a note "held from <start> to <end>: <reason>" (or "(no end date)").
        var noteHolds: [JSONObject] = []
        for (i, item) in ResourceReader.array(r.take("note")).enumerated() {
            guard let text = ResourceReader.string(item["text"]) else { continue }
            if let hold = Self.hold(fromNote: text) { noteHolds.append(hold) }
            else { r.warn("note \"\(text)\" is not stored", at: "note[\(i)]") }
        }
        if !noteHolds.isEmpty {
            records += noteHolds.map { InboundRecord(kind: .holds, body: $0, references: [.patient: patient], parentRecord: 0, date: ResourceReader.string($0["start"])) }
        } else if status == "on-hold" {
            // A hold needs its start; a statement's dateAsserted is the day the hold was stated.
            if !isRequest, let asserted = r.take("dateAsserted").flatMap({ r.day($0, at: "dateAsserted", what: "the hold's start", required: false) }) {
                records.append(InboundRecord(kind: .holds, body: JSONObject([("start", .string(asserted)), ("end", .null),
                                                                              ("reason", .string(reason ?? "on hold (FHIR status on-hold; no reason given)"))]),
                                             references: [.patient: patient], parentRecord: 0, date: asserted))
                r.inform("the hold's start is taken as dateAsserted (\(asserted)), the day the hold was stated; it may have begun earlier", at: "dateAsserted")
                if reason == nil { r.inform("the hold has no statusReason; its reason is stored as \"on hold\"", at: "statusReason") }
            } else {
                r.warn("status on-hold is not stored as a hold: the hold's start date is unknown (\(isRequest ? "a request has no such date" : "dateAsserted is missing"))", at: "status")
            }
        } else if let reason, status != "on-hold" {
            r.warn("statusReason \"\(reason)\" is not stored", at: "statusReason")
        }
        r.handled("dateAsserted")
        return records
    }

    /// "held from 2023-09-01 to 2023-09-10: sepsis" / "held from 2023-09-01 (no end date): sepsis".
    static func hold(fromNote text: String) -> JSONObject? {
        guard text.hasPrefix("held from "), let colon = text.firstRange(of: ": ") else { return nil }
        let dates = text[text.index(text.startIndex, offsetBy: 10)..<colon.lowerBound]
        let reason = String(text[colon.upperBound...])
        let start = String(dates.prefix(10))
        guard LocalDate(iso: start) != nil, !reason.isEmpty else { return nil }
        let rest = dates.dropFirst(10)
        var end: JSONValue = .null
        if rest.hasPrefix(" to "), LocalDate(iso: String(rest.dropFirst(4))) != nil { end = .string(String(rest.dropFirst(4))) }
        else if rest != " (no end date)" { return nil }
        return JSONObject([("start", .string(start)), ("end", end), ("reason", .string(reason))])
    }

    // MARK: Drug

    private static func drug(_ r: inout ResourceReader) -> String? {
        var concept = r.take("medicationCodeableConcept")
        if concept == nil, let ref = r.take("medicationReference") {
            // A contained Medication ("#id") is read; an external one cannot be resolved here.
            if let target = ResourceReader.reference(ref), target.hasPrefix("#"),
               let med = ResourceReader.array(r.take("contained")).compactMap({ ResourceReader.object($0) })
                .first(where: { $0["resourceType"] == "Medication" && $0["id"] == .string(String(target.dropFirst())) }) {
                concept = med["code"]
            } else if let display = ResourceReader.string(ref["display"]) {
                concept = .object(JSONObject([("text", .string(display))]))
                r.inform("the medication is read from the reference's display \"\(display)\"", at: "medicationReference")
            } else {
                r.reject(.notSupported, "medicationReference to another resource cannot be resolved: send medicationCodeableConcept (RxNorm) or a contained Medication",
                         at: "medicationReference")
                return nil
            }
        }
        guard let concept else {
            r.reject(.required, "\(r.type).medication[x] is required (R4)", at: "medication[x]")
            return nil
        }
        for coding in ResourceReader.codings(concept) where coding.system == CodeSystem.rxnorm {
            if let code = coding.code, let drug = DrugCatalog.drugs.first(where: { $0.rxnorm == code }) { return drug.name }
        }
        guard let text = ResourceReader.text(concept) else {
            r.reject(.notSupported, "medication \(ResourceReader.describe(concept)) is not an RxNorm ingredient CalciTrack knows and has no text to name it",
                     at: "medicationCodeableConcept")
            return nil
        }
        let sentCodes = ResourceReader.codings(concept).filter { $0.system == CodeSystem.rxnorm }.compactMap(\.code)
        if let known = knownDrug(in: text) {
            if !sentCodes.isEmpty {
                // The code sent is not kept: say so (it was replaced without a word).
                let stored = DrugCatalog.drugs.first { $0.name == known }?.rxnorm.map { " with its RxNorm ingredient code \($0)" } ?? ""
                r.warn("RxNorm \(sentCodes.joined(separator: ", ")) is not an ingredient code CalciTrack knows; the drug is read from the text as \(known) and stored\(stored)",
                       at: "medicationCodeableConcept.coding")
            }
            return known
        }
        let name = leadingName(text)
        guard !name.isEmpty else {
            r.reject(.value, "medication text \"\(text)\" names no drug", at: "medicationCodeableConcept.text")
            return nil
        }
        r.inform("\"\(text)\" is not a drug the engine knows; stored as \"\(name)\" (unrecognised: no interaction rules apply to it)", at: "medicationCodeableConcept")
        return name
    }

    /// Known drugs by name or alias found as whole words in `text`; a combination (e.g.
    /// sulfamethoxazole-trimethoprim) when all its parts are named, before any single part.
    static func knownDrug(in text: String) -> String? {
        let words = text.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init)
        let phrase = " " + words.joined(separator: " ") + " "
        let wordSet = Set(words)
        // A one-word part is a word of the text; a longer one a run of its words.
        func named(_ part: (word: String, spaced: String)) -> Bool {
            part.word.contains(" ") ? phrase.contains(part.spaced) : wordSet.contains(part.word)
        }
        var best: (name: String, parts: Int, length: Int)?
        for candidate in drugNames {
            guard candidate.parts.allSatisfy(named) else { continue }
            if best == nil || candidate.parts.count > best!.parts || (candidate.parts.count == best!.parts && candidate.length > best!.length) {
                best = (candidate.drug, candidate.parts.count, candidate.length)
            }
        }
        return best?.name
    }

    /// Every drug name and alias split into its " part " words, once (the import maps every
    /// MedicationStatement through `knownDrug`).
    private static let drugNames: [(drug: String, parts: [(word: String, spaced: String)], length: Int)] = DrugCatalog.drugs.flatMap { drug in
        ([drug.name] + drug.aliases).map { name in (drug.name, name.split(separator: "-").map { (String($0), " " + $0 + " ") }, name.count) }
    }

    /// "Acetaminophen 325 MG Oral Tablet [Tylenol]" → "acetaminophen".
    static func leadingName(_ text: String) -> String {
        var words: [Substring] = []
        for word in text.lowercased().split(separator: " ") {
            if word.first?.isNumber == true || word.hasPrefix("[") || word == "/" { break }
            words.append(word)
        }
        return words.joined(separator: " ")
    }

    // MARK: Dosage

    private static func dose(_ r: inout ResourceReader, _ dosage: JSONObject, at base: String, into body: inout JSONObject) {
        let items = ResourceReader.array(dosage["doseAndRate"]).compactMap { ResourceReader.object($0) }
        guard let first = items.first else { return }
        if items.count > 1 { r.warn("only the first doseAndRate is stored", at: "\(base).doseAndRate[1]") }
        for key in first.keys where key != "doseQuantity" && key != "type" { r.warn("\(key) is not stored (the registry stores a dose in mg)", at: "\(base).doseAndRate[0].\(key)") }
        guard let q = ResourceReader.object(first["doseQuantity"]) else { return }
        let unit = ResourceReader.string(q["code"]) ?? ResourceReader.string(q["unit"]) ?? ""
        guard let value = ResourceReader.number(q["value"]) else {
            r.warn("doseQuantity has no value; no dose is stored", at: "\(base).doseAndRate[0].doseQuantity")
            return
        }
        let factor: Double? = switch unit { case "mg": 1; case "g": 1000; case "ug": 0.001; default: nil }
        if let factor { body["doseMg"] = .number(rounded(value * factor, places: 6)) }
        else { r.warn("dose \(value) \(unit) is not stored: the registry stores doses in mg (UCUM mg, g, ug)", at: "\(base).doseAndRate[0].doseQuantity") }
    }

    private static func frequency(_ r: inout ResourceReader, _ timing: JSONObject, at base: String, into body: inout JSONObject) {
        for key in timing.keys where key != "repeat" && key != "code" { r.warn("\(key) is not stored", at: "\(base).\(key)") }
        for key in ResourceReader.object(timing["repeat"])?.keys ?? [] where !["frequency", "period", "periodUnit", "count", "boundsPeriod"].contains(key) {
            r.warn("\(key) is not stored", at: "\(base).repeat.\(key)")
        }
        if let code = ResourceReader.code(timing["code"], system: InboundCodes.timingAbbreviation), let f = InboundCodes.timingCode[code] {
            body["frequency"] = .string(f.rawValue)
            return
        }
        guard let rep = ResourceReader.object(timing["repeat"]) else {
            if timing["code"] != nil { r.warn("timing code \(ResourceReader.describe(timing["code"])) is not a frequency the registry stores", at: "\(base).code") }
            return
        }
        if ResourceReader.number(rep["count"]) == 1, rep["period"] == nil { body["frequency"] = "once"; return }
        guard let perPeriod = ResourceReader.number(rep["frequency"]) ?? (rep["period"] != nil ? 1 : nil),
              let period = ResourceReader.number(rep["period"]), let unit = ResourceReader.string(rep["periodUnit"]) else {
            if rep["frequency"] != nil || rep["period"] != nil { r.warn("timing.repeat without frequency, period and periodUnit is not stored", at: "\(base).repeat") }
            return
        }
        let f: Frequency? = switch (perPeriod, period, unit) {
        case (1, 1, "d"): .daily
        case (1, 24, "h"): .q24h
        case (2, 1, "d"): .bid
        case (3, 1, "d"): .tid
        case (4, 1, "d"): .qid
        case (1, 4, "h"): .q4h
        case (1, 6, "h"): .q6h
        case (1, 8, "h"): .q8h
        case (1, 12, "h"): .q12h
        case (1, 1, "wk"), (1, 7, "d"): .weekly
        case (1, 2, "wk"), (1, 14, "d"): .every2Weeks
        case (1, 1, "mo"): .monthly
        default: nil
        }
        if let f { body["frequency"] = .string(f.rawValue) }
        else { r.warn("a frequency of \(perPeriod) per \(period) \(unit) is not one the registry stores (\(Frequency.allowedList))", at: "\(base).repeat") }
    }
}
