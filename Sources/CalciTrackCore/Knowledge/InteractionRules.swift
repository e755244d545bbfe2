/// Drug-interaction and safety rules DDI-01 … DDI-19 of clinical-spec 8, as data: adding an
/// interaction is adding a row. `Interactions` evaluates the triggers.
public struct InteractionRule: Sendable {
    public let id: String
    public let level: Alert.Level
    public let message: String
    public let action: String
    public let trigger: Trigger
    public let sources: [String]
    public let tag: Verification
}

/// Which drugs a rule is about: by class, optionally only by a route.
public struct DrugSelector: Sendable {
    public let drugClass: DrugClass?
    public let names: [String]
    public let routes: [Route]?
    /// A selector with `systemicOnly` ignores topical (and intralesional) use.
    public let systemicOnly: Bool

    public static func any(_ c: DrugClass) -> DrugSelector { DrugSelector(drugClass: c, names: [], routes: nil, systemicOnly: false) }
    public static func systemic(_ c: DrugClass) -> DrugSelector { DrugSelector(drugClass: c, names: [], routes: nil, systemicOnly: true) }
    public static func named(_ names: String...) -> DrugSelector { DrugSelector(drugClass: nil, names: names, routes: nil, systemicOnly: false) }
    public static func intravenous(_ c: DrugClass) -> DrugSelector { DrugSelector(drugClass: c, names: [], routes: [.intravenous], systemicOnly: false) }

    public func matches(_ drug: Drug, route: Route?) -> Bool {
        guard (drugClass.map { drug.is($0) } ?? false) || names.contains(drug.name) else { return false }
        if let routes { return route.map { routes.contains($0) } ?? false }
        if systemicOnly, let route, route == .topical || route == .intralesional { return false }
        return true
    }
}

public enum PatientCondition: String, Sendable {
    /// dialysis or eGFR < calciphylaxis.egfr (15)
    case renalFailure
    /// dialysis or eGFR < renal.severe.egfr (30), standing for CrCl < 30
    case severeRenalImpairment
    /// dialysis or eGFR < renal.insufficiency.egfr (60)
    case renalInsufficiency
    /// infection of moderate or severe IDSA severity (systemic signs)
    case seriousInfection
    case plannedSurgery
    /// age < 8 years or pregnancy
    case childOrPregnancy
}

public indirect enum Trigger: Sendable {
    case both(DrugSelector, DrugSelector)
    case drugWith(DrugSelector, PatientCondition)
    case activeLongerThan(DrugSelector, ThresholdID)
    case active(DrugSelector)
    case anyOf([Trigger])
}

