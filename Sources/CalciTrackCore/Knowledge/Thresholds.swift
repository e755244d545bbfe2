/// Every numeric threshold the rules use, in one table, each with its source and verification tag
/// (clinical-spec 0.3: "keep thresholds in data, not in code"). Rules read them through
/// `Thresholds`, which a deployment may override by id (`calcitrack assess --threshold caxp.metastatic=60`).
public enum ThresholdID: Int, CaseIterable, Sendable {
    case calciumULN, phosphateULN, caxpMetastatic, calciphylaxisEGFR, iatrogenicWindowDays
    case sirsTempHigh, sirsTempLow, sirsHeartRate, sirsRespiratoryRate, sirsPaCO2, sirsWBCHigh, sirsWBCLow, sirsBands, sirsCriteria
    case idsaTemp, idsaHeartRate, idsaRespiratoryRate, idsaWBCHigh, idsaWBCLow
    case qsofaRespiratoryRate, qsofaSystolicBP, qsofaPositive
    case prednisoneImmunosuppressiveMgPerDay, rituximabLookbackDays, infectionDurationDays
    case severeRenalEGFR, renalInsufficiencyEGFR, minocyclineLongTermDays, linezolidLongDays
    case tetracyclineMinAgeYears, ceftriaxoneNeonateDays, inrCheckWindowDays
    case methylprednisoloneMgPerKg, methylprednisoloneCapMg, prednisoneMgPerKg, thiosulfateMlPerCm2, diltiazemHighMgPerKg
    case trendStableFraction, par4wTargetDay, par4wWindowLowDay, par4wWindowHighDay, responseNoneFraction
    case followUpLostDays, followUpOverdueDays, diseaseDurationYears, measurementFutureToleranceDays
}

public struct ThresholdDefinition: Sendable {
    public let id: ThresholdID
    /// Stable public key, e.g. "caxp.metastatic".
    public let key: String
    public let value: Double
    public let unit: String
    public let rule: String
    public let sources: [String]
    public let tag: Verification
    public let note: String?
}

public struct ThresholdError: Error, Equatable, Sendable {
    public let message: String
    public init(message: String) { self.message = message }
}

public struct Thresholds: Sendable, Equatable {
    private var values: [Double]

    /// The published defaults.
    public init() { values = Thresholds.defaultValues }

    private static let defaultValues = definitions.map(\.value)

    /// The thresholds that differ from the published defaults, in definition order.
    var overrides: [(key: String, value: Double)] {
        let defaults = Thresholds.defaultValues
        guard values != defaults else { return [] }
        return Thresholds.definitions.filter { values[$0.id.rawValue] != defaults[$0.id.rawValue] }
            .map { (key: $0.key, value: values[$0.id.rawValue]) }
    }

    /// Defaults with overrides by key; an unknown key or a non-finite value is an error.
    public init(overrides: [String: Double]) throws(ThresholdError) {
        self.init()
        for (key, value) in overrides {
            guard let definition = Thresholds.definitions.first(where: { $0.key == key }) else {
                throw ThresholdError(message: "unknown threshold \"\(key)\"; see `calcitrack thresholds` for the list")
            }
            guard value.isFinite else { throw ThresholdError(message: "threshold \(key) must be a finite number") }
            values[definition.id.rawValue] = value
        }
    }

    public subscript(_ id: ThresholdID) -> Double { values[id.rawValue] }

    public static func definition(_ id: ThresholdID) -> ThresholdDefinition { definitions[id.rawValue] }

