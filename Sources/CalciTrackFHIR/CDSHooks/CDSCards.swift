import CalciTrackCore

/// A CDS Hooks 2.0 card.
public struct CDSCard: Sendable, Equatable {
    public enum Indicator: String, Sendable { case info, warning, critical }

    public var uuid: String
    /// At most 140 characters (CDS Hooks 2.0: "<140 character summary").
    public var summary: String
    /// Markdown: the basis of the advice.
    public var detail: String
    public var indicator: Indicator
    public var sourceLabel: String
    public var sourceURL: String?
    public var links: [(label: String, url: String)]
    /// The engine item behind the card (e.g. "alert:HOLD-01"), for logs and tests.
    public var topic: String
    /// Actions the EHR may offer; any one of them at most (`selectionBehavior` at-most-one).
    public var suggestions: [CDSSuggestion] = []

    /// CDS Hooks 2.0 `overrideReasons`: what a clinician can choose when they do not follow a
    /// critical or warning card; the EHR sends the choice back in the feedback, which the audit log
    /// keeps (its code only). Info cards ask for no reason.
    public static let overrideReasonSystem = "https://calcitrack.org/fhir/CodeSystem/cds-override-reason"
    public static let overrideReasons: [(code: String, display: String)] = [
        ("already-managed", "Already managed (held, changed or treated)"),
        ("benefit-outweighs-risk", "Benefit outweighs the risk for this patient"),
        ("not-applicable", "Not applicable to this patient"),
        ("patient-declined", "Patient declined"),
    ]

    public static func == (a: CDSCard, b: CDSCard) -> Bool {
        a.uuid == b.uuid && a.summary == b.summary && a.detail == b.detail && a.indicator == b.indicator && a.sourceLabel == b.sourceLabel
            && a.sourceURL == b.sourceURL && a.topic == b.topic && a.links.map(\.url) == b.links.map(\.url) && a.suggestions == b.suggestions
    }

    public var json: JSONValue {
        var source = JSONObject([("label", .string(sourceLabel))])
        if let sourceURL { source["url"] = .string(sourceURL) }
        source["topic"] = .object(JSONObject([("system", .string(CodeSystem.local)), ("code", .string(topic))]))
        var card = JSONObject([("uuid", .string(uuid)), ("summary", .string(summary)), ("detail", .string(detail)),
                               ("indicator", .string(indicator.rawValue)), ("source", .object(source))])
        if !links.isEmpty {
            card["links"] = .array(links.map { .object(JSONObject([("label", .string($0.label)), ("url", .string($0.url)), ("type", "absolute")])) })
        }
        if !suggestions.isEmpty {
            // CDS Hooks 2.0: a card with suggestions names its selection behaviour.
            card["suggestions"] = .array(suggestions.map(\.json))
            card["selectionBehavior"] = "at-most-one"
        }
        if indicator != .info {
            card["overrideReasons"] = .array(Self.overrideReasons.map {
                .object(JSONObject([("system", .string(Self.overrideReasonSystem)), ("code", .string($0.code)), ("display", .string($0.display))]))
            })
        }
        return .object(card)
    }
}

/// An engine `Assessment` → CDS Hooks cards, most urgent first:
/// - critical: severe infection (IDSA 2014 severity, case-format.md), a positive sepsis screen
///   (qSOFA ≥ 2, Seymour 2016; or SIRS ≥ 2 with infection, Bone 1992);
/// - warning: medication interactions, holds and dose-interval alerts (clinical-spec 8);
/// - info: therapy options, imaging advice, follow-up that is due, missing labs.
public enum CDSCards {
    public static let summaryLimit = 139

