/// Workflow holds of clinical-spec 8. Messages and bases name the patient's drugs and dates, so
/// they are kept as those values and written when read (`DeferredText`).
public enum Holds {
    static let hold01Sources = [Sources.seed1, Sources.mycophenolateLabel]
    static let hold01Action = "Record the hold (date, reason) and the restart criterion: restart after the infection has resolved (Seed-1)."
    static let hold02Sources = [Sources.ebmConsultWarfarinSmx, Sources.tetracyclineLabel]

    /// HOLD-01 (Seed-1): during an acute SSTI with systemic signs, flag active immunosuppressants
    /// for review (hold or reduce per prescriber), with restart criteria.
    public static func immunosuppressantReview(_ ctx: CaseContext, infection: InfectionTriage) -> Alert? {
        guard infection.present, infection.hasSystemicSigns else { return nil }
        let reviewed = DrugClass.immunosuppressant.bit | DrugClass.glucocorticoid.bit
        var names: [String] = [], doses: [Double?] = [], steroid = false
        guard ctx.activeClasses & reviewed != 0 else { return nil }
        for a in ctx.active where a.drug.classMask & reviewed != 0 {
            names.append(a.drug.name)
            doses.append(ctx.case.medications[a.index].doseMg)
            steroid = steroid || a.drug.is(.glucocorticoid)
        }
        guard !names.isEmpty else { return nil }
        let signs = infection.systemicSigns.present
        return Alert(id: "HOLD-01", level: .high,
                     message: DeferredText { [names, steroid] in
                         let steroidNote = steroid ? " Do not stop glucocorticoids abruptly (adrenal suppression)." : ""
                         return "Acute skin and soft-tissue infection with systemic signs while on immunosuppression: review \(names.joined(separator: ", ")) (hold or reduce per prescriber).\(steroidNote)"
                     },
                     action: DeferredText(hold01Action), drugs: names, proposed: false,
                     basis: .deferred(DeferredText { [names, doses] in
                         "infection present with systemic signs (\(signs.joined(separator: ", "))); active: "
                            + zip(names, doses).map { name, dose in "\(name)\(dose.map { " \(fmt($0)) mg" } ?? "")" }.joined(separator: ", ")
                     }),
                     sources: hold01Sources, tag: .seed)
    }

    /// HOLD-02: warfarin together with doxycycline (or another tetracycline) or TMP-SMX requires an
    /// INR within 3-5 days of the combination. Satisfied by an INR dated at least 3 days after it began.
    public static func inrCheck(_ ctx: CaseContext, infection: InfectionTriage) -> Alert? {
        guard let warfarin = ctx.active.first(where: { $0.drug.is(.vitaminKAntagonist) }) else { return nil }
        let interactingClasses = DrugClass.tetracycline.bit | DrugClass.sulfamethoxazoleTrimethoprim.bit
        let window = Int(ctx.thresholds[.inrCheckWindowDays])
        if let active = ctx.active.first(where: { $0.drug.classMask & interactingClasses != 0 }) {
            let start = [ctx.case.medications[warfarin.index].start, ctx.case.medications[active.index].start].compactMap { $0 }.max()
            // An INR at least 3 days after the combination began meets the requirement.
            if let start, ctx.labs.contains(where: { $0.test == .inr && $0.date >= start.adding(days: 3) }) { return nil }
            let name = active.drug.name
            return Alert(id: "HOLD-02", level: .high,
                         message: DeferredText { "Warfarin with \(name): an INR is required within 3-\(window) days of the combination." },
                         action: DeferredText {
                             let due = start.map { " between \($0.adding(days: 3)) and \($0.adding(days: window))" } ?? ""
                             return "Order an INR\(due)."
                         },
                         drugs: ["warfarin", name], proposed: false,
                         basis: .deferred(DeferredText {
                             "warfarin and \(name) active\(start.map { " together since \($0)" } ?? ""); no INR recorded at least 3 days after"
                         }),
                         sources: hold02Sources, tag: .secondary)
        }
        let proposed = infection.empiricOptions.compactMap { $0.agent.catalogDrug.flatMap { $0.classMask & interactingClasses != 0 ? $0.name : nil } }
        guard let option = proposed.first else { return nil }
        return Alert(id: "HOLD-02", level: .high,
                     message: DeferredText { "Warfarin is active and \(proposed.joined(separator: " or ")) is an empiric option: starting it requires an INR within 3-\(window) days." },
                     action: DeferredText { "If \(option) is started, order an INR 3-\(window) days later." },
                     drugs: ["warfarin"] + proposed, proposed: true,
                     basis: .deferred(DeferredText { "warfarin active; proposed: \(proposed.joined(separator: ", "))" }),
                     sources: hold02Sources, tag: .secondary)
    }
}
