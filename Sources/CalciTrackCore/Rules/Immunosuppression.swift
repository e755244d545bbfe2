/// Whether the patient counts as immunocompromised for SSTI severity (case-format.md project
/// decision; IDSA 2014 makes "immunocompromised" a severe criterion). The clinician's value wins;
/// else true when an immunosuppressant is active, rituximab was given in the last 12 months, or
/// prednisone is at least 20 mg/day. Whether low-dose mycophenolate qualifies is a clinical
/// judgement (clinical-spec 6.4, NF): the basis names the drug and dose so the clinician can override.
public struct Immunosuppression: Sendable, Equatable {
    public var immunocompromised: Bool
    public var clinicianSet: Bool
    /// The drugs that made it true (empty when the clinician set it).
    public var drugs: [String]
    public var basis: String

    public static func evaluate(_ ctx: CaseContext) -> Immunosuppression {
        if let stated = ctx.case.infection.immunocompromised {
            return Immunosuppression(immunocompromised: stated, clinicianSet: true, drugs: [],
                                     basis: "immunocompromised = \(stated) as entered by the clinician")
        }
        let t = ctx.thresholds
        var drugs: [String] = [], reasons: [String] = [], uncertain: [String] = []
        for (medication, drug) in ctx.activeDrugs where drug.is(.immunosuppressant) && !drug.is(.rituximab) {
            drugs.append(drug.name)
            reasons.append("\(drug.name)\(medication.doseMg.map { " \(fmt($0)) mg" } ?? "")\(medication.frequency.map { " \($0.rawValue)" } ?? "") active")
        }
        // Rituximab depletes B cells for months: any course started or running within the look-back counts.
        let lookback = ctx.asOf.adding(days: -Int(t[.rituximabLookbackDays]))
        for medication in ctx.case.medications where medication.drugInfo?.is(.rituximab) == true {
            let start = medication.start
            let recent = (start.map { $0 <= ctx.asOf } ?? true)
                && ((start.map { $0 >= lookback } ?? false) || (medication.stop.map { $0 > lookback } ?? true))
            if recent && !drugs.contains("rituximab") {
                drugs.append("rituximab")
                reasons.append("rituximab within \(Int(t[.rituximabLookbackDays])) days")
            }
        }
        let limit = t[.prednisoneImmunosuppressiveMgPerDay]
        for (medication, drug) in ctx.activeDrugs where drug.name == "prednisone" {
            if let daily = medication.dailyDoseMg {
                if daily >= limit {
                    drugs.append("prednisone")
                    reasons.append("prednisone \(fmt(daily)) mg/day ≥ \(fmt(limit))")
                }
            } else {
                uncertain.append("prednisone active but its daily dose is not given (≥ \(fmt(limit)) mg/day counts)")
            }
        }
        let value = !drugs.isEmpty
        var basis = value ? "derived: " + reasons.joined(separator: "; ") : "derived: no active immunosuppressant recorded"
        if !uncertain.isEmpty { basis += "; " + uncertain.joined(separator: "; ") }
        basis += "; a clinician may override with infection.immunocompromised"
        return Immunosuppression(immunocompromised: value, clinicianSet: false, drugs: drugs, basis: basis)
    }
}
