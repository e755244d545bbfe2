/// IDSA 2014 SSTI algorithm (Figure 1), the regimen for each purulence × severity cell
/// (clinical-spec 6.4), with the usual adult doses of clinical-spec 6.5. Renal and weight
/// adjustment beyond the mg/kg doses is not covered by the sources, and each option says so.
public struct EmpiricAgent: Sendable, Equatable {
    public let drug: String
    public let dose: String?
    public let route: Route
    /// mg per kg and the interval text, for agents dosed by weight.
    public let mgPerKgPerDose: Double?
    public let dosesPerDay: Double?
    public let activeAgainstMRSA: Bool
    public let doseTag: Verification
    public let doseSources: [String]
    /// Agents given together share a regimen key ("vancomycin+piperacillin-tazobactam").
    public var regimen: String?
    /// The drug table's entry, looked up once here rather than by name in every assessment.
    let catalogDrug: Drug?
}

public enum Purulence: String, Sendable { case purulent, nonPurulent = "non-purulent" }
public enum InfectionSeverity: String, Sendable, CaseIterable { case none, mild, moderate, severe }

public enum AntibioticRegimens {
    static func agent(_ drug: String, _ dose: String?, _ route: Route, mrsa: Bool, _ tag: Verification, _ sources: [String],
                      mgPerKg: Double? = nil, perDay: Double? = nil, regimen: String? = nil) -> EmpiricAgent {
        EmpiricAgent(drug: drug, dose: dose, route: route, mgPerKgPerDose: mgPerKg, dosesPerDay: perDay, activeAgainstMRSA: mrsa,
                     doseTag: dose == nil ? .notFound : tag, doseSources: sources, regimen: regimen,
                     catalogDrug: DrugCatalog.drug(named: drug))
    }

    static let table2 = [Sources.idsa2014]
    static let mrsaTable3 = [Sources.idsaMrsa2011]

    // Doses (clinical-spec 6.5).
    static let tmpSmx = agent("sulfamethoxazole-trimethoprim", "1-2 double-strength tablets (160/800 mg) twice daily PO", .oral, mrsa: true, .verified, mrsaTable3)
    static let doxycycline = agent("doxycycline", "100 mg twice daily PO", .oral, mrsa: true, .verified, mrsaTable3)
    static let vancomycin = agent("vancomycin", "30 mg/kg/day IV in 2 divided doses", .intravenous, mrsa: true, .secondary, table2, mgPerKg: 15, perDay: 2)
    static let daptomycin = agent("daptomycin", "4 mg/kg every 24 h IV", .intravenous, mrsa: true, .secondary, table2, mgPerKg: 4, perDay: 1)
    static let linezolidIV = agent("linezolid", "600 mg every 12 h IV", .intravenous, mrsa: true, .secondary, table2)
    static let linezolidPO = agent("linezolid", "600 mg twice daily PO", .oral, mrsa: true, .secondary, table2)
    static let telavancin = agent("telavancin", "10 mg/kg every 24 h IV", .intravenous, mrsa: true, .secondary, table2, mgPerKg: 10, perDay: 1)
    static let ceftaroline = agent("ceftaroline", "600 mg twice daily IV", .intravenous, mrsa: true, .secondary, table2)
    static let penicillinV = agent("penicillin v", "250-500 mg every 6 h PO", .oral, mrsa: false, .secondary, table2)
    static let cephalexin = agent("cephalexin", "500 mg four times daily PO", .oral, mrsa: false, .secondary, table2)
    static let dicloxacillin = agent("dicloxacillin", "500 mg four times daily PO", .oral, mrsa: false, .secondary, table2)
    static let clindamycinPO = agent("clindamycin", "300-450 mg four times daily PO", .oral, mrsa: true, .secondary, table2)
    static let clindamycinIV = agent("clindamycin", "600 mg every 8 h IV", .intravenous, mrsa: true, .secondary, table2)
    static let penicillinG = agent("penicillin g", "2-4 million units every 4-6 h IV", .intravenous, mrsa: false, .secondary, table2)
    // Not in the IDSA table copy; a secondary textbook table gives 1-2 g every 24 h (clinical-spec 6.5).
    static let ceftriaxone = agent("ceftriaxone", "1-2 g every 24 h IV", .intravenous, mrsa: false, .secondary, table2)
    static let cefazolin = agent("cefazolin", "1 g every 8 h IV", .intravenous, mrsa: false, .secondary, table2)

    /// The empiric agents of one IDSA cell, before MRSA adjustment (each cell's list is built once).
    public static func cell(_ purulence: Purulence, _ severity: InfectionSeverity) -> [EmpiricAgent] {
        switch (purulence, severity) {
        case (_, .none), (.purulent, .mild): return []
        case (.purulent, .moderate): return purulentModerate
        case (.purulent, .severe): return purulentSevere
        case (.nonPurulent, .mild): return nonPurulentMild
        case (.nonPurulent, .moderate): return nonPurulentModerate
        case (.nonPurulent, .severe): return nonPurulentSevere
        }
    }

    static let purulentModerate = [tmpSmx, doxycycline]
    static let purulentSevere = [vancomycin, daptomycin, linezolidIV, telavancin, ceftaroline]
    static let nonPurulentMild = [penicillinV, cephalexin, dicloxacillin, clindamycinPO]
    static let nonPurulentModerate = [penicillinG, ceftriaxone, cefazolin, clindamycinIV]
    static let nonPurulentSevere: [EmpiricAgent] = {
        // Piperacillin-tazobactam 3.37 g every 6-8 h is from the IDSA bite-wound table (V2); the
        // carbapenem doses were not found in the sources and are left to the local formulary.
        var pip = agent("piperacillin-tazobactam", "3.37 g every 6-8 h IV", .intravenous, mrsa: false, .secondary, table2)
        var imipenem = agent("imipenem-cilastatin", nil, .intravenous, mrsa: false, .notFound, table2)
        var meropenem = agent("meropenem", nil, .intravenous, mrsa: false, .notFound, table2)
        var vancoA = vancomycin, vancoB = vancomycin, vancoC = vancomycin
        (vancoA.regimen, pip.regimen) = ("vancomycin+piperacillin-tazobactam", "vancomycin+piperacillin-tazobactam")
        (vancoB.regimen, imipenem.regimen) = ("vancomycin+imipenem-cilastatin", "vancomycin+imipenem-cilastatin")
        (vancoC.regimen, meropenem.regimen) = ("vancomycin+meropenem", "vancomycin+meropenem")
        return [vancoA, pip, vancoB, imipenem, vancoC, meropenem]
    }()

    /// IDSA 2014 6.6: where MRSA coverage is indicated, "vancomycin or another agent active against
    /// both MRSA and streptococci". Used for non-purulent mild/moderate cells whose agents are not.
    public static func mrsaAndStreptococcal(_ route: Route) -> [EmpiricAgent] {
        route == .oral ? [clindamycinPO, linezolidPO] : [vancomycin, clindamycinIV, linezolidIV]
    }

    /// Defined therapy after culture (IDSA 2014 Figure 1), shown in the basis.
    public static func definedTherapy(_ purulence: Purulence, _ severity: InfectionSeverity) -> String? {
        switch (purulence, severity) {
        case (.purulent, .moderate): "after culture: MRSA → sulfamethoxazole-trimethoprim; MSSA → dicloxacillin or cephalexin"
        case (.purulent, .severe): "after culture: MRSA → vancomycin, daptomycin, linezolid, telavancin or ceftaroline; MSSA → nafcillin, cefazolin or clindamycin"
        case (.nonPurulent, .severe): "after culture: by culture results"
        default: nil
        }
    }
}
