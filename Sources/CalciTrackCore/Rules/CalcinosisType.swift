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
    public let reason: String
    public let sources: [String]
}

public struct CalcinosisType: Sendable, Equatable {
    public var value: CalcinosisSubtype
    public var matches: [RuleMatch]
    public var missingInputs: [String]
    /// Set when R2 matched: "suspected" (renal failure) or "suspected-nonuremic" (specialist review).
    public var calciphylaxisStatus: String?
    public var basis: String
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
                    matches.append(RuleMatch(rule: "R1", subtype: .iatrogenic,
                        reason: "\(exposure.kind.rawValue) at \(site.rawValue) \(exposure.laterality?.rawValue ?? "") on \(exposure.date), \(days) days before lesion \(lesion.id) was first measured (≤ \(window))",
                        sources: [Sources.seed2, Sources.caseFormat]))
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
            let renal = ctx.renalFailure(egfrBelow: .calciphylaxisEGFR)
            let signs = [skinLesion.findings.retiformPurpura ? "retiform purpura" : nil, skinLesion.findings.necrosis ? "necrosis" : nil,
                         skinLesion.findings.livedo ? "livedo" : nil].compactMap { $0 }.joined(separator: ", ")
            calciphylaxisStatus = renal.value == true ? "suspected" : "suspected-nonuremic"
            matches.append(RuleMatch(rule: "R2", subtype: .calciphylaxis,
                reason: "\(signs) at lesion \(skinLesion.id); \(renal.basis)"
                    + (renal.value == true ? "" : ": skin criteria without renal failure, non-uraemic calciphylaxis suspected, specialist review; biopsy confirms"),
                sources: [Sources.jimenezGallo2015, Sources.seed2]))
        }

        // R3 metastatic: Ca > ULN or P > ULN or Ca×P > threshold (Reiter 2011; Medscape; Seed-2).
        // Compared at 2 decimals of mg/dL so that a value at the SI limit (2.62 mmol/L = 10.50096
        // mg/dL, the pair case-format.md gives) is not tipped over 10.5 by unit conversion.
        func above(_ lab: LabResult, _ limit: ThresholdID) -> Bool { rounded(lab.canonicalValue, places: 2) > t[limit] }
        var abnormal: [String] = []
        if let calcium, above(calcium, .calciumULN) { abnormal.append("calcium \(fmt(calcium.canonicalValue)) mg/dL > \(fmt(t[.calciumULN]))") }
        if let phosphate, above(phosphate, .phosphateULN) { abnormal.append("phosphate \(fmt(phosphate.canonicalValue)) mg/dL > \(fmt(t[.phosphateULN]))") }
        if product.aboveThreshold == true, let p = product.mg2dl2 { abnormal.append("Ca×P \(fmt(p)) > \(fmt(product.thresholdMg2dl2)) mg²/dL²") }
        if !abnormal.isEmpty {
            matches.append(RuleMatch(rule: "R3", subtype: .metastatic, reason: abnormal.joined(separator: "; "),
                                     sources: [Sources.reiter2011, Sources.medscape, Sources.seed2]))
        }

        // R4 tumoral: periarticular mass and (high phosphate or family history).
        let mass = ctx.lesions.first { $0.periarticularMass == true }
        let highP = phosphate.map { above($0, .phosphateULN) } ?? false
        if let mass, highP || c.history.familyHistoryTumoralCalcinosis == true {
            matches.append(RuleMatch(rule: "R4", subtype: .tumoral,
                reason: "periarticular mass at lesion \(mass.id) with \(highP ? "phosphate above the upper limit" : "family history of tumoral calcinosis")",
                sources: [Sources.seed1, Sources.reiter2011]))
        }

        // R5/R6 need calcium and phosphate within range (not above the upper limit, product not above threshold).
        let withinRange = calcium != nil && phosphate != nil && abnormal.isEmpty
        if withinRange && !ctx.lesions.isEmpty {
            let actd = connectiveTissueDisease(c)
            let injury = localTissueInjury(ctx)
            if actd != nil || injury != nil {
                matches.append(RuleMatch(rule: "R5", subtype: .dystrophic,
                    reason: "calcium and phosphate within range; " + [actd, injury].compactMap { $0 }.joined(separator: "; "),
                    sources: [Sources.reiter2011, Sources.seed1, Sources.seed2]))
            } else if !matches.contains(where: { $0.subtype == .iatrogenic }) && c.history.calciumOrPhosphateExposures.isEmpty {
                if c.ssc?.subtype == nil || c.ssc?.subtype == .unknown { missing.append("ssc.subtype") }
                matches.append(RuleMatch(rule: "R6", subtype: .idiopathic,
                    reason: "calcium and phosphate within range; no connective-tissue disease, tissue injury or calcium/phosphate exposure recorded",
                    sources: [Sources.reiter2011]))
            }
        }

        let order: [CalcinosisSubtype] = [.iatrogenic, .calciphylaxis, .metastatic, .tumoral, .dystrophic, .idiopathic]
        let value = order.first { s in matches.contains { $0.subtype == s } } ?? .undetermined
        var basisParts = matches.map { "\($0.rule) \($0.subtype.rawValue): \($0.reason)" }
        if value == .undetermined {
            basisParts.append(missing.contains("calcium") || missing.contains("phosphate")
                ? "R7: \(missing.filter { $0 == "calcium" || $0 == "phosphate" }.joined(separator: " and ")) missing; order serum Ca, PO4, creatinine/eGFR"
                : "no rule matched")
        }
        basisParts.append(contentsOf: notes)
        var sources = Array(Set(matches.flatMap(\.sources))).sorted()
        if sources.isEmpty { sources = [Sources.reiter2011, Sources.seed2] }
        return CalcinosisType(value: value, matches: matches, missingInputs: missing, calciphylaxisStatus: calciphylaxisStatus,
                              basis: basisParts.joined(separator: "; "), sources: sources)
    }

    static func sidesMatch(_ a: Laterality?, _ b: Laterality?) -> Bool {
        guard let a, let b else { return false }
        return a == b || a == .bilateral || b == .bilateral
    }

    /// An autoimmune connective-tissue disease (SSc or another) recorded, as text for the basis.
    static func connectiveTissueDisease(_ c: Case) -> String? {
        if let subtype = c.ssc?.subtype, subtype != .none, subtype != .unknown { return "systemic sclerosis (\(subtype.rawValue))" }
        if !c.otherConnectiveTissueDisease.isEmpty {
            return "connective-tissue disease: " + c.otherConnectiveTissueDisease.map(\.rawValue).joined(separator: ", ")
        }
        return nil
    }

    /// Local tissue injury: trauma or infection at a lesion (clinical-spec 1.3 `localTissueInjuryAtSite`).
    static func localTissueInjury(_ ctx: CaseContext) -> String? {
        if ctx.case.history.penetratingTrauma == true { return "penetrating trauma" }
        if let infected = ctx.lesions.first(where: { $0.findings.purulent || $0.findings.abscess }) {
            return "infection at lesion \(infected.id)"
        }
        return nil
    }
}
