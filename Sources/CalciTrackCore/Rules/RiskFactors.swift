/// Risk factors and associations of calcinosis in SSc present in this patient (clinical-spec 10).
/// Descriptive only: no validated calcinosis risk score exists (NF), so none is computed.
/// Conflicting evidence is shown, not resolved (anti-Scl-70, anti-RNA polymerase III).
public struct RiskFactor: Sendable, Equatable {
    public var id: String
    public var association: String
    public var conflicting: Bool
    /// Written when read where it names the patient's values (see `DeferredText`).
    public var basis: String {
        get { basisText.text }
        set { basisText = DeferredText(newValue) }
    }
    var basisText: DeferredText
    public var sources: [String]
    public var tag: Verification
    public var source: String { Sources.shortText(sources) }
}

public enum RiskFactors {
    public static let note = "descriptive associations from cohort studies; no validated calcinosis risk score exists, so none is computed"

    /// The SSc features that are associations, with their fixed texts written once.
    struct FeatureRow: Sendable {
        let feature: SScFeature
        let id: String
        let association: String
        let sources: [String]
        let basis: DeferredText
        init(_ feature: SScFeature, _ id: String, _ association: String, _ sources: [String]) {
            self.feature = feature; self.id = id; self.association = association; self.sources = sources
            basis = DeferredText("feature \(feature.rawValue) recorded")
        }
    }
    static let featureRows: [FeatureRow] = [
        FeatureRow(.digitalUlcers, "digital-ulcers", "OR 3.9 (2.7-5.5), multivariate", [Sources.valenzuela2016]),
        FeatureRow(.digitalIschemia, "digital-ischemia", "OR 2.37 (1.66-3.39) (Baron 2016); OR 1.8 (Valenzuela 2020)", [Sources.baron2016, Sources.valenzuela2020]),
        FeatureRow(.acroOsteolysis, "acro-osteolysis", "OR 2.97", [Sources.valenzuela2020]),
        FeatureRow(.osteoporosis, "osteoporosis", "OR 4.2 (2.3-7.9); lower T-scores", [Sources.valenzuela2016, Sources.valenzuela2020]),
        FeatureRow(.telangiectasia, "telangiectasia", "more frequent (univariate)", [Sources.valenzuela2016]),
        FeatureRow(.pulmonaryArterialHypertension, "pulmonary-arterial-hypertension", "more frequent (univariate); mousse-type calcinosis associated with PAH", [Sources.valenzuela2016, Sources.bartoli2016]),
    ]
    static let centromereSources = [Sources.valenzuela2016, Sources.baron2016]
    static let pmSclSources = [Sources.valenzuela2016]
    static let rnaPolSources = [Sources.baron2016, Sources.valenzuela2016]
    static let scl70Sources = [Sources.valenzuela2016, Sources.seed1, Sources.cruzDominguez2017]
    static let durationSources = [Sources.valenzuela2020, Sources.seed1]
    static let limitedSources = [Sources.paiHsu2018, Sources.seed2]

    public static func evaluate(_ ctx: CaseContext) -> [RiskFactor] {
        guard let ssc = ctx.case.ssc else { return [] }
        var factors: [RiskFactor] = []
        for row in featureRows where ssc.features.contains(row.feature) {
            factors.append(RiskFactor(id: row.id, association: row.association, conflicting: false, basisText: row.basis,
                                      sources: row.sources, tag: .verified))
        }

        let ab = ssc.antibodies
        if ab.centromere == .positive {
            factors.append(RiskFactor(id: "anti-centromere", association: "more frequent (SCTC univariate); OR 1.68 (1.17-2.43) (Baron 2016)", conflicting: false,
                                      basisText: DeferredText("anti-centromere positive"), sources: centromereSources, tag: .verified))
        }
        if ab.pmScl == .positive {
            factors.append(RiskFactor(id: "anti-pm-scl", association: "more frequent", conflicting: false,
                                      basisText: DeferredText("anti-PM/Scl positive"), sources: pmSclSources, tag: .verified))
        }
        if ab.rnaPolIII == .positive {
            factors.append(RiskFactor(id: "anti-rna-polymerase-iii", association: "conflicting: OR 1.77 (Baron 2016) but less common in SCTC univariate analysis (Valenzuela 2016)",
                                      conflicting: true, basisText: DeferredText("anti-RNA polymerase III positive"), sources: rnaPolSources, tag: .verified))
        }
        if ab.scl70 == .positive {
            factors.append(RiskFactor(id: "anti-scl70", association: "conflicting: less common in calcinosis patients (SCTC univariate, Valenzuela 2016) vs reported as a predictor (Seed-1 citing the Canadian SRG and Cruz-Domínguez 2017)",
                                      conflicting: true, basisText: DeferredText("anti-Scl-70 (topoisomerase I) positive"),
                                      sources: scl70Sources, tag: .verified))
        }

        // Disease duration > 10 years; a year-only diagnosis date counts when even its last day is,
        // and is shown as "possibly" when only its first day is.
        if let diagnosis = ssc.diagnosisDate {
            let years = Int(ctx.thresholds[.diseaseDurationYears])
            let certain = longerThan(years: years, from: diagnosis.latest, to: ctx.asOf)
            if certain || longerThan(years: years, from: diagnosis.earliest, to: ctx.asOf) {
                factors.append(RiskFactor(id: "disease-duration-over-10-years", association: "OR 1.24 (Valenzuela 2020); calcinosis typically more than 10 years after diagnosis",
                    conflicting: false,
                    basisText: DeferredText { [asOf = ctx.asOf] in
                        "diagnosed \(diagnosis.text), \(diagnosis.earliest.wholeYears(until: asOf)) years before \(asOf)"
                            + (certain ? "" : " (possibly not over \(years) years: diagnosis date known to the year only)")
                    },
                    sources: durationSources, tag: .verified))
            }
        }
        if ssc.subtype == .limited {
            factors.append(RiskFactor(id: "limited-subtype", association: "54 % of a calcinosis group had limited cutaneous SSc", conflicting: false,
                                      basisText: DeferredText("SSc subtype limited"), sources: limitedSources, tag: .seed))
        }
        return factors
    }

    /// `to` is later than the `years`-th anniversary of `from`.
    static func longerThan(years: Int, from: LocalDate, to: LocalDate) -> Bool {
        let (y, m, d) = from.components
        let anniversary = LocalDate(year: y + years, month: m, day: d) ?? LocalDate(year: y + years, month: m, day: d - 1)!
        return to > anniversary
    }
}
