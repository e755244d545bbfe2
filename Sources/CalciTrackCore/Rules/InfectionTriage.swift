/// Skin and soft-tissue infection triage over calcinosis lesions: presence, purulence, IDSA 2014
/// severity with the moderate/severe overlap resolved as case-format.md decides, route, MRSA
/// coverage (IDSA 2014 cellulitis section), management, empiric agents with doses, duration.
public struct EmpiricOption: Sendable, Equatable {
    public var agent: EmpiricAgent
    public var rxnorm: String?
    /// e.g. "870 mg every 12 h (30 mg/kg/day for 58 kg)"; nil without weight or for fixed doses.
    /// Written when read (see `Deferred`).
    public var weightBasedDose: String? {
        get { weightBasedDoseText.value }
        set { weightBasedDoseText = Deferred(newValue) }
    }
    var weightBasedDoseText: Deferred<String?>
}

public struct InfectionTriage: Sendable, Equatable {
    public var present: Bool
    public var purulent: Bool
    /// The reason lists are written when read, from the findings (see `Deferred`).
    public var presentReasons: [String] {
        get { presentReasonList.value }
        set { presentReasonList = Deferred(newValue) }
    }
    public var systemicSigns: IDSASystemicSigns
    public var sirs: SIRS
    public var qsofa: QSOFA?
    public var immunosuppression: Immunosuppression
    public var severity: InfectionSeverity
    public var severityReasons: [String] {
        get { severityReasonList.value }
        set { severityReasonList = Deferred(newValue) }
    }
    /// "none", "oral" or "intravenous".
    public var route: String
    public var mrsaCoverage: Bool
    public var mrsaReasons: [String] {
        get { mrsaReasonList.value }
        set { mrsaReasonList = Deferred(newValue) }
    }
    public var management: [String]
    public var empiricOptions: [EmpiricOption]
    public var durationDays: Int?
    /// Written from the fields above when read (JSON, text report): see `derivedBasis`.
    public var basis: String {
        get { basisOverride ?? derivedBasis }
        set { basisOverride = newValue }
    }
    public var sources: [String]
    var presentReasonList: Deferred<[String]>
    var severityReasonList: Deferred<[String]>
    var mrsaReasonList: Deferred<[String]>
    var basisOverride: String?

    static let sources = [Sources.idsa2014, Sources.idsaMrsa2011, Sources.bone1992, Sources.seymour2016, Sources.seed1]
    static let noReasons = Deferred<[String]>([])

    public var hasSystemicSigns: Bool { !systemicSigns.present.isEmpty }

