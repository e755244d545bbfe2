/// Calcification subtype, rules R1-R7 of clinical-spec 1.3, all evaluated (a patient with SSc and
/// ESRD can match several). `value` is the first match in the order iatrogenic, calciphylaxis,
/// metastatic, tumoral, dystrophic, idiopathic (case-format.md); with none, undetermined.
public enum CalcinosisSubtype: String, Sendable, CaseIterable {
    case iatrogenic, calciphylaxis, metastatic, tumoral, dystrophic, idiopathic, undetermined
}

public struct RuleMatch: Sendable, Equatable {
    /// R1 ... R7
    public let rule: String
    public let subtype: CalcinosisSubtype
    /// Written when read, from the values the rule matched on.
    public var reason: String { reasonText.text }
    let reasonText: DeferredText
    public let sources: [String]

    init(rule: String, subtype: CalcinosisSubtype, reason: DeferredText, sources: [String]) {
        self.rule = rule; self.subtype = subtype; self.reasonText = reason; self.sources = sources
    }
}

public struct CalcinosisType: Sendable, Equatable {
    public var value: CalcinosisSubtype
    public var matches: [RuleMatch]
    public var missingInputs: [String]
    /// Set when R2 matched: "suspected" (renal failure) or "suspected-nonuremic" (specialist review).
    public var calciphylaxisStatus: String?
    /// Written when read from the matches (see `DeferredText`).
    public var basis: String {
        get { basisText.text }
        set { basisText = DeferredText(newValue) }
    }
    var basisText: DeferredText
    public var sources: [String]

    public var matchedRules: [CalcinosisSubtype] { matches.map(\.subtype) }

