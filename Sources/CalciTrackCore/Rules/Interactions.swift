/// Evaluates the interaction table (`InteractionRules`) over the active medications and, for
/// rules about antibiotics, the proposed empiric agents too (case-format.md: "a rule that
/// depends on an antibiotic fires for an active one and also for any drug in empiricOptions").
public enum Interactions {
    /// A drug the rules look at: an active medication (with its record) or a proposed empiric option.
    /// Rules refer to candidates by index, so matching copies no records and builds no text.
    /// Only plain values besides the shared drug entry, so that reading one copies no strings.
    struct Candidate: Sendable {
        let drug: Drug
        let route: Route?
        /// A proposed empiric option rather than an active medication.
        let proposed: Bool
        // The medication record's fields that its label shows (nil for a proposed option).
        let doseMg: Double?
        let frequency: Frequency?
        let start: LocalDate?

        /// An active medication.
        init(drug: Drug, doseMg: Double?, frequency: Frequency?, route: Route?, start: LocalDate?) {
            self.drug = drug; self.route = route; proposed = false
            self.doseMg = doseMg; self.frequency = frequency; self.start = start
        }

        /// A proposed empiric option.
        init(proposed drug: Drug, route: Route) {
            self.drug = drug; self.route = route; proposed = true
            doseMg = nil; frequency = nil; start = nil
        }

        var label: String {
            guard !proposed else { return "\(drug.name) (proposed empiric option)" }
            var text = drug.name
            if let dose = doseMg { text += " \(fmt(dose)) mg" }
            if let f = frequency { text += " \(f.rawValue)" }
            if let r = route { text += " \(r.rawValue)" }
            if let s = start { text += " since \(s)" }
            return text
        }
    }

    public static func evaluate(_ ctx: CaseContext, infection: InfectionTriage) -> [Alert] {
        var candidates: [Candidate] = []
        let options = infection.empiricOptions
        candidates.reserveCapacity(ctx.active.count + options.count)
        // By index, so that no medication record or option is copied.
        let medications = ctx.case.medications
        for a in ctx.active {
            candidates.append(Candidate(drug: a.drug, doseMg: medications[a.index].doseMg, frequency: medications[a.index].frequency,
                                        route: medications[a.index].route, start: medications[a.index].start))
        }
        for i in options.indices {
            // Skip only an exact duplicate (same drug and route): an active record of the drug by
            // another route (or none) must not hide the proposed one from route-specific rules (DDI-09).
            let route = options[i].agent.route
            guard let drug = options[i].agent.catalogDrug,
                !candidates.contains(where: { $0.drug === drug && $0.route == route }) else { continue }
            candidates.append(Candidate(proposed: drug, route: route))
        }
        let table = Table(candidates: candidates)
        var alerts: [Alert] = []
        alerts.reserveCapacity(4)
        let rules = InteractionRules.all
        for r in rules.indices {
            // Most rules are about a class no candidate has: dismissed before the rule is even read.
            let required = requiredClasses[r]
            guard required == 0 || table.classes & required != 0 else { continue }
            let rule = rules[r]
            guard let hit = table.match(rule.trigger, activeOnly: false, ctx, infection) else { continue }
            var drugs: [String] = []
            for i in hit.drugs where !drugs.contains(candidates[i].drug.name) { drugs.append(candidates[i].drug.name) }
            // "proposed": the rule would stay silent if only the active medications counted. A hit
            // made of active medications only is found again among them, so only a hit citing a
            // proposed option needs the second look.
            let proposed = hit.drugs.contains { candidates[$0].proposed } && table.match(rule.trigger, activeOnly: true, ctx, infection) == nil
            alerts.append(Alert(id: rule.id, level: rule.level, message: rule.message, action: rule.action, drugs: drugs,
                                proposed: proposed, basis: .interaction(hit, candidates: candidates), sources: rule.sources, tag: rule.tag))
        }
        return alerts
    }

    /// For each rule of `InteractionRules.all`, the classes of which a candidate must have one for
    /// the rule to fire (its first selector's class, for `anyOf` any branch's); 0 where a rule
    /// also names drugs and cannot be dismissed by class.
    static let requiredClasses: [UInt32] = InteractionRules.all.map { required($0.trigger) }

    static func required(_ trigger: Trigger) -> UInt32 {
        func classBits(_ s: DrugSelector) -> UInt32 { s.names.isEmpty ? s.drugClass?.bit ?? 0 : 0 }
        switch trigger {
        case .both(let a, _), .drugWith(let a, _), .activeLongerThan(let a, _), .active(let a): return classBits(a)
        case .anyOf(let triggers):
            let bits = triggers.map(required)
            return bits.contains(0) ? 0 : bits.reduce(0, |)
        }
    }