    /// In `ThresholdID` order (checked by a test).
    public static let definitions: [ThresholdDefinition] = [
        .init(id: .calciumULN, key: "calcium.uln", value: 10.5, unit: "mg/dL", rule: "serum calcium above it counts as abnormal for the metastatic rule R3 (2.62 mmol/L)", sources: [Sources.caseFormat, Sources.reiter2011], tag: .projectDecision, note: "clinical-spec 1.3: 'normal' means the reporting lab's range; no universal cut-off (NF). Configure per laboratory."),
        .init(id: .phosphateULN, key: "phosphate.uln", value: 4.5, unit: "mg/dL", rule: "serum phosphate above it counts as abnormal for R3/R4 (1.45 mmol/L)", sources: [Sources.caseFormat, Sources.reiter2011], tag: .projectDecision, note: "as calcium.uln"),
        .init(id: .caxpMetastatic, key: "caxp.metastatic", value: 70, unit: "mg2/dL2", rule: "Ca×P > value → metastatic calcification (R3)", sources: [Sources.medscape, Sources.seed2], tag: .secondary, note: "60 is quoted elsewhere (V2); 70 is the default (clinical-spec 1.2)"),
        .init(id: .calciphylaxisEGFR, key: "calciphylaxis.egfr", value: 15, unit: "mL/min/1.73m2", rule: "eGFR < value (KDIGO G5) or dialysis → renal criterion of calciphylaxis R2, and DDI-04", sources: [Sources.kdigo], tag: .secondary, note: nil),
        .init(id: .iatrogenicWindowDays, key: "iatrogenic.windowDays", value: 180, unit: "d", rule: "exposure at the lesion's site at most this many days before its first measurement → iatrogenic (R1)", sources: [Sources.caseFormat, Sources.seed2], tag: .projectDecision, note: "Seed-2: lesions typically appear within ~2 weeks (S); the window is a project decision"),
        .init(id: .sirsTempHigh, key: "sirs.temperature.high", value: 38, unit: "Cel", rule: "SIRS: temperature > value", sources: [Sources.bone1992], tag: .verified, note: nil),
        .init(id: .sirsTempLow, key: "sirs.temperature.low", value: 36, unit: "Cel", rule: "SIRS: temperature < value", sources: [Sources.bone1992], tag: .verified, note: nil),
        .init(id: .sirsHeartRate, key: "sirs.heartRate", value: 90, unit: "/min", rule: "SIRS: heart rate > value", sources: [Sources.bone1992], tag: .verified, note: nil),
        .init(id: .sirsRespiratoryRate, key: "sirs.respiratoryRate", value: 20, unit: "/min", rule: "SIRS: respiratory rate > value", sources: [Sources.bone1992], tag: .verified, note: nil),
        .init(id: .sirsPaCO2, key: "sirs.paco2", value: 32, unit: "mm[Hg]", rule: "SIRS: PaCO2 < value (4.3 kPa)", sources: [Sources.bone1992], tag: .verified, note: nil),
        .init(id: .sirsWBCHigh, key: "sirs.wbc.high", value: 12, unit: "10*9/L", rule: "SIRS: WBC > value", sources: [Sources.bone1992], tag: .verified, note: nil),
        .init(id: .sirsWBCLow, key: "sirs.wbc.low", value: 4, unit: "10*9/L", rule: "SIRS: WBC < value", sources: [Sources.bone1992], tag: .verified, note: nil),
        .init(id: .sirsBands, key: "sirs.bands", value: 10, unit: "%", rule: "SIRS: immature (band) forms > value", sources: [Sources.bone1992], tag: .verified, note: nil),
        .init(id: .sirsCriteria, key: "sirs.criteria", value: 2, unit: "1", rule: "SIRS present when at least this many criteria are met", sources: [Sources.bone1992], tag: .verified, note: nil),
        .init(id: .idsaTemp, key: "idsa.temperature", value: 38, unit: "Cel", rule: "IDSA systemic sign: temperature > value", sources: [Sources.idsa2014], tag: .verified, note: "no hypothermia criterion in IDSA 2014"),
        .init(id: .idsaHeartRate, key: "idsa.heartRate", value: 90, unit: "/min", rule: "IDSA systemic sign: heart rate > value", sources: [Sources.idsa2014], tag: .verified, note: nil),
        .init(id: .idsaRespiratoryRate, key: "idsa.respiratoryRate", value: 24, unit: "/min", rule: "IDSA systemic sign: respiratory rate > value (not 20 as in SIRS)", sources: [Sources.idsa2014], tag: .verified, note: nil),
        .init(id: .idsaWBCHigh, key: "idsa.wbc.high", value: 12, unit: "10*9/L", rule: "IDSA systemic sign: WBC > value", sources: [Sources.idsa2014], tag: .secondaryInterpretation, note: "the published legend reads '<12 000 or <400', an evident typo; read as > 12 000 or < 4 000 /uL (clinical-spec 6.2)"),
        .init(id: .idsaWBCLow, key: "idsa.wbc.low", value: 4, unit: "10*9/L", rule: "IDSA systemic sign: WBC < value", sources: [Sources.idsa2014], tag: .secondaryInterpretation, note: "published legend typo '<400'; see idsa.wbc.high"),
        .init(id: .qsofaRespiratoryRate, key: "qsofa.respiratoryRate", value: 22, unit: "/min", rule: "qSOFA: respiratory rate ≥ value", sources: [Sources.seymour2016], tag: .verified, note: "some secondary sites misprint '> 22'"),
        .init(id: .qsofaSystolicBP, key: "qsofa.systolicBP", value: 100, unit: "mm[Hg]", rule: "qSOFA: systolic BP ≤ value", sources: [Sources.seymour2016], tag: .verified, note: "some secondary sites misprint '< 100'"),
        .init(id: .qsofaPositive, key: "qsofa.positive", value: 2, unit: "1", rule: "qSOFA positive screen at score ≥ value", sources: [Sources.seymour2016], tag: .verified, note: nil),
        .init(id: .prednisoneImmunosuppressiveMgPerDay, key: "immunosuppression.prednisoneMgPerDay", value: 20, unit: "mg/d", rule: "prednisone ≥ value mg/day counts as immunosuppression", sources: [Sources.caseFormat], tag: .projectDecision, note: nil),
        .init(id: .rituximabLookbackDays, key: "immunosuppression.rituximabDays", value: 365, unit: "d", rule: "rituximab given within this many days counts as immunosuppression", sources: [Sources.caseFormat], tag: .projectDecision, note: nil),
        .init(id: .infectionDurationDays, key: "infection.durationDays", value: 5, unit: "d", rule: "antibiotic duration; extend if not improved", sources: [Sources.idsa2014], tag: .verified, note: "strong recommendation, high-quality evidence"),
        .init(id: .severeRenalEGFR, key: "renal.severe.egfr", value: 30, unit: "mL/min/1.73m2", rule: "eGFR < value stands for 'CrCl < 30' (DDI-07) and severe renal dysfunction (DDI-17)", sources: [Sources.fdaColchicine, Sources.cfpTable3], tag: .secondary, note: "the sources speak of creatinine clearance; eGFR is used as its proxy and the alert says so"),
        .init(id: .renalInsufficiencyEGFR, key: "renal.insufficiency.egfr", value: 60, unit: "mL/min/1.73m2", rule: "eGFR < value counts as renal insufficiency for DDI-15", sources: [Sources.kdigo], tag: .projectDecision, note: "Medscape gives no cut-off; KDIGO G3a (< 60) is used"),
        .init(id: .minocyclineLongTermDays, key: "ddi.minocycline.longTermDays", value: 182, unit: "d", rule: "minocycline for more than 6 months → DDI-10 monitoring", sources: [Sources.livertoxMinocycline], tag: .verified, note: nil),
        .init(id: .linezolidLongDays, key: "ddi.linezolid.days", value: 14, unit: "d", rule: "linezolid for more than 2 weeks → DDI-16", sources: [Sources.cfpTable3], tag: .secondary, note: nil),
        .init(id: .tetracyclineMinAgeYears, key: "ddi.tetracycline.minAgeYears", value: 8, unit: "a", rule: "tetracyclines not recommended under this age (DDI-19)", sources: [Sources.idsaMrsa2011], tag: .verified, note: nil),
        .init(id: .ceftriaxoneNeonateDays, key: "ddi.ceftriaxone.neonateDays", value: 28, unit: "d", rule: "ceftriaxone with IV calcium contraindicated at age ≤ value days (DDI-09)", sources: [Sources.medsafeCeftriaxone], tag: .verified, note: nil),
        .init(id: .inrCheckWindowDays, key: "hold02.inrWindowDays", value: 5, unit: "d", rule: "INR to be checked within 3 to value days of combining warfarin with doxycycline or TMP-SMX (HOLD-02)", sources: [Sources.ebmConsultWarfarinSmx], tag: .secondary, note: nil),
        .init(id: .methylprednisoloneMgPerKg, key: "dose.methylprednisolone.mgPerKg", value: 30, unit: "mg/kg/d", rule: "IV methylprednisolone pulse dose", sources: [Sources.seed1, Sources.jpediatr1996], tag: .seed, note: "data mainly from (juvenile) dermatomyositis"),
        .init(id: .methylprednisoloneCapMg, key: "dose.methylprednisolone.capMg", value: 1000, unit: "mg/d", rule: "cap of the methylprednisolone pulse", sources: [Sources.etgMyopathies], tag: .secondary, note: "primary confirmation of the 1 g cap not found (clinical-spec 13.5)"),
        .init(id: .prednisoneMgPerKg, key: "dose.prednisone.mgPerKg", value: 2, unit: "mg/kg/d", rule: "oral prednisone dose as reported", sources: [Sources.seed1], tag: .seed, note: "dermatomyositis-derived; no cap given in the sources"),
        .init(id: .thiosulfateMlPerCm2, key: "dose.sodiumThiosulfate.mlPerCm2", value: 1, unit: "mL/cm2", rule: "intralesional sodium thiosulfate volume per cm² of lesion", sources: [Sources.seed1], tag: .seed, note: "primary source not found (clinical-spec 13.6)"),
        .init(id: .diltiazemHighMgPerKg, key: "dose.diltiazemHigh.mgPerKg", value: 3, unit: "mg/kg/d", rule: "high-dose diltiazem as reported", sources: [Sources.denton2012], tag: .secondary, note: nil),
        .init(id: .trendStableFraction, key: "wound.trend.stableFraction", value: 0.10, unit: "1", rule: "area change within ±value of the previous area is 'stable'", sources: [Sources.caseFormat], tag: .projectDecision, note: nil),
        .init(id: .par4wTargetDay, key: "wound.par4w.day", value: 28, unit: "d", rule: "PAR at 4 weeks uses the measurement closest to this day after baseline", sources: [Sources.sheehan2003], tag: .verified, note: nil),
        .init(id: .par4wWindowLowDay, key: "wound.par4w.windowStart", value: 21, unit: "d", rule: "earliest day after baseline accepted for PAR at 4 weeks", sources: [Sources.caseFormat], tag: .projectDecision, note: nil),
        .init(id: .par4wWindowHighDay, key: "wound.par4w.windowEnd", value: 35, unit: "d", rule: "latest day after baseline accepted for PAR at 4 weeks", sources: [Sources.caseFormat], tag: .projectDecision, note: nil),
        .init(id: .responseNoneFraction, key: "response.noneFraction", value: 0.90, unit: "1", rule: "latest area ≥ value × baseline → no response; below → partial (regression)", sources: [Sources.caseFormat, Sources.robert2020], tag: .projectDecision, note: "Róbert 2020 gives no numeric threshold for 'regression' (NF)"),
        .init(id: .followUpLostDays, key: "followUp.lostDays", value: 365, unit: "d", rule: "no visit for more than value days while a lesion is unhealed → lost to follow-up", sources: [Sources.caseFormat, Sources.seed2], tag: .projectDecision, note: nil),
        .init(id: .followUpOverdueDays, key: "followUp.overdueDays", value: 30, unit: "d", rule: "more than value days past the next due date → overdue (1..value → due)", sources: [Sources.caseFormat], tag: .projectDecision, note: nil),
        .init(id: .diseaseDurationYears, key: "riskFactor.diseaseDurationYears", value: 10, unit: "a", rule: "SSc diagnosed more than value years ago → risk factor", sources: [Sources.seed1, Sources.valenzuela2020], tag: .seed, note: nil),
        .init(id: .measurementFutureToleranceDays, key: "validation.futureToleranceDays", value: 1, unit: "d", rule: "a lesion measurement dated later than asOf + value days is rejected", sources: [Sources.caseFormat], tag: .projectDecision, note: nil),
    ]
}
