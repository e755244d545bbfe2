/// Three separately named rule sets that must never be merged (clinical-spec 0.3, 6.1-6.3):
/// IDSA 2014 systemic signs of infection, SIRS (ACCP/SCCM, Bone 1992) and qSOFA (Sepsis-3).
/// All read the latest vitals row on or before asOf and the latest lab values.

/// IDSA 2014 Figure 1 legend: T > 38 °C, HR > 90, RR > 24, WBC > 12 or < 4 x10^9/L.
public struct IDSASystemicSigns: Sendable, Equatable {
    /// Fixed names: temperature, heartRate, respiratoryRate, wbc.
    public var present: [String]
    public var notAssessed: [String]
    public var basis: String
    public let sources = [Sources.idsa2014]

    public static func evaluate(_ ctx: CaseContext) -> IDSASystemicSigns {
        let t = ctx.thresholds
        let v = ctx.latestVitals
        var present: [String] = [], notAssessed: [String] = [], parts: [String] = []
        func check(_ name: String, _ value: Double?, _ text: String, _ hit: (Double) -> Bool) {
            guard let value else { notAssessed.append(name); return }
            if hit(value) { present.append(name) }
            parts.append("\(text) \(fmt(value))\(hit(value) ? " (sign)" : "")")
        }
        check("temperature", v?.temperatureC, "T", { $0 > t[.idsaTemp] })
        check("heartRate", v?.heartRate, "HR", { $0 > t[.idsaHeartRate] })
        check("respiratoryRate", v?.respiratoryRate, "RR", { $0 > t[.idsaRespiratoryRate] })
        check("wbc", ctx.latest(.wbc)?.canonicalValue, "WBC x10^9/L", { $0 > t[.idsaWBCHigh] || $0 < t[.idsaWBCLow] })
        var basis = "IDSA 2014 (T > \(fmt(t[.idsaTemp])), HR > \(fmt(t[.idsaHeartRate])), RR > \(fmt(t[.idsaRespiratoryRate])), WBC > \(fmt(t[.idsaWBCHigh])) or < \(fmt(t[.idsaWBCLow]))): "
            + (parts.isEmpty ? "no vitals or WBC" : parts.joined(separator: ", "))
        if let date = v?.date { basis += "; vitals of \(date)" }
        if !notAssessed.isEmpty { basis += "; not assessed: " + notAssessed.joined(separator: ", ") }
        basis += "; the published WBC wording '<12 000 or <400' is read as > 12 000 or < 4 000 /uL (V2-interpretation)"
        return IDSASystemicSigns(present: present, notAssessed: notAssessed, basis: basis)
    }
}

/// SIRS, Bone 1992: ≥ 2 of T > 38 or < 36; HR > 90; RR > 20 or PaCO2 < 32 mm Hg; WBC > 12 or < 4 x10^9/L or bands > 10 %.
public struct SIRS: Sendable, Equatable {
    public var criteriaMet: Int
    public var positive: Bool
    /// Fixed names: temperature, heartRate, respiration, wbc.
    public var criteria: [String]
    public var notAssessed: [String]
    public var basis: String
    public let sources = [Sources.bone1992]

