/// Evaluates the interaction table (`InteractionRules`) over the active medications and, for
/// rules about antibiotics, the proposed empiric agents too (case-format.md: "a rule that
/// depends on an antibiotic fires for an active one and also for any drug in empiricOptions").
public enum Interactions {
    /// A drug the rules look at: an active medication (with its record) or a proposed empiric option.
    /// Rules refer to candidates by index, so matching copies no records and builds no text.
    struct Candidate: Sendable {
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
        let table = Table(candidates: candidates, ctx: ctx, infection: infection)
        var alerts: [Alert] = []
        for rule in InteractionRules.all {
            guard let hit = table.match(rule.trigger, activeOnly: false) else { continue }
            var drugs: [String] = []
            for i in hit.drugs where !drugs.contains(candidates[i].drug.name) { drugs.append(candidates[i].drug.name) }
            // "proposed": the rule would stay silent if only the active medications counted. A hit
            // made of active medications only is found again among them, so only a hit citing a
            // proposed option needs the second look.
            let proposed = hit.drugs.contains { candidates[$0].proposed } && table.match(rule.trigger, activeOnly: true) == nil
            alerts.append(Alert(id: rule.id, level: rule.level, message: rule.message, action: rule.action, drugs: drugs,
                                proposed: proposed, basis: .interaction(hit, candidates: candidates), sources: rule.sources, tag: rule.tag))
        }
        return alerts
    }

    /// Which candidates a trigger matched (indices into the candidate list) and why; the basis text
    /// is written only for rules that fire.
    struct Hit: Sendable {
        enum Reason: Sendable {
            /// One drug of the first side with every other drug of the second side.
            case pair
            /// The matched drugs with a patient condition, as its reason text.
            case condition(String)
            /// The matched drugs' days on treatment, over the limit.
            case longerThan(days: [Int], limit: Int)
            case active
        }
        var drugs: [Int]
        var reason: Reason

        func basis(_ candidates: [Candidate]) -> String {
            let labels = drugs.map { candidates[$0].label }
            switch reason {
            case .pair: return "\(labels[0]) with " + labels.dropFirst().joined(separator: ", ")
            case .condition(let why): return labels.joined(separator: ", ") + " with " + why
            case .longerThan(let days, let limit):
                return zip(labels, days).map { "\($0): \($1) days (> \(limit))" }.joined(separator: ", ")
            case .active: return labels.joined(separator: ", ") + " active"
            }
        }
    }

    /// The candidates of one assessment, with the union of their classes: a rule about a class
    /// nobody has is dismissed without looking at the candidates one by one.
    struct Table {
        let candidates: [Candidate]
        let ctx: CaseContext
        let infection: InfectionTriage
        let classes: UInt32

        init(candidates: [Candidate], ctx: CaseContext, infection: InfectionTriage) {
            self.candidates = candidates; self.ctx = ctx; self.infection = infection
            classes = candidates.reduce(0) { $0 | $1.drug.classMask }
        }

        /// Indices of the candidates the selector matches (active ones only, if asked).
        func select(_ selector: DrugSelector, activeOnly: Bool) -> [Int] {
            if let drugClass = selector.drugClass, selector.names.isEmpty, classes & drugClass.bit == 0 { return [] }
            return candidates.indices.filter { i in
                !(activeOnly && candidates[i].proposed) && selector.matches(candidates[i].drug, route: candidates[i].route)
            }
        }

        func match(_ trigger: Trigger, activeOnly: Bool) -> Hit? {
            switch trigger {
            case .both(let a, let b):
                let left = select(a, activeOnly: activeOnly)
                guard !left.isEmpty else { return nil }
                let right = select(b, activeOnly: activeOnly)
                // Two proposed options are alternatives, never given together: at least one side must be active.
                func together(_ l: Int, _ r: Int) -> Bool {
                    candidates[l].drug.name != candidates[r].drug.name && !(candidates[l].proposed && candidates[r].proposed)
                }
                guard let first = left.first(where: { l in right.contains { together(l, $0) } }) else { return nil }
                return Hit(drugs: [first] + right.filter { together(first, $0) }, reason: .pair)
            case .drugWith(let selector, let condition):
                let matched = select(selector, activeOnly: activeOnly)
                guard !matched.isEmpty, let reason = holds(condition, ctx: ctx, infection: infection) else { return nil }
                return Hit(drugs: matched, reason: .condition(reason))
            case .activeLongerThan(let selector, let threshold):
                let limit = Int(ctx.thresholds[threshold])
                var long: [Int] = [], days: [Int] = []
                for i in select(selector, activeOnly: activeOnly) {
                    guard let start = candidates[i].medication?.start, start.days(until: ctx.asOf) > limit else { continue }
                    long.append(i)
                    days.append(start.days(until: ctx.asOf))
                }
                guard !long.isEmpty else { return nil }
                return Hit(drugs: long, reason: .longerThan(days: days, limit: limit))
            case .active(let selector):
                let matched = select(selector, activeOnly: true)
                guard !matched.isEmpty else { return nil }
                return Hit(drugs: matched, reason: .active)
            case .anyOf(let triggers):
                for t in triggers { if let hit = match(t, activeOnly: activeOnly) { return hit } }
                return nil
            }
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
