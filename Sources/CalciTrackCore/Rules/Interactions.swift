/// Evaluates the interaction table (`InteractionRules`) over the active medications and, for
/// rules about antibiotics, the proposed empiric agents too (case-format.md: "a rule that
/// depends on an antibiotic fires for an active one and also for any drug in empiricOptions").
public enum Interactions {
    struct Candidate {
        let drug: Drug
        let medication: Medication?
        let route: Route?
        var proposed: Bool { medication == nil }
        var label: String {
            guard let m = medication else { return "\(drug.name) (proposed empiric option)" }
            var text = drug.name
            if let dose = m.doseMg { text += " \(fmt(dose)) mg" }
            if let f = m.frequency { text += " \(f.rawValue)" }
            if let r = m.route { text += " \(r.rawValue)" }
            if let s = m.start { text += " since \(s)" }
            return text
        }
    }

    public static func evaluate(_ ctx: CaseContext, infection: InfectionTriage) -> [Alert] {
        var candidates = ctx.activeDrugs.map { Candidate(drug: $0.drug, medication: $0.medication, route: $0.medication.route) }
        for option in infection.empiricOptions {
            // Skip only an exact duplicate (same drug and route): an active record of the drug by
            // another route (or none) must not hide the proposed one from route-specific rules (DDI-09).
            guard let drug = DrugCatalog.drug(named: option.agent.drug),
                !candidates.contains(where: { $0.drug.name == drug.name && $0.route == option.agent.route }) else { continue }
            candidates.append(Candidate(drug: drug, medication: nil, route: option.agent.route))
        }
        var alerts: [Alert] = []
        for rule in InteractionRules.all {
            guard let hit = match(rule.trigger, candidates: candidates, ctx: ctx, infection: infection) else { continue }
            var drugs: [String] = []
            for candidate in hit.drugs where !drugs.contains(candidate.drug.name) { drugs.append(candidate.drug.name) }
            // "proposed": the rule would stay silent if only the active medications counted.
            let proposed = match(rule.trigger, candidates: candidates.filter { !$0.proposed }, ctx: ctx, infection: infection) == nil
            alerts.append(Alert(id: rule.id, level: rule.level, message: rule.message, action: rule.action, drugs: drugs,
                                proposed: proposed, basis: hit.basis, sources: rule.sources, tag: rule.tag))
        }
        return alerts
    }

    struct Hit {
        var drugs: [Candidate]
        var basis: String
    }

    static func match(_ trigger: Trigger, candidates: [Candidate], ctx: CaseContext, infection: InfectionTriage) -> Hit? {
        switch trigger {
        case .both(let a, let b):
            let left = candidates.filter { a.matches($0.drug, route: $0.route) }
            let right = candidates.filter { b.matches($0.drug, route: $0.route) }
            // Two proposed options are alternatives, never given together: at least one side must be active.
            guard let pair = left.lazy.flatMap({ l in right.lazy.map { (l, $0) } })
                .first(where: { $0.0.drug.name != $0.1.drug.name && !($0.0.proposed && $0.1.proposed) })
            else { return nil }
            let others = right.filter { $0.drug.name != pair.0.drug.name && !(pair.0.proposed && $0.proposed) }
            return Hit(drugs: [pair.0] + others, basis: "\(pair.0.label) with " + others.map(\.label).joined(separator: ", "))
        case .drugWith(let selector, let condition):
            let matched = candidates.filter { selector.matches($0.drug, route: $0.route) }
            guard !matched.isEmpty, let reason = holds(condition, ctx: ctx, infection: infection) else { return nil }
            return Hit(drugs: matched, basis: matched.map(\.label).joined(separator: ", ") + " with " + reason)
        case .activeLongerThan(let selector, let threshold):
            let limit = Int(ctx.thresholds[threshold])
            let long = candidates.filter { c in
                guard selector.matches(c.drug, route: c.route), let start = c.medication?.start else { return false }
                return start.days(until: ctx.asOf) > limit
            }
            guard !long.isEmpty else { return nil }
            return Hit(drugs: long, basis: long.map { "\($0.label): \($0.medication!.start!.days(until: ctx.asOf)) days (> \(limit))" }.joined(separator: ", "))
        case .active(let selector):
            let matched = candidates.filter { !$0.proposed && selector.matches($0.drug, route: $0.route) }
            guard !matched.isEmpty else { return nil }
            return Hit(drugs: matched, basis: matched.map(\.label).joined(separator: ", ") + " active")
        case .anyOf(let triggers):
            return triggers.lazy.compactMap { match($0, candidates: candidates, ctx: ctx, infection: infection) }.first
        }
    }

    /// The condition's reason text when it holds; nil when it does not or cannot be known.
    static func holds(_ condition: PatientCondition, ctx: CaseContext, infection: InfectionTriage) -> String? {
        switch condition {
        case .renalFailure:
            let renal = ctx.renalFailure(egfrBelow: .calciphylaxisEGFR)
            return renal.value == true ? renal.basis : nil
        case .severeRenalImpairment:
            let renal = ctx.renalFailure(egfrBelow: .severeRenalEGFR)
            return renal.value == true ? renal.basis + " (eGFR as proxy for creatinine clearance)" : nil
        case .renalInsufficiency:
            let renal = ctx.renalFailure(egfrBelow: .renalInsufficiencyEGFR)
            return renal.value == true ? renal.basis : nil
        case .seriousInfection:
            guard infection.severity == .moderate || infection.severity == .severe else { return nil }
            return "\(infection.severity.rawValue) infection (\(infection.severityReasons.joined(separator: ", ")))"
        case .plannedSurgery:
            return ctx.case.workup.plannedSurgery == true ? "planned surgery (workup.plannedSurgery)" : nil
        case .childOrPregnancy:
            if ctx.case.patient.pregnant == true { return "pregnancy" }
            if let age = ctx.ageYears, Double(age) < ctx.thresholds[.tetracyclineMinAgeYears] { return "age \(age) years" }
            return nil
        }
    }
}