    public static func evaluate(_ ctx: CaseContext) -> SIRS {
        let t = ctx.thresholds
        let v = ctx.latestVitals
        var met: [String] = [], notAssessed: [String] = [], parts: [String] = []
        if let temp = v?.temperatureC {
            let hit = temp > t[.sirsTempHigh] || temp < t[.sirsTempLow]
            if hit { met.append("temperature") }
            parts.append("T \(fmt(temp))\(hit ? " (met)" : "")")
        } else { notAssessed.append("temperature") }
        if let hr = v?.heartRate {
            let hit = hr > t[.sirsHeartRate]
            if hit { met.append("heartRate") }
            parts.append("HR \(fmt(hr))\(hit ? " (met)" : "")")
        } else { notAssessed.append("heartRate") }
        let rr = v?.respiratoryRate, paco2 = ctx.latest(.paco2)?.canonicalValue
        if rr != nil || paco2 != nil {
            let hit = (rr.map { $0 > t[.sirsRespiratoryRate] } ?? false) || (paco2.map { $0 < t[.sirsPaCO2] } ?? false)
            if hit { met.append("respiration") }
            parts.append([rr.map { "RR \(fmt($0))" }, paco2.map { "PaCO2 \(fmt($0)) mm Hg" }].compactMap { $0 }.joined(separator: ", ") + (hit ? " (met)" : ""))
        } else { notAssessed.append("respiration") }
        let wbc = ctx.latest(.wbc)?.canonicalValue, bands = ctx.latest(.bands)?.canonicalValue
        if wbc != nil || bands != nil {
            let hit = (wbc.map { $0 > t[.sirsWBCHigh] || $0 < t[.sirsWBCLow] } ?? false) || (bands.map { $0 > t[.sirsBands] } ?? false)
            if hit { met.append("wbc") }
            parts.append([wbc.map { "WBC \(fmt($0)) x10^9/L" }, bands.map { "bands \(fmt($0)) %" }].compactMap { $0 }.joined(separator: ", ") + (hit ? " (met)" : ""))
        } else { notAssessed.append("wbc") }
        let positive = Double(met.count) >= t[.sirsCriteria]
        var basis = "SIRS (Bone 1992) \(met.count)/4 criteria: " + (parts.isEmpty ? "no inputs" : parts.joined(separator: "; "))
        if !notAssessed.isEmpty { basis += "; not assessed: " + notAssessed.joined(separator: ", ") }
        basis += "; criteria must be an acute change without another known cause"
        return SIRS(criteriaMet: met.count, positive: positive, criteria: met, notAssessed: notAssessed, basis: basis)
    }
}

/// qSOFA, Sepsis-3 (Seymour 2016): RR ≥ 22, altered mentation, SBP ≤ 100; positive at ≥ 2.
/// nil when respiratory rate, systolic BP and mentation are all absent (case-format.md).
public struct QSOFA: Sendable, Equatable {
    public var score: Int
    public var positive: Bool
    public var notAssessed: [String]
    public var basis: String
    public let sources = [Sources.seymour2016]

    public static func evaluate(_ ctx: CaseContext) -> QSOFA? {
        let t = ctx.thresholds
        guard let v = ctx.latestVitals, v.respiratoryRate != nil || v.systolicBP != nil || v.alteredMentation != nil else { return nil }
        var score = 0, parts: [String] = [], notAssessed: [String] = []
        if let rr = v.respiratoryRate {
            let hit = rr >= t[.qsofaRespiratoryRate]
            if hit { score += 1 }
            parts.append("RR \(fmt(rr)) \(hit ? "≥" : "<") \(fmt(t[.qsofaRespiratoryRate]))")
        } else { notAssessed.append("respiratoryRate") }
        if let mentation = v.alteredMentation {
            if mentation { score += 1 }
            parts.append(mentation ? "altered mentation" : "mentation normal")
        } else { notAssessed.append("alteredMentation") }
        if let sbp = v.systolicBP {
            let hit = sbp <= t[.qsofaSystolicBP]
            if hit { score += 1 }
            parts.append("SBP \(fmt(sbp)) \(hit ? "≤" : ">") \(fmt(t[.qsofaSystolicBP]))")
        } else { notAssessed.append("systolicBP") }
        let positive = Double(score) >= t[.qsofaPositive]
        var basis = "qSOFA \(score)/3 (vitals of \(v.date)): " + parts.joined(separator: ", ")
        if !notAssessed.isEmpty { basis += "; not assessed: " + notAssessed.joined(separator: ", ") + " (the score may be higher)" }
        return QSOFA(score: score, positive: positive, notAssessed: notAssessed, basis: basis)
    }
}
