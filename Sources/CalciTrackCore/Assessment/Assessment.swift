/// The engine's output for one case on one date. Its JSON form (`AssessmentJSON`) carries every
/// fixed key of case-format.md; the CLI, the API and the registry all show this same assessment.
public struct Assessment: Sendable, Equatable {
    public static let engineVersion = "1.0.0"
    /// Bumped whenever a rule or threshold changes, so that stored assessments can be traced.
    public static let rulesetVersion = "2026-11-24"

    public var caseId: String?
    public var asOf: LocalDate
    public var calcinosisType: CalcinosisType
    public var calciumPhosphateProduct: CalciumPhosphateProduct
    public var infection: InfectionTriage
    /// Most urgent first (high, moderate, info), then by rule id.
    public var alerts: [Alert]
    public var imaging: [ImagingAdvice]
    public var therapyOptions: [TherapyOption]
    public var dosing: Dosing
    public var lesions: [LesionMetrics]
    public var followUp: FollowUp
    public var riskFactors: [RiskFactor]
    public var medications: [MedicationSummary]
    public var inputWarnings: [FieldIssue]
    public var ignoredRecordCount: Int
    /// Thresholds that differ from the published defaults, by key.
    public var thresholdOverrides: [(key: String, value: Double)]

    public static func == (a: Assessment, b: Assessment) -> Bool {
        AssessmentJSON.encode(a) == AssessmentJSON.encode(b)
    }

    /// Every source id the assessment cites.
    public var citedSources: [String] {
        var ids = Set<String>()
        ids.formUnion(calcinosisType.sources)
        ids.formUnion(calciumPhosphateProduct.sources)
        ids.formUnion(infection.sources)
        for a in alerts { ids.formUnion(a.sources) }
        for i in imaging { ids.formUnion(i.sources) }
        for t in therapyOptions { ids.formUnion(t.sources) }
        for d in dosing.doses { ids.formUnion(d.sources) }
        for l in lesions { ids.formUnion(l.sources) }
        ids.formUnion(followUp.sources)
        for r in riskFactors { ids.formUnion(r.sources) }
        return ids.sorted()
    }
}

/// A medication as the engine understood it: recognised (with RxNorm when known) or not.
public struct MedicationSummary: Sendable, Equatable {
    public var drug: String
    public var recognized: Bool
    public var rxnorm: String?
    public var rxnormTag: Verification?
    public var active: Bool
    public var classes: [String]
}
