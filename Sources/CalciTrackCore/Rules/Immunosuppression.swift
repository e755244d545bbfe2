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
    /// Written from `findings` when read.
    public var basis: String {
        get { basisOverride ?? derivedBasis }
        set { basisOverride = newValue }
    }
    /// What was found, in order; the basis text is written from it.
    let findings: [Finding]
    var basisOverride: String?

    enum Finding: Sendable, Equatable {
        case active(drug: String, doseMg: Double?, frequency: Frequency?)
        case rituximab(lookbackDays: Int)
        case prednisone(mgPerDay: Double, limit: Double)
        case prednisoneDoseUnknown(limit: Double)
    }

    public static func evaluate(_ ctx: CaseContext) -> Immunosuppression {
        if let stated = ctx.case.infection.immunocompromised {
            return Immunosuppression(immunocompromised: stated, clinicianSet: true, drugs: [], findings: [])
        }
        let t = ctx.thresholds
        var drugs: [String] = [], findings: [Finding] = []
        let medications = ctx.case.medications
        for a in ctx.active where a.drug.is(.immunosuppressant) && !a.drug.is(.rituximab) {
            drugs.append(a.drug.name)
            findings.append(.active(drug: a.drug.name, doseMg: medications[a.index].doseMg, frequency: medications[a.index].frequency))
        }
        // Rituximab depletes B cells for months: any course started or running within the look-back counts.
        let lookback = ctx.asOf.adding(days: -Int(t[.rituximabLookbackDays]))
        for medication in ctx.case.medications where medication.drugInfo?.is(.rituximab) == true {
            let start = medication.start
            let recent = (start.map { $0 <= ctx.asOf } ?? true)
                && ((start.map { $0 >= lookback } ?? false) || (medication.stop.map { $0 > lookback } ?? true))
            if recent && !drugs.contains("rituximab") {
                drugs.append("rituximab")
                findings.append(.rituximab(lookbackDays: Int(t[.rituximabLookbackDays])))
            }
        }
        let limit = t[.prednisoneImmunosuppressiveMgPerDay]
        for a in ctx.active where a.drug.name == "prednisone" {
            if let daily = medications[a.index].dailyDoseMg {
                if daily >= limit {
                    drugs.append("prednisone")
                    findings.append(.prednisone(mgPerDay: daily, limit: limit))
                }
            } else {
                findings.append(.prednisoneDoseUnknown(limit: limit))
            }
        }
        return Immunosuppression(immunocompromised: !drugs.isEmpty, clinicianSet: false, drugs: drugs, findings: findings)
    }

    var derivedBasis: String {
        if clinicianSet { return "immunocompromised = \(immunocompromised) as entered by the clinician" }
        var reasons: [String] = [], uncertain: [String] = []
        for finding in findings {
            switch finding {
            case .active(let drug, let doseMg, let frequency):
                reasons.append("\(drug)\(doseMg.map { " \(fmt($0)) mg" } ?? "")\(frequency.map { " \($0.rawValue)" } ?? "") active")
            case .rituximab(let days): reasons.append("rituximab within \(days) days")
            case .prednisone(let daily, let limit): reasons.append("prednisone \(fmt(daily)) mg/day ≥ \(fmt(limit))")
            case .prednisoneDoseUnknown(let limit):
                uncertain.append("prednisone active but its daily dose is not given (≥ \(fmt(limit)) mg/day counts)")
            }
        }
        var basis = immunocompromised ? "derived: " + reasons.joined(separator: "; ") : "derived: no active immunosuppressant recorded"
        if !uncertain.isEmpty { basis += "; " + uncertain.joined(separator: "; ") }
        basis += "; a clinician may override with infection.immunocompromised"
        return basis
    }
}
