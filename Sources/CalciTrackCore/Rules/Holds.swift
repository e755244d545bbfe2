/// Workflow holds of clinical-spec 8.
public enum Holds {
    /// HOLD-01 (Seed-1): during an acute SSTI with systemic signs, flag active immunosuppressants
    /// for review (hold or reduce per prescriber), with restart criteria.
    public static func immunosuppressantReview(_ ctx: CaseContext, infection: InfectionTriage) -> Alert? {
        guard infection.present, infection.hasSystemicSigns else { return nil }
        let drugs = ctx.activeDrugs.filter { $0.drug.is(.immunosuppressant) || $0.drug.is(.glucocorticoid) }
        guard !drugs.isEmpty else { return nil }
        let names = drugs.map(\.drug.name)
        let steroidNote = drugs.contains { $0.drug.is(.glucocorticoid) } ? " Do not stop glucocorticoids abruptly (adrenal suppression)." : ""
        return Alert(id: "HOLD-01", level: .high,
                     message: "Acute skin and soft-tissue infection with systemic signs while on immunosuppression: review \(names.joined(separator: ", ")) (hold or reduce per prescriber).\(steroidNote)",
                     action: "Record the hold (date, reason) and the restart criterion: restart after the infection has resolved (Seed-1).",
                     drugs: names, proposed: false,
                     basis: "infection present with systemic signs (\(infection.systemicSigns.present.joined(separator: ", "))); active: "
                        + drugs.map { "\($0.drug.name)\($0.medication.doseMg.map { " \(fmt($0)) mg" } ?? "")" }.joined(separator: ", "),
                     sources: [Sources.seed1, Sources.mycophenolateLabel], tag: .seed)
    }

    /// HOLD-02: warfarin together with doxycycline (or another tetracycline) or TMP-SMX requires an
    /// INR within 3-5 days of the combination. Satisfied by an INR dated at least 3 days after it began.
    public static func inrCheck(_ ctx: CaseContext, infection: InfectionTriage) -> Alert? {
        guard let warfarin = ctx.activeDrugs(in: .vitaminKAntagonist).first else { return nil }
        let interacting = ctx.activeDrugs.filter { $0.drug.is(.tetracycline) || $0.drug.is(.sulfamethoxazoleTrimethoprim) }
        let proposed = infection.empiricOptions.compactMap(\.agent.catalogDrug)
            .filter { $0.is(.tetracycline) || $0.is(.sulfamethoxazoleTrimethoprim) }
        let window = Int(ctx.thresholds[.inrCheckWindowDays])
        if let active = interacting.first {
            let start = [warfarin.medication.start, active.medication.start].compactMap { $0 }.max()
            // An INR at least 3 days after the combination began meets the requirement.
            if let start, ctx.labs.contains(where: { $0.test == .inr && $0.date >= start.adding(days: 3) }) { return nil }
            let due = start.map { " between \($0.adding(days: 3)) and \($0.adding(days: window))" } ?? ""
            return Alert(id: "HOLD-02", level: .high,
                         message: "Warfarin with \(active.drug.name): an INR is required within 3-\(window) days of the combination.",
                         action: "Order an INR\(due).", drugs: ["warfarin", active.drug.name], proposed: false,
                         basis: "warfarin and \(active.drug.name) active\(start.map { " together since \($0)" } ?? ""); no INR recorded at least 3 days after",
                         sources: [Sources.ebmConsultWarfarinSmx, Sources.tetracyclineLabel], tag: .secondary)
        }
        guard let option = proposed.first else { return nil }
        return Alert(id: "HOLD-02", level: .high,
                     message: "Warfarin is active and \(proposed.map(\.name).joined(separator: " or ")) is an empiric option: starting it requires an INR within 3-\(window) days.",
                     action: "If \(option.name) is started, order an INR 3-\(window) days later.", drugs: ["warfarin"] + proposed.map(\.name), proposed: true,
                     basis: "warfarin active; proposed: \(proposed.map(\.name).joined(separator: ", "))",
                     sources: [Sources.ebmConsultWarfarinSmx, Sources.tetracyclineLabel], tag: .secondary)
    }
}
