/// Three separately named rule sets that must never be merged (clinical-spec 0.3, 6.1-6.3):
/// IDSA 2014 systemic signs of infection, SIRS (ACCP/SCCM, Bone 1992) and qSOFA (Sepsis-3).
/// All read the latest vitals row on or before asOf and the latest lab values.

/// Each keeps the values and thresholds it was judged on and writes its `basis` text from them
/// when the text is read (JSON, text report), not on every assessment.

/// IDSA 2014 Figure 1 legend: T > 38 °C, HR > 90, RR > 24, WBC > 12 or < 4 x10^9/L.
public struct IDSASystemicSigns: Sendable, Equatable {
    /// Fixed names: temperature, heartRate, respiratoryRate, wbc.
    public var present: [String]
    public var notAssessed: [String]
    public var basis: String {
        get { basisOverride ?? Self.basis(vitals, wbc: wbc, thresholds) }
        set { basisOverride = newValue }
    }
    public var sources: [String] { Self.sourceList }
    static let sourceList = [Sources.idsa2014]
    let vitals: VitalSigns?
    let wbc: Double?
    let thresholds: Thresholds
    var basisOverride: String?

    public static func evaluate(_ ctx: CaseContext) -> IDSASystemicSigns {
        let v = ctx.latestVitals, wbc = ctx.latest(.wbc)?.canonicalValue
        var present: [String] = [], notAssessed: [String] = []
        for sign in signs(v, wbc: wbc, ctx.thresholds) {
            if sign.value == nil { notAssessed.append(sign.name) } else if sign.hit { present.append(sign.name) }
        }
        return IDSASystemicSigns(present: present, notAssessed: notAssessed, vitals: v, wbc: wbc, thresholds: ctx.thresholds)
    }

    static func signs(_ v: VitalSigns?, wbc: Double?, _ t: Thresholds) -> [(name: String, text: String, value: Double?, hit: Bool)] {
        func sign(_ name: String, _ text: String, _ value: Double?, _ hit: (Double) -> Bool) -> (name: String, text: String, value: Double?, hit: Bool) {
            (name, text, value, value.map(hit) ?? false)
        }
        return [sign("temperature", "T", v?.temperatureC, { $0 > t[.idsaTemp] }),
                sign("heartRate", "HR", v?.heartRate, { $0 > t[.idsaHeartRate] }),
                sign("respiratoryRate", "RR", v?.respiratoryRate, { $0 > t[.idsaRespiratoryRate] }),
                sign("wbc", "WBC x10^9/L", wbc, { $0 > t[.idsaWBCHigh] || $0 < t[.idsaWBCLow] })]
    }

    static func basis(_ v: VitalSigns?, wbc: Double?, _ t: Thresholds) -> String {
        var parts: [String] = [], notAssessed: [String] = []
        for sign in signs(v, wbc: wbc, t) {
            guard let value = sign.value else { notAssessed.append(sign.name); continue }
            parts.append("\(sign.text) \(fmt(value))\(sign.hit ? " (sign)" : "")")
        }
        var basis = "IDSA 2014 (T > \(fmt(t[.idsaTemp])), HR > \(fmt(t[.idsaHeartRate])), RR > \(fmt(t[.idsaRespiratoryRate])), WBC > \(fmt(t[.idsaWBCHigh])) or < \(fmt(t[.idsaWBCLow]))): "
            + (parts.isEmpty ? "no vitals or WBC" : parts.joined(separator: ", "))
        if let date = v?.date { basis += "; vitals of \(date)" }
        if !notAssessed.isEmpty { basis += "; not assessed: " + notAssessed.joined(separator: ", ") }
        basis += "; the published WBC wording '<12 000 or <400' is read as > 12 000 or < 4 000 /uL (V2-interpretation)"
        return basis
    }
}

/// SIRS, Bone 1992: ≥ 2 of T > 38 or < 36; HR > 90; RR > 20 or PaCO2 < 32 mm Hg; WBC > 12 or < 4 x10^9/L or bands > 10 %.
public struct SIRS: Sendable, Equatable {
    public var criteriaMet: Int
    public var positive: Bool
    /// Fixed names: temperature, heartRate, respiration, wbc.
    public var criteria: [String]
    public var notAssessed: [String]
    public var basis: String {
        get { basisOverride ?? Self.basis(inputs, met: criteria, notAssessed: notAssessed) }
        set { basisOverride = newValue }
    }
    public var sources: [String] { Self.sourceList }
    static let sourceList = [Sources.bone1992]
    let inputs: Inputs
    var basisOverride: String?

    struct Inputs: Sendable, Equatable {
        var temperature, heartRate, respiratoryRate, paco2, wbc, bands: Double?
        var thresholds: Thresholds
    }

    public static func evaluate(_ ctx: CaseContext) -> SIRS {
        let v = ctx.latestVitals
        let inputs = Inputs(temperature: v?.temperatureC, heartRate: v?.heartRate, respiratoryRate: v?.respiratoryRate,
                            paco2: ctx.latest(.paco2)?.canonicalValue, wbc: ctx.latest(.wbc)?.canonicalValue,
                            bands: ctx.latest(.bands)?.canonicalValue, thresholds: ctx.thresholds)
        var met: [String] = [], notAssessed: [String] = []
        for criterion in criteria(inputs) {
            if !criterion.assessed { notAssessed.append(criterion.name) } else if criterion.hit { met.append(criterion.name) }
        }
        let positive = Double(met.count) >= ctx.thresholds[.sirsCriteria]
        return SIRS(criteriaMet: met.count, positive: positive, criteria: met, notAssessed: notAssessed, inputs: inputs)
    }

