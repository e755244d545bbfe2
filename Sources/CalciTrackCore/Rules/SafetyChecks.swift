/// Alerts beyond the interaction table (case-format.md): SEPSIS-QSOFA, DOSE-FREQUENCY,
/// LABS-MISSING, and CALCIPHYLAXIS-SUSPECTED when rule R2 matched.
public enum SafetyChecks {
    /// qSOFA ≥ 2 (Seymour 2016).
    public static func sepsisScreen(_ infection: InfectionTriage) -> Alert? {
        guard let qsofa = infection.qsofa, qsofa.positive else { return nil }
        return Alert(id: "SEPSIS-QSOFA", level: .high,
                     message: "qSOFA \(qsofa.score)/3: positive sepsis screen (Sepsis-3).",
                     action: "Assess for sepsis and organ dysfunction now (full SOFA, lactate, blood cultures) and escalate care.",
                     drugs: [], proposed: false, basis: qsofa.basis, sources: qsofa.sources, tag: .verified)
    }

    /// A known drug given at an interval outside its usual ones, e.g. doxycycline weekly where every
    /// 12 hours was meant (Seed-1 printed "every 12 days").
    public static func doseFrequency(_ ctx: CaseContext) -> [Alert] {
        ctx.activeDrugs.compactMap { medication, drug in
            guard let frequency = medication.frequency, let usual = drug.usualFrequencies, !usual.contains(frequency) else { return nil }
            let usualText = Frequency.allCases.filter(usual.contains).map(\.rawValue).joined(separator: ", ")
            return Alert(id: "DOSE-FREQUENCY", level: .high,
                         message: "\(drug.name) \(frequency.rawValue) is outside its usual dosing intervals (\(usualText)).",
                         action: "Check the prescription for an interval slip (days for hours, daily for weekly) and correct it.",
                         drugs: [drug.name], proposed: false,
                         basis: "\(drug.name)\(medication.doseMg.map { " \(fmt($0)) mg" } ?? "") \(frequency.rawValue); usual: \(usualText) (engine drug table, pending pharmacist review)",
                         sources: [Sources.idsa2014, Sources.idsaMrsa2011, Sources.seed1], tag: .projectDecision)
        }
    }

    /// Calcium or phosphate missing, or both eGFR and creatinine missing (Seed-2: the minimum
    /// work-up is serum Ca, PO4 and renal function; clinical-spec 1.3 R7).
    public static func labsMissing(_ ctx: CaseContext) -> Alert? {
        var missing: [String] = []
        if ctx.latest(.calcium) == nil && ctx.latest(.calciumCorrected) == nil { missing.append("calcium") }
        if ctx.latest(.phosphate) == nil { missing.append("phosphate") }
        if ctx.latest(.egfr) == nil && ctx.latest(.creatinine) == nil { missing.append("creatinine or eGFR") }
        guard !missing.isEmpty else { return nil }
        return Alert(id: "LABS-MISSING", level: .moderate,
                     message: "Calcinosis work-up incomplete: \(missing.joined(separator: ", ")) not recorded; the calcinosis subtype and the Ca×P product cannot be fully determined.",
                     action: "Order serum calcium, phosphate and creatinine/eGFR.", drugs: [], proposed: false,
                     basis: "no result on or before \(ctx.asOf) for: \(missing.joined(separator: ", "))",
                     sources: [Sources.seed2, Sources.reiter2011], tag: .seed)
    }

    public static func calciphylaxis(_ type: CalcinosisType) -> Alert? {
        guard let match = type.matches.first(where: { $0.subtype == .calciphylaxis }) else { return nil }
        return Alert(id: "CALCIPHYLAXIS-SUSPECTED", level: .high,
                     message: type.calciphylaxisStatus == "suspected"
                        ? "Calciphylaxis suspected: renal failure with retiform purpura, necrosis or livedo."
                        : "Non-uraemic calciphylaxis suspected: skin criteria without known renal failure.",
                     action: "Refer for specialist review; a biopsy showing medial calcification of small vessels confirms it.",
                     drugs: [], proposed: false, basis: match.reason, sources: match.sources, tag: .verified)
    }
}