    public static func evaluate(_ ctx: CaseContext) -> InfectionTriage {
        let c = ctx.case
        let signs = IDSASystemicSigns.evaluate(ctx)
        let sirs = SIRS.evaluate(ctx)
        let qsofa = QSOFA.evaluate(ctx)
        let immuno = Immunosuppression.evaluate(ctx)

        // Presence (case-format.md): purulence, abscess, erythema with warmth or oedema, bullae or
        // skin sloughing at any lesion, or clinician inputs that only an infection explains.
        func signsOfInfection(_ f: LesionFindings) -> Bool {
            f.purulent || f.abscess || (f.erythema && (f.warmth || f.edema)) || f.bullae || f.skinSloughing
        }
        let failedPrior = c.infection.failedPriorTherapy == true, deepSigns = c.infection.deepInfectionSigns == true
        let present = failedPrior || deepSigns || ctx.lesions.contains { signsOfInfection($0.findings) }
        let purulent = ctx.lesions.contains { $0.findings.purulent || $0.findings.abscess }
        let purulence: Purulence = purulent ? .purulent : .nonPurulent

        guard present else {
            return InfectionTriage(present: false, purulent: purulent, systemicSigns: signs, sirs: sirs, qsofa: qsofa,
                                   immunosuppression: immuno, severity: .none, route: "none", mrsaCoverage: false,
                                   management: [], empiricOptions: [], durationDays: nil, sources: sources,
                                   presentReasonList: noReasons, severityReasonList: noReasons, mrsaReasonList: noReasons)
        }
        let lesions = ctx.lesions
        let presentReasons = Deferred<[String]> {
            var reasons: [String] = []
            for lesion in lesions {
                let f = lesion.findings
                var found: [String] = []
                if f.purulent { found.append("purulent") }
                if f.abscess { found.append("abscess") }
                if f.erythema && (f.warmth || f.edema) { found.append("erythema with \(f.warmth ? "warmth" : "oedema")") }
                if f.bullae { found.append("bullae") }
                if f.skinSloughing { found.append("skin sloughing") }
                if !found.isEmpty { reasons.append("lesion \(lesion.id): " + found.joined(separator: ", ")) }
            }
            if failedPrior { reasons.append("failed prior antibiotic therapy (clinician input)") }
            if deepSigns { reasons.append("signs of deeper infection (clinician input)") }
            return reasons
        }

        // Severity (IDSA 2014 Figure 1; overlap resolved per case-format.md).
        let hypotension = c.infection.hypotension == true, organDysfunction = c.infection.organDysfunction == true
        let bullae = ctx.lesions.contains { $0.findings.bullae }, slough = ctx.lesions.contains { $0.findings.skinSloughing }
        let signCount = signs.present.count
        let severe = failedPrior || immuno.immunocompromised || signCount >= 2
            || (!purulent && (hypotension || organDysfunction || bullae || slough || deepSigns))
        let severity: InfectionSeverity = severe ? .severe : signCount == 1 ? .moderate : .mild
        let severityReasons = Deferred<[String]> {
            switch severity {
            case .severe:
                var severe: [String] = []
                if failedPrior { severe.append("failed prior therapy") }
                if immuno.immunocompromised { severe.append("immunocompromised (\(immuno.clinicianSet ? "clinician" : immuno.drugs.joined(separator: ", ")))") }
                if signCount >= 2 { severe.append("\(signCount) systemic signs (\(signs.present.joined(separator: ", ")))") }
                if !purulent {
                    if hypotension { severe.append("hypotension") }
                    if organDysfunction { severe.append("organ dysfunction") }
                    if bullae { severe.append("bullae") }
                    if slough { severe.append("skin sloughing") }
                    if deepSigns { severe.append("signs of deeper infection") }
                }
                return severe
            case .moderate: return ["one systemic sign (\(signs.present[0]))"]
            default: return ["no systemic sign and no severe criterion"]
            }
        }

        let route: String
        switch (severity, purulence) {
        case (.mild, .purulent): route = "none"
        case (.mild, .nonPurulent), (.moderate, .purulent): route = "oral"
        default: route = "intravenous"
        }

        // MRSA coverage (IDSA 2014 6.6).
        let h = c.history
        let mrsaCoverage = (purulent && severity != .mild) || h.penetratingTrauma == true || h.mrsaInfectionElsewhere == true
            || h.mrsaNasalColonization == true || h.injectionDrugUse == true || sirs.positive || failedPrior
        let mrsa = Deferred<[String]> {
            var mrsa: [String] = []
            if purulent && severity == .moderate { mrsa.append("purulent-moderate") }
            if purulent && severity == .severe { mrsa.append("purulent-severe") }
            if h.penetratingTrauma == true { mrsa.append("penetrating-trauma") }
            if h.mrsaInfectionElsewhere == true { mrsa.append("mrsa-infection-elsewhere") }
            if h.mrsaNasalColonization == true { mrsa.append("mrsa-nasal-colonization") }
            if h.injectionDrugUse == true { mrsa.append("injection-drug-use") }
            if sirs.positive { mrsa.append("sirs") }
            if failedPrior { mrsa.append("failed-prior-therapy") }
            return mrsa
        }

        var management: [String] = []
        if purulent { management.append("incision-and-drainage") }
        if (purulent && severity != .mild) || (!purulent && severity == .severe) || immuno.immunocompromised { management.append("culture") }
        if !purulent && severity == .severe { management.append("surgical-inspection") }

        var agents = AntibioticRegimens.cell(purulence, severity)
        if mrsaCoverage && !purulent && severity != .severe {
            let routeKind: Route = route == "oral" ? .oral : .intravenous
            let active = agents.filter(\.activeAgainstMRSA)
            agents = AntibioticRegimens.mrsaAndStreptococcal(routeKind).filter { a in !active.contains(where: { $0.drug == a.drug }) } + active
        }
        let weightKg = c.patient.weightKg
        let options = agents.map { agent in
            EmpiricOption(agent: agent, rxnorm: agent.catalogDrug?.rxnorm,
                          weightBasedDoseText: agent.mgPerKgPerDose == nil || weightKg == nil
                            ? Deferred(nil) : Deferred { weightBasedDose(agent, weightKg: weightKg) })
        }

        return InfectionTriage(present: true, purulent: purulent, systemicSigns: signs, sirs: sirs, qsofa: qsofa,
                               immunosuppression: immuno, severity: severity, route: route,
                               mrsaCoverage: mrsaCoverage, management: management, empiricOptions: options,
                               durationDays: Int(ctx.thresholds[.infectionDurationDays]), sources: sources,
                               presentReasonList: presentReasons, severityReasonList: severityReasons, mrsaReasonList: mrsa)
    }