    public static func cards(from a: Assessment, patientPage: String?, makeID: () -> String) -> [CDSCard] {
        var cards: [CDSCard] = []
        let links = patientPage.map { [(label: "Open in CalciTrack", url: $0)] } ?? []
        func add(_ indicator: CDSCard.Indicator, _ summary: String, _ detail: String, sources: [String], topic: String) {
            let (label, url) = source(sources)
            cards.append(CDSCard(uuid: makeID(), summary: clip(summary), detail: detail, indicator: indicator, sourceLabel: label,
                                 sourceURL: url, links: links, topic: topic))
        }
        let infection = a.infection

        if infection.severity == .severe {
            var detail = "**Severity: severe** — \(infection.severityReasons.joined(separator: "; "))\n\n\(infection.basis)"
            if !infection.management.isEmpty { detail += "\n\nManagement: \(infection.management.joined(separator: ", "))." }
            if !infection.empiricOptions.isEmpty {
                detail += "\n\nEmpiric options (\(infection.route)):\n" + infection.empiricOptions.map { option in
                    "- \(option.agent.drug)" + (option.weightBasedDose ?? option.agent.dose).map { ": \($0)" }.orEmpty
                }.joined(separator: "\n")
            }
            let mrsa = infection.mrsaCoverage ? ", cover MRSA" : ""
            add(.critical, "Severe infection of calcinosis: \(infection.route) antibiotics\(mrsa), \(infection.management.joined(separator: " and "))",
                detail, sources: infection.sources, topic: "infection-severe")
        }
        let qsofaPositive = infection.qsofa?.positive == true
        let sirsPositive = infection.present && infection.sirs.positive
        if qsofaPositive || sirsPositive {
            var parts: [String] = []
            if let q = infection.qsofa, q.positive { parts.append("qSOFA \(q.score) (≥ 2): \(q.basis)") }
            if sirsPositive { parts.append("SIRS \(infection.sirs.criteriaMet) criteria with infection: \(infection.sirs.basis)") }
            let screen = [qsofaPositive ? "qSOFA \(infection.qsofa!.score)" : nil, sirsPositive ? "SIRS \(infection.sirs.criteriaMet)/4" : nil]
                .compactMap { $0 }.joined(separator: ", ")
            add(.critical, "Positive sepsis screen (\(screen)): assess for sepsis now", parts.joined(separator: "\n\n"),
                sources: qsofaPositive ? [Sources.seymour2016, Sources.bone1992] : [Sources.bone1992], topic: "sepsis-screen")
        }

        for alert in a.alerts where alert.id != "SEPSIS-QSOFA" { cards.append(alertCard(alert, links: links, makeID: makeID)) }

        let options = a.therapyOptions.filter { !$0.current }
        if !options.isEmpty {
            // Appended piece by piece into one string: a string per option joined was a tenth of the cards' cost.
            var detail = ""
            for (i, o) in options.enumerated() {
                if i > 0 { detail += "\n" }
                detail += "- **"; detail += o.name; detail += "**"
                if let regimen = o.regimen { detail += " — "; detail += regimen }
                if let level = o.evidenceLevel { detail += " (evidence "; detail += level; detail += ")" }
                if !o.cautions.isEmpty { detail += "; caution: "; detail += o.cautions.joined(separator: "; ") }
            }
            detail += "\n\nOptions are from case series and reviews; none is a validated standard of care."
            add(.info, "Calcinosis therapy options to consider: \(options.prefix(3).map(\.name).joined(separator: ", "))\(options.count > 3 ? ", …" : "")",
                detail, sources: sortedUnique(options.flatMap(\.sources)), topic: "therapy-options")
        }

        for advice in a.imaging {
            add(.info, "Imaging: \(advice.modality.rawValue) — \(advice.reason)", advice.basis, sources: advice.sources, topic: "imaging:\(advice.modality.rawValue)")
        }

        if a.followUp.status != "ok" {
            let summary = switch a.followUp.status {
            case "lost": "Lost to follow-up with an unhealed lesion: arrange a visit"
            case "overdue": "Calcinosis follow-up overdue\(a.followUp.daysPastDue.map { " by \($0) days" } ?? "")"
            case "due": "Calcinosis follow-up is due"
            default: "No calcinosis visit recorded"
            }
            add(.info, summary, a.followUp.basis, sources: a.followUp.sources, topic: "follow-up:\(a.followUp.status)")
        }
        // Most urgent first, in the order built within each indicator (a stable sort by rank
        // without a dictionary lookup and tuple compare per comparison).
        return cards.filter { $0.indicator == .critical } + cards.filter { $0.indicator == .warning } + cards.filter { $0.indicator == .info }
    }

    /// An engine alert as a card: warning (LABS-MISSING: info), the message, action and basis as detail.
    static func alertCard(_ alert: Alert, links: [(label: String, url: String)], makeID: () -> String) -> CDSCard {
        var detail = alert.message
        if let action = alert.action { detail += "\n\n**Action:** \(action)" }
        detail += "\n\n\(alert.basis)"
        if alert.proposed { detail += "\n\n(Fires for a proposed empiric antibiotic, not an active one.)" }
        let (label, url) = source(alert.sources)
        return CDSCard(uuid: makeID(), summary: clip("\(alert.id): \(alert.message)"), detail: detail, indicator: alert.id == "LABS-MISSING" ? .info : .warning,
                       sourceLabel: label, sourceURL: url, links: links, topic: "alert:\(alert.id)")
    }

    /// The same as `Array(Set(ids)).sorted()` without hashing every id into a fresh Set (a
    /// handful of ids: a linear look is cheaper).
    static func sortedUnique(_ ids: [String]) -> [String] {
        var unique: [String] = []
        for id in ids where !unique.contains(id) { unique.append(id) }
        return unique.sorted()
    }

    /// At most 139 characters (the spec's "<140"), cut at a word with an ellipsis.
    static func clip(_ text: String) -> String {
        guard text.count > summaryLimit else { return text }
        var cut = String(text.prefix(summaryLimit - 1))
        if let space = cut.lastIndex(of: " ") { cut = String(cut[..<space]) }
        return cut + "…"
    }

    /// The first cited source: its short label and, when its reference gives a DOI, the DOI URL.
    static func source(_ ids: [String]) -> (String, String?) {
        guard let link = ids.lazy.compactMap({ sourceLinks[$0] }).first else { return ("CalciTrack", nil) }
        return link
    }

    /// Label and DOI URL of every citation, worked out once: searching each reference for its DOI
    /// on every card was a tenth of a patient-view call's CPU (BENCHMARKS.md, CDS Hooks).
    static let sourceLinks: [String: (String, String?)] = Sources.all.mapValues { citation in
        var url: String?
        if let range = citation.reference.firstRange(of: "doi:") {
            let doi = citation.reference[range.upperBound...].prefix { !$0.isWhitespace && $0 != ";" }
            url = "https://doi.org/" + String(doi.hasSuffix(".") ? doi.dropLast() : doi)
        }
        return ("CalciTrack · \(citation.short)", url)
    }
}

extension Optional where Wrapped == String {
    fileprivate var orEmpty: String { self ?? "" }
}