    static func criteria(_ i: Inputs) -> [(name: String, assessed: Bool, hit: Bool)] {
        let t = i.thresholds
        return [
            ("temperature", i.temperature != nil, i.temperature.map { $0 > t[.sirsTempHigh] || $0 < t[.sirsTempLow] } ?? false),
            ("heartRate", i.heartRate != nil, i.heartRate.map { $0 > t[.sirsHeartRate] } ?? false),
            ("respiration", i.respiratoryRate != nil || i.paco2 != nil,
             (i.respiratoryRate.map { $0 > t[.sirsRespiratoryRate] } ?? false) || (i.paco2.map { $0 < t[.sirsPaCO2] } ?? false)),
            ("wbc", i.wbc != nil || i.bands != nil,
             (i.wbc.map { $0 > t[.sirsWBCHigh] || $0 < t[.sirsWBCLow] } ?? false) || (i.bands.map { $0 > t[.sirsBands] } ?? false)),
        ]
    }

    static func basis(_ i: Inputs, met: [String], notAssessed: [String]) -> String {
        var parts: [String] = []
        for criterion in criteria(i) where criterion.assessed {
            let values: [String?]
            switch criterion.name {
            case "temperature": values = [i.temperature.map { "T \(fmt($0))" }]
            case "heartRate": values = [i.heartRate.map { "HR \(fmt($0))" }]
            case "respiration": values = [i.respiratoryRate.map { "RR \(fmt($0))" }, i.paco2.map { "PaCO2 \(fmt($0)) mm Hg" }]
            default: values = [i.wbc.map { "WBC \(fmt($0)) x10^9/L" }, i.bands.map { "bands \(fmt($0)) %" }]
            }
            parts.append(values.compactMap { $0 }.joined(separator: ", ") + (criterion.hit ? " (met)" : ""))
        }
        var basis = "SIRS (Bone 1992) \(met.count)/4 criteria: " + (parts.isEmpty ? "no inputs" : parts.joined(separator: "; "))
        if !notAssessed.isEmpty { basis += "; not assessed: " + notAssessed.joined(separator: ", ") }
        basis += "; criteria must be an acute change without another known cause"
        return basis
    }
}

/// qSOFA, Sepsis-3 (Seymour 2016): RR ≥ 22, altered mentation, SBP ≤ 100; positive at ≥ 2.
/// nil when respiratory rate, systolic BP and mentation are all absent (case-format.md).
public struct QSOFA: Sendable, Equatable {
    public var score: Int
    public var positive: Bool
    public var notAssessed: [String]
    public var basis: String {
        get { basisOverride ?? Self.basis(vitals, score: score, notAssessed: notAssessed, thresholds) }
        set { basisOverride = newValue }
    }
    public var sources: [String] { Self.sourceList }
    static let sourceList = [Sources.seymour2016]
    let vitals: VitalSigns
    let thresholds: Thresholds
    var basisOverride: String?

    public static func evaluate(_ ctx: CaseContext) -> QSOFA? {
        let t = ctx.thresholds
        guard let v = ctx.latestVitals, v.respiratoryRate != nil || v.systolicBP != nil || v.alteredMentation != nil else { return nil }
        var score = 0, notAssessed: [String] = []
        if let rr = v.respiratoryRate { if rr >= t[.qsofaRespiratoryRate] { score += 1 } } else { notAssessed.append("respiratoryRate") }
        if let mentation = v.alteredMentation { if mentation { score += 1 } } else { notAssessed.append("alteredMentation") }
        if let sbp = v.systolicBP { if sbp <= t[.qsofaSystolicBP] { score += 1 } } else { notAssessed.append("systolicBP") }
        let positive = Double(score) >= t[.qsofaPositive]
        return QSOFA(score: score, positive: positive, notAssessed: notAssessed, vitals: v, thresholds: t)
    }

    static func basis(_ v: VitalSigns, score: Int, notAssessed: [String], _ t: Thresholds) -> String {
        var parts: [String] = []
        if let rr = v.respiratoryRate {
            parts.append("RR \(fmt(rr)) \(rr >= t[.qsofaRespiratoryRate] ? "≥" : "<") \(fmt(t[.qsofaRespiratoryRate]))")
        }
        if let mentation = v.alteredMentation { parts.append(mentation ? "altered mentation" : "mentation normal") }
        if let sbp = v.systolicBP {
            parts.append("SBP \(fmt(sbp)) \(sbp <= t[.qsofaSystolicBP] ? "≤" : ">") \(fmt(t[.qsofaSystolicBP]))")
        }
        var basis = "qSOFA \(score)/3 (vitals of \(v.date)): " + parts.joined(separator: ", ")
        if !notAssessed.isEmpty { basis += "; not assessed: " + notAssessed.joined(separator: ", ") + " (the score may be higher)" }
        return basis
    }
}