    /// The basis text, from the triage's own fields and those of the scores it used.
    var derivedBasis: String {
        guard present else {
            return "no sign of lesion infection (purulence, abscess, erythema with warmth or oedema, bullae, skin sloughing)"
        }
        let purulence: Purulence = purulent ? .purulent : .nonPurulent
        var basis: [String] = ["present: " + presentReasons.joined(separator: "; "),
                               "\(purulence.rawValue) (\(purulent ? "purulent drainage or abscess" : "no purulence"))",
                               "severity \(severity.rawValue): " + severityReasons.joined(separator: ", "),
                               systemicSigns.basis, sirs.basis]
        if let qsofa { basis.append(qsofa.basis) } else { basis.append("qSOFA not assessable: respiratory rate, systolic BP and mentation not recorded") }
        basis.append("immunocompromised: " + immunosuppression.basis)
        if severity == .mild && purulent { basis.append("purulent mild: incision and drainage alone, no antibiotic") }
        if mrsaCoverage { basis.append("MRSA coverage: " + mrsaReasons.joined(separator: ", ")) }
        if mrsaCoverage && !purulent && severity != .severe {
            basis.append("MRSA coverage indicated: agents limited to those active against both MRSA and streptococci")
        }
        if let defined = AntibioticRegimens.definedTherapy(purulence, severity) { basis.append(defined) }
        if immunosuppression.immunocompromised { basis.append("blood and wound cultures are recommended in severe cell-mediated immunodeficiency (IDSA 2014)") }
        basis.append("duration \(durationDays ?? 0) days; extend if the infection has not improved within this period (IDSA 2014, strong, high-quality evidence)")
        basis.append("doses are usual adult doses for normal renal function; renal adjustment is not covered")
        return basis.joined(separator: ". ")
    }

    static func weightBasedDose(_ agent: EmpiricAgent, weightKg: Double?) -> String? {
        guard let perKg = agent.mgPerKgPerDose, let perDay = agent.dosesPerDay, let weightKg else { return nil }
        let dose = (perKg * weightKg).rounded()
        let interval = perDay == 2 ? "every 12 h" : perDay == 1 ? "every 24 h" : "\(fmt(perDay)) times daily"
        return "\(fmt(dose)) mg \(interval) (\(fmt(perKg * perDay)) mg/kg/day for \(fmt(weightKg)) kg; no cap in the sources)"
    }

    /// Antibiotics that matter to interaction rules: active systemic ones and the empiric options.
    public func empiricDrugNames() -> [String] { empiricOptions.map(\.agent.drug) }
}