    public static func evaluate(_ ctx: CaseContext, product: CalciumPhosphateProduct) -> CalcinosisType {
        let c = ctx.case
        let t = ctx.thresholds
        var matches: [RuleMatch] = []
        var missing: [String] = []
        var notes: [String] = []

        let calcium = ctx.latest(.calcium) ?? ctx.latest(.calciumCorrected)
        let phosphate = ctx.latest(.phosphate)
        if calcium == nil { missing.append("calcium") }
        if phosphate == nil { missing.append("phosphate") }
        if ctx.latest(.egfr) == nil && ctx.latest(.creatinine) == nil { missing.append("egfr") }

        if ctx.lesions.isEmpty { notes.append("no lesion recorded: calcinosis not confirmed (R0)") }

        // R1 iatrogenic: exposure at the same site and side, on or before the lesion's first
        // measurement and at most the window before it (Seed-2 via Rumancik 2020; window: project decision).
        let window = Int(t[.iatrogenicWindowDays])
        for lesion in ctx.lesions {
            guard let onset = lesion.measurements.first?.date else { continue }
            for exposure in c.history.calciumOrPhosphateExposures where exposure.date <= ctx.asOf {
                guard let site = exposure.site, site == lesion.site, sidesMatch(exposure.laterality, lesion.laterality) else { continue }
                let days = exposure.date.days(until: onset)
                if days >= 0 && days <= window {
                    let lesionId = lesion.id
                    matches.append(RuleMatch(rule: "R1", subtype: .iatrogenic,
                        reason: DeferredText {
                            "\(exposure.kind.rawValue) at \(site.rawValue) \(exposure.laterality?.rawValue ?? "") on \(exposure.date), \(days) days before lesion \(lesionId) was first measured (≤ \(window))"
                        },
                        sources: r1Sources))
                    break
                }
            }
            if matches.contains(where: { $0.subtype == .iatrogenic }) { break }
        }

        // R2 calciphylaxis: (dialysis or eGFR < 15) and (retiform purpura, necrosis or livedo);
        // skin signs without renal failure → suspected non-uraemic, for specialist review.
        let skinLesion = ctx.lesions.first { $0.findings.retiformPurpura || $0.findings.necrosis || $0.findings.livedo }
        var calciphylaxisStatus: String?
        if let skinLesion {
            let renal = ctx.renalStatus(egfrBelow: .calciphylaxisEGFR)
            let findings = skinLesion.findings, lesionId = skinLesion.id
            calciphylaxisStatus = renal.value == true ? "suspected" : "suspected-nonuremic"
            matches.append(RuleMatch(rule: "R2", subtype: .calciphylaxis,
                reason: DeferredText {
                    let signs = [findings.retiformPurpura ? "retiform purpura" : nil, findings.necrosis ? "necrosis" : nil,
                                 findings.livedo ? "livedo" : nil].compactMap { $0 }.joined(separator: ", ")
                    return "\(signs) at lesion \(lesionId); \(renal.basis)"
                        + (renal.value == true ? "" : ": skin criteria without renal failure, non-uraemic calciphylaxis suspected, specialist review; biopsy confirms")
                },
                sources: r2Sources))
        }

        // R3 metastatic: Ca > ULN or P > ULN or Ca×P > threshold (Reiter 2011; Medscape; Seed-2).
        // Compared at 2 decimals of mg/dL so that a value at the SI limit (2.62 mmol/L = 10.50096
        // mg/dL, the pair case-format.md gives) is not tipped over 10.5 by unit conversion.
        func above(_ lab: LabResult, _ limit: ThresholdID) -> Bool { rounded(lab.canonicalValue, places: 2) > t[limit] }
        // The values above their limits (nil: within range or not measured).
        let highCa = calcium.flatMap { above($0, .calciumULN) ? $0.canonicalValue : nil }
        let highPValue = phosphate.flatMap { above($0, .phosphateULN) ? $0.canonicalValue : nil }
        let highProduct = product.aboveThreshold == true ? product.mg2dl2 : nil
        let abnormal = highCa != nil || highPValue != nil || highProduct != nil
        if abnormal {
            let caULN = t[.calciumULN], pULN = t[.phosphateULN], productLimit = product.thresholdMg2dl2
            matches.append(RuleMatch(rule: "R3", subtype: .metastatic, reason: DeferredText {
                var parts: [String] = []
                if let highCa { parts.append("calcium \(fmt(highCa)) mg/dL > \(fmt(caULN))") }
                if let highPValue { parts.append("phosphate \(fmt(highPValue)) mg/dL > \(fmt(pULN))") }
                if let highProduct { parts.append("Ca×P \(fmt(highProduct)) > \(fmt(productLimit)) mg²/dL²") }
                return parts.joined(separator: "; ")
            }, sources: r3Sources))
        }

        // R4 tumoral: periarticular mass and (high phosphate or family history).
        let mass = ctx.lesions.first { $0.periarticularMass == true }
        let highP = phosphate.map { above($0, .phosphateULN) } ?? false
        if let mass, highP || c.history.familyHistoryTumoralCalcinosis == true {
            let massId = mass.id
            matches.append(RuleMatch(rule: "R4", subtype: .tumoral,
                reason: DeferredText { "periarticular mass at lesion \(massId) with \(highP ? "phosphate above the upper limit" : "family history of tumoral calcinosis")" },
                sources: r4Sources))
        }

        // R5/R6 need calcium and phosphate within range (not above the upper limit, product not above threshold).
        let withinRange = calcium != nil && phosphate != nil && !abnormal
        if withinRange && !ctx.lesions.isEmpty {
            let actd = ConnectiveTissueDiseaseFound(c)
            let injury = LocalTissueInjury(ctx)
            if actd != nil || injury != nil {
                matches.append(RuleMatch(rule: "R5", subtype: .dystrophic,
                    reason: DeferredText { "calcium and phosphate within range; " + [actd?.text, injury?.text].compactMap { $0 }.joined(separator: "; ") },
                    sources: r5Sources))
            } else if !matches.contains(where: { $0.subtype == .iatrogenic }) && c.history.calciumOrPhosphateExposures.isEmpty {
                if c.ssc?.subtype == nil || c.ssc?.subtype == .unknown { missing.append("ssc.subtype") }
                matches.append(RuleMatch(rule: "R6", subtype: .idiopathic, reason: r6Reason, sources: r6Sources))
            }
        }

        let value = subtypeOrder.first { s in matches.contains { $0.subtype == s } } ?? .undetermined
        let basis = DeferredText { [matches, missing, notes] in
            var basisParts = matches.map { "\($0.rule) \($0.subtype.rawValue): \($0.reason)" }
            if value == .undetermined {
                basisParts.append(missing.contains("calcium") || missing.contains("phosphate")
                    ? "R7: \(missing.filter { $0 == "calcium" || $0 == "phosphate" }.joined(separator: " and ")) missing; order serum Ca, PO4, creatinine/eGFR"
                    : "no rule matched")
            }
            basisParts.append(contentsOf: notes)
            return basisParts.joined(separator: "; ")
        }
        // The matched rules' sources, sorted and without duplicates (a set would hash every id).
        var sources: [String] = []
        for match in matches { for id in match.sources where !sources.contains(id) { sources.append(id) } }
        sources.sort()
        if sources.isEmpty { sources = defaultSources }
        return CalcinosisType(value: value, matches: matches, missingInputs: missing, calciphylaxisStatus: calciphylaxisStatus,
                              basisText: basis, sources: sources)
    }