public enum InteractionRules {
    public static let all: [InteractionRule] = [
        .init(id: "DDI-01", level: .high,
              message: "Warfarin with sulfamethoxazole-trimethoprim: sulfamethoxazole inhibits CYP2C9, raising S-warfarin and the INR (can rise within ~3 days).",
              action: "Prefer an alternative antibiotic, or consider a pre-emptive warfarin dose reduction of 10-20 %; check the INR within 3-5 days.",
              trigger: .both(.any(.vitaminKAntagonist), .any(.sulfamethoxazoleTrimethoprim)), sources: [Sources.ebmConsultWarfarinSmx], tag: .secondary),
        .init(id: "DDI-02", level: .high,
              message: "Warfarin with a tetracycline: tetracyclines have been shown to depress plasma prothrombin activity; patients on anticoagulants may need a lower anticoagulant dose.",
              action: "Monitor the INR and adjust warfarin.",
              trigger: .both(.any(.vitaminKAntagonist), .any(.tetracycline)), sources: [Sources.tetracyclineLabel, Sources.seed1], tag: .secondary),
        .init(id: "DDI-03", level: .moderate,
              message: "Warfarin with a systemic antibiotic: epidemiological data suggest a higher GI bleeding risk with any antibiotic in warfarin users.",
              action: "Schedule an INR check.",
              trigger: .both(.any(.vitaminKAntagonist), .systemic(.antibiotic)), sources: [Sources.warfarinAntibioticGiBleed], tag: .secondary),
        .init(id: "DDI-04", level: .high,
              message: "Warfarin with dialysis or eGFR < 15: long-term warfarin is a major calciphylaxis risk factor in dialysis patients (calciphylaxis risk factor present).",
              action: "Review the indication for warfarin; look for retiform purpura, livedo or necrosis.",
              trigger: .drugWith(.any(.vitaminKAntagonist), .renalFailure), sources: [Sources.pmc10557543], tag: .secondary),
        .init(id: "DDI-05", level: .high,
              message: "Colchicine with a strong CYP3A4 or P-gp inhibitor: colchicine toxicity. Contraindicated if renal or hepatic impairment.",
              action: "Avoid the combination; if unavoidable, use the label's reduced colchicine dose (e.g. gout prophylaxis 0.3 mg every other day, up to 0.3 mg daily) with monitoring.",
              trigger: .both(.any(.colchicine), .any(.strongCYP3A4OrPgpInhibitor)), sources: [Sources.fdaColchicine], tag: .secondary),
        .init(id: "DDI-06", level: .moderate,
              message: "Colchicine with a moderate CYP3A4 inhibitor (diltiazem, verapamil, erythromycin). Sources disagree: the FDA label reduces the dose (gout prophylaxis 0.3 mg daily, up to 0.6 mg daily); Eur Heart J 2021 classes diltiazem as mild and allows up to 1.0 mg/day unadjusted with normal renal and liver function.",
              action: "Follow the more conservative label dose reduction unless a specialist decides otherwise; check renal and liver function.",
              trigger: .both(.any(.colchicine), .any(.moderateCYP3A4Inhibitor)), sources: [Sources.fdaColchicine, Sources.eurHeartJ2021], tag: .secondary),
        .init(id: "DDI-07", level: .high,
              message: "Colchicine with CrCl < 30 mL/min or dialysis (eGFR used as a proxy for creatinine clearance).",
              action: "Apply the label's renal dose limits (e.g. prophylaxis 0.3 mg/day; dialysis 0.3 mg twice weekly).",
              trigger: .drugWith(.any(.colchicine), .severeRenalImpairment), sources: [Sources.fdaColchicine], tag: .secondary),
        .init(id: "DDI-08", level: .moderate,
              message: "Tetracycline with aluminium, calcium, magnesium or iron: chelation reduces tetracycline absorption (aluminium hydroxide is itself a calcinosis therapy).",
              action: "Separate the doses: give the tetracycline at least 1-3 h before the antacid or mineral.",
              trigger: .both(.any(.tetracycline), .any(.polyvalentCation)), sources: [Sources.tetracyclineChelation], tag: .secondary),
        .init(id: "DDI-09", level: .high,
              message: "Ceftriaxone IV with a calcium-containing IV solution: do not mix or co-administer via a Y-site. Contraindicated in neonates (≤ 28 days) needing IV calcium.",
              action: "Give sequentially with the line flushed between infusions (patients > 28 days).",
              trigger: .both(.intravenous(.ceftriaxone), .intravenous(.calciumSalt)), sources: [Sources.medsafeCeftriaxone], tag: .verified),
        .init(id: "DDI-10", level: .info,
              message: "Minocycline for more than 6 months: drug-induced lupus, autoimmune hepatitis and blue-black hyperpigmentation are reported.",
              action: "Monitor every 3 months for hepatotoxicity, pigmentation and an SLE-like syndrome; stop if they develop.",
              trigger: .activeLongerThan(.named("minocycline"), .minocyclineLongTermDays), sources: [Sources.livertoxMinocycline], tag: .verified),
        .init(id: "DDI-11", level: .high,
              message: "Mycophenolate with a new serious infection: the label advises considering dose reduction or discontinuation in patients who develop new infections.",
              action: "Review mycophenolate with the prescriber (Seed-1 suspended rheumatological therapy during the acute infection and restarted it after resolution).",
              trigger: .drugWith(.any(.mycophenolate), .seriousInfection), sources: [Sources.mycophenolateLabel, Sources.seed1], tag: .secondary),
        .init(id: "DDI-12", level: .moderate,
              message: "Mycophenolate with planned elective surgery: ACR/AAHKS 2022 (arthroplasty, non-severe SLE) withholds it 1 week before surgery and restarts when the wound heals (~14 days) without infection. Extrapolation to calcinosis surgery is not guideline-based.",
              action: "Discuss perioperative mycophenolate with the rheumatologist; continue in severe organ-threatening disease.",
              trigger: .drugWith(.any(.mycophenolate), .plannedSurgery), sources: [Sources.acrAahks2022], tag: .secondary),
        .init(id: "DDI-13", level: .info,
              message: "Intravenous sodium thiosulfate: thiosulfate can bind calcium salts; with chronic use monitor bone mineral density.",
              action: "Plan bone mineral density monitoring for chronic use.",
              trigger: .active(.intravenous(.sodiumThiosulfate)), sources: [Sources.medscape], tag: .secondary),
        .init(id: "DDI-14", level: .info,
              message: "Etidronate: paradoxical hyperphosphataemia is possible; prolonged treatment is needed.",
              action: "Monitor serum phosphate.",
              trigger: .active(.any(.etidronate)), sources: [Sources.medscape], tag: .verified),
        .init(id: "DDI-15", level: .moderate,
              message: "Aluminium or magnesium antacid with renal insufficiency: aluminium or magnesium toxicity risk.",
              action: "Avoid or monitor aluminium and magnesium levels.",
              trigger: .drugWith(.any(.aluminiumOrMagnesiumAntacid), .renalInsufficiency), sources: [Sources.medscape], tag: .verified),
        .init(id: "DDI-16", level: .moderate,
              message: "Linezolid for more than 2 weeks: myelosuppression risk; many interactions, including serotonergic drugs.",
              action: "Check a full blood count weekly and review serotonergic co-medication.",
              trigger: .activeLongerThan(.any(.linezolid), .linezolidLongDays), sources: [Sources.cfpTable3], tag: .secondary),
        .init(id: "DDI-17", level: .moderate,
              message: "Sulfamethoxazole-trimethoprim with an ACE inhibitor or ARB (hyperkalaemia), or with severe renal dysfunction (contraindicated).",
              action: "Check potassium and renal function, or choose another agent.",
              trigger: .anyOf([.both(.any(.sulfamethoxazoleTrimethoprim), .any(.aceInhibitorOrARB)),
                               .drugWith(.any(.sulfamethoxazoleTrimethoprim), .severeRenalImpairment)]),
              sources: [Sources.cfpTable3], tag: .secondary),
        .init(id: "DDI-18", level: .moderate,
              message: "Diltiazem (CYP3A4 inhibitor) with a narrow-index CYP3A4 substrate (colchicine, cyclosporine, tacrolimus): higher substrate levels. Other diltiazem interactions were not found in the sources.",
              action: "Monitor levels or toxicity of the substrate; see DDI-05/06 for colchicine.",
              trigger: .both(.named("diltiazem"), .any(.narrowCYP3A4Substrate)), sources: [Sources.fdaColchicine], tag: .secondary),
        .init(id: "DDI-19", level: .moderate,
              message: "Tetracycline in a child under 8 years or in pregnancy: not recommended.",
              action: "Choose another agent.",
              trigger: .drugWith(.any(.tetracycline), .childOrPregnancy), sources: [Sources.idsaMrsa2011], tag: .verified),
    ]
}