    /// Which candidates a trigger matched (indices into the candidate list) and why; the basis text
    /// is written only when read.
    struct Hit: Sendable {
        enum Reason: Sendable {
            /// One drug of the first side with every other drug of the second side.
            case pair
            /// The matched drugs with a patient condition.
            case condition(Condition)
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
            case .condition(let why): return labels.joined(separator: ", ") + " with " + why.text
            case .longerThan(let days, let limit):
                return zip(labels, days).map { "\($0): \($1) days (> \(limit))" }.joined(separator: ", ")
            case .active: return labels.joined(separator: ", ") + " active"
            }
        }
    }

    /// The candidates of one assessment, with the union of their classes: a rule about a class
    /// nobody has is dismissed without looking at the candidates one by one. Matching builds no
    /// list until a rule fires.
    struct Table {
        let candidates: [Candidate]
        let classes: UInt32

        init(candidates: [Candidate]) {
            self.candidates = candidates
            classes = candidates.reduce(0) { $0 | $1.drug.classMask }
        }

        /// False when no candidate can match: the selector is about a class nobody has.
        func possible(_ selector: DrugSelector) -> Bool {
            guard let drugClass = selector.drugClass, selector.names.isEmpty else { return true }
            return classes & drugClass.bit != 0
        }

        /// Whether the selector matches candidate `i` (active ones only, if asked).
        func selects(_ selector: DrugSelector, _ i: Int, activeOnly: Bool) -> Bool {
            !(activeOnly && candidates[i].proposed) && selector.matches(candidates[i].drug, route: candidates[i].route)
        }

        /// Indices of the candidates the selector matches.
        func select(_ selector: DrugSelector, activeOnly: Bool) -> [Int] {
            guard possible(selector) else { return [] }
            return candidates.indices.filter { selects(selector, $0, activeOnly: activeOnly) }
        }

        func any(_ selector: DrugSelector, activeOnly: Bool) -> Bool {
            possible(selector) && candidates.indices.contains { selects(selector, $0, activeOnly: activeOnly) }
        }

        func match(_ trigger: Trigger, activeOnly: Bool, _ ctx: CaseContext, _ infection: InfectionTriage) -> Hit? {
            switch trigger {
            case .both(let a, let b):
                guard possible(a), possible(b) else { return nil }
                // Two proposed options are alternatives, never given together: at least one side must be active.
                func together(_ l: Int, _ r: Int) -> Bool {
                    candidates[l].drug !== candidates[r].drug && !(candidates[l].proposed && candidates[r].proposed)
                        && selects(b, r, activeOnly: activeOnly)
                }
                guard let first = candidates.indices.first(where: { l in
                    selects(a, l, activeOnly: activeOnly) && candidates.indices.contains { together(l, $0) }
                }) else { return nil }
                return Hit(drugs: [first] + candidates.indices.filter { together(first, $0) }, reason: .pair)
            case .drugWith(let selector, let condition):
                guard any(selector, activeOnly: activeOnly), let reason = holding(condition, ctx: ctx, infection: infection) else { return nil }
                return Hit(drugs: select(selector, activeOnly: activeOnly), reason: .condition(reason))
            case .activeLongerThan(let selector, let threshold):
                guard any(selector, activeOnly: activeOnly) else { return nil }
                let limit = Int(ctx.thresholds[threshold])
                var long: [Int] = [], days: [Int] = []
                for i in select(selector, activeOnly: activeOnly) {
                    guard let start = candidates[i].start, start.days(until: ctx.asOf) > limit else { continue }
                    long.append(i)
                    days.append(start.days(until: ctx.asOf))
                }
                guard !long.isEmpty else { return nil }
                return Hit(drugs: long, reason: .longerThan(days: days, limit: limit))
            case .active(let selector):
                guard any(selector, activeOnly: true) else { return nil }
                return Hit(drugs: select(selector, activeOnly: true), reason: .active)
            case .anyOf(let triggers):
                for t in triggers { if let hit = match(t, activeOnly: activeOnly, ctx, infection) { return hit } }
                return nil
            }
        }
    }

    /// Why a patient condition holds, as values; `text` writes the reason.
    enum Condition: Sendable {
        case renal(RenalStatus, creatinineProxy: Bool)
        case seriousInfection(InfectionSeverity, reasons: Deferred<[String]>)
        case fixed(String)
        case age(Int)

        var text: String {
            switch self {
            case .renal(let renal, let proxy): proxy ? renal.basis + " (eGFR as proxy for creatinine clearance)" : renal.basis
            case .seriousInfection(let severity, let reasons): "\(severity.rawValue) infection (\(reasons.value.joined(separator: ", ")))"
            case .fixed(let text): text
            case .age(let age): "age \(age) years"
            }
        }
    }

    /// The condition's reason text when it holds; nil when it does not or cannot be known.
    static func holds(_ condition: PatientCondition, ctx: CaseContext, infection: InfectionTriage) -> String? {
        holding(condition, ctx: ctx, infection: infection)?.text
    }

    /// The condition's reason when it holds; nil when it does not or cannot be known.
    static func holding(_ condition: PatientCondition, ctx: CaseContext, infection: InfectionTriage) -> Condition? {
        switch condition {
        case .renalFailure:
            let renal = ctx.renalStatus(egfrBelow: .calciphylaxisEGFR)
            return renal.value == true ? .renal(renal, creatinineProxy: false) : nil
        case .severeRenalImpairment:
            let renal = ctx.renalStatus(egfrBelow: .severeRenalEGFR)
            return renal.value == true ? .renal(renal, creatinineProxy: true) : nil
        case .renalInsufficiency:
            let renal = ctx.renalStatus(egfrBelow: .renalInsufficiencyEGFR)
            return renal.value == true ? .renal(renal, creatinineProxy: false) : nil
        case .seriousInfection:
            guard infection.severity == .moderate || infection.severity == .severe else { return nil }
            return .seriousInfection(infection.severity, reasons: infection.severityReasonList)
        case .plannedSurgery:
            return ctx.case.workup.plannedSurgery == true ? .fixed("planned surgery (workup.plannedSurgery)") : nil
        case .childOrPregnancy:
            if ctx.case.patient.pregnant == true { return .fixed("pregnancy") }
            if let age = ctx.ageYears, Double(age) < ctx.thresholds[.tetracyclineMinAgeYears] { return .age(age) }
            return nil
        }
    }
}