    static let subtypeOrder: [CalcinosisSubtype] = [.iatrogenic, .calciphylaxis, .metastatic, .tumoral, .dystrophic, .idiopathic]
    static let r1Sources = [Sources.seed2, Sources.caseFormat]
    static let r2Sources = [Sources.jimenezGallo2015, Sources.seed2]
    static let r3Sources = [Sources.reiter2011, Sources.medscape, Sources.seed2]
    static let r4Sources = [Sources.seed1, Sources.reiter2011]
    static let r5Sources = [Sources.reiter2011, Sources.seed1, Sources.seed2]
    static let r6Sources = [Sources.reiter2011]
    static let r6Reason = DeferredText("calcium and phosphate within range; no connective-tissue disease, tissue injury or calcium/phosphate exposure recorded")
    static let defaultSources = [Sources.reiter2011, Sources.seed2]

    static func sidesMatch(_ a: Laterality?, _ b: Laterality?) -> Bool {
        guard let a, let b else { return false }
        return a == b || a == .bilateral || b == .bilateral
    }

}

/// An autoimmune connective-tissue disease (SSc or another) recorded; `text` is its basis text.
struct ConnectiveTissueDiseaseFound: Sendable {
    let ssc: SScSubtype?
    let other: [ConnectiveTissueDisease]

    init?(_ c: Case) {
        if let subtype = c.ssc?.subtype, subtype != .none, subtype != .unknown {
            ssc = subtype; other = []
        } else if !c.otherConnectiveTissueDisease.isEmpty {
            ssc = nil; other = c.otherConnectiveTissueDisease
        } else {
            return nil
        }
    }

    var text: String {
        if let ssc { return "systemic sclerosis (\(ssc.rawValue))" }
        return "connective-tissue disease: " + other.map(\.rawValue).joined(separator: ", ")
    }
}

/// Local tissue injury: trauma or infection at a lesion (clinical-spec 1.3 `localTissueInjuryAtSite`).
struct LocalTissueInjury: Sendable {
    /// nil: penetrating trauma; else the infected lesion's id.
    let infectedLesion: String?

    init?(_ ctx: CaseContext) {
        if ctx.case.history.penetratingTrauma == true {
            infectedLesion = nil
        } else if let infected = ctx.lesions.first(where: { $0.findings.purulent || $0.findings.abscess }) {
            infectedLesion = infected.id
        } else {
            return nil
        }
    }

    var text: String { infectedLesion.map { "infection at lesion \($0)" } ?? "penetrating trauma" }
}
