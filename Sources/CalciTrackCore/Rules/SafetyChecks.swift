/// Alerts beyond the interaction table (case-format.md): SEPSIS-QSOFA, DOSE-FREQUENCY,
/// LABS-MISSING, and CALCIPHYLAXIS-SUSPECTED when rule R2 matched. Texts naming the patient's
/// values are written when read (`DeferredText`).
public enum SafetyChecks {
    static let sepsisAction = "Assess for sepsis and organ dysfunction now (full SOFA, lactate, blood cultures) and escalate care."
    static let doseFrequencyAction = "Check the prescription for an interval slip (days for hours, daily for weekly) and correct it."
    static let doseFrequencySources = [Sources.idsa2014, Sources.idsaMrsa2011, Sources.seed1]
    static let labsMissingAction = "Order serum calcium, phosphate and creatinine/eGFR."
    static let labsMissingSources = [Sources.seed2, Sources.reiter2011]
    static let calciphylaxisAction = "Refer for specialist review; a biopsy showing medial calcification of small vessels confirms it."

    /// qSOFA ≥ 2 (Seymour 2016).
    public static func sepsisScreen(_ infection: InfectionTriage) -> Alert? {
        guard let qsofa = infection.qsofa, qsofa.positive else { return nil }
        return Alert(id: "SEPSIS-QSOFA", level: .high,
                     message: DeferredText { "qSOFA \(qsofa.score)/3: positive sepsis screen (Sepsis-3)." },
                     action: DeferredText(sepsisAction),
                     drugs: [], proposed: false, basis: .deferred(DeferredText { qsofa.basis }), sources: qsofa.sources, tag: .verified)
    }

    /// A known drug given at an interval outside its usual ones, e.g. doxycycline weekly where every
    /// 12 hours was meant (Seed-1 printed "every 12 days").
    public static func doseFrequency(_ ctx: CaseContext) -> [Alert] {
        var alerts: [Alert] = []
        for a in ctx.active {
            let drug = a.drug
            guard let frequency = ctx.case.medications[a.index].frequency, let usual = drug.usualFrequencies, !usual.contains(frequency) else { continue }
            let usualText = DeferredText { Frequency.allCases.filter(usual.contains).map(\.rawValue).joined(separator: ", ") }
            let doseMg = ctx.case.medications[a.index].doseMg
            alerts.append(Alert(id: "DOSE-FREQUENCY", level: .high,
                         message: DeferredText { "\(drug.name) \(frequency.rawValue) is outside its usual dosing intervals (\(usualText.text))." },
                         action: DeferredText(doseFrequencyAction),
                         drugs: [drug.name], proposed: false,
                         basis: .deferred(DeferredText {
                             "\(drug.name)\(doseMg.map { " \(fmt($0)) mg" } ?? "") \(frequency.rawValue); usual: \(usualText.text) (engine drug table, pending pharmacist review)"
                         }),
                         sources: doseFrequencySources, tag: .projectDecision))
        }
        return alerts
    }

    /// Calcium or phosphate missing, or both eGFR and creatinine missing (Seed-2: the minimum
    /// work-up is serum Ca, PO4 and renal function; clinical-spec 1.3 R7).
    public static func labsMissing(_ ctx: CaseContext) -> Alert? {
        var missing: [String] = []
        if ctx.latest(.calcium) == nil && ctx.latest(.calciumCorrected) == nil { missing.append("calcium") }
        if ctx.latest(.phosphate) == nil { missing.append("phosphate") }
        if ctx.latest(.egfr) == nil && ctx.latest(.creatinine) == nil { missing.append("creatinine or eGFR") }
        guard !missing.isEmpty else { return nil }
        let asOf = ctx.asOf
        return Alert(id: "LABS-MISSING", level: .moderate,
                     message: DeferredText { [missing] in
                         "Calcinosis work-up incomplete: \(missing.joined(separator: ", ")) not recorded; the calcinosis subtype and the Ca×P product cannot be fully determined."
                     },
                     action: DeferredText(labsMissingAction), drugs: [], proposed: false,
                     basis: .deferred(DeferredText { [missing] in "no result on or before \(asOf) for: \(missing.joined(separator: ", "))" }),
                     sources: labsMissingSources, tag: .seed)
    }

    public static func calciphylaxis(_ type: CalcinosisType) -> Alert? {
        guard let match = type.matches.first(where: { $0.subtype == .calciphylaxis }) else { return nil }
        return Alert(id: "CALCIPHYLAXIS-SUSPECTED", level: .high,
                     message: type.calciphylaxisStatus == "suspected"
                        ? "Calciphylaxis suspected: renal failure with retiform purpura, necrosis or livedo."
                        : "Non-uraemic calciphylaxis suspected: skin criteria without known renal failure.",
                     action: calciphylaxisAction,
                     drugs: [], proposed: false, basis: .deferred(match.reasonText), sources: match.sources, tag: .verified)
    }
}
