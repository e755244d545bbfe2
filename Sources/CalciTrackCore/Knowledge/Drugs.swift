/// What the rules need to know about a drug: classes, RxNorm ingredient code (with its
/// verification tag; nil where clinical-spec 12.5 found none: we never invent a code) and the
/// usual dosing intervals behind DOSE-FREQUENCY.
public enum DrugClass: String, Sendable, CaseIterable {
    case antibiotic
    case tetracycline
    case sulfamethoxazoleTrimethoprim
    case linezolid
    case vitaminKAntagonist
    case colchicine
    /// Strong CYP3A4 or P-gp inhibitors of the colchicine label table (DDI-05).
    case strongCYP3A4OrPgpInhibitor
    /// Moderate CYP3A4 inhibitors of the colchicine label table (DDI-06, DDI-18).
    case moderateCYP3A4Inhibitor
    /// Narrow-index CYP3A4 substrates named in DDI-18.
    case narrowCYP3A4Substrate
    case immunosuppressant
    case glucocorticoid
    case rituximab
    case mycophenolate
    /// Aluminium, calcium, magnesium or iron products that chelate tetracyclines (DDI-08).
    case polyvalentCation
    /// Aluminium or magnesium antacids (DDI-15).
    case aluminiumOrMagnesiumAntacid
    /// Calcium salts given intravenously (DDI-09 when the route is intravenous).
    case calciumSalt
    case aceInhibitorOrARB
    case etidronate
    case bisphosphonate
    case sodiumThiosulfate
    case ceftriaxone

    /// One bit per class, so that class tests are a mask test rather than a set lookup (the
    /// interaction rules ask them for every candidate drug).
    var bit: UInt32 {
        switch self {
        case .antibiotic: 1 << 0
        case .tetracycline: 1 << 1
        case .sulfamethoxazoleTrimethoprim: 1 << 2
        case .linezolid: 1 << 3
        case .vitaminKAntagonist: 1 << 4
        case .colchicine: 1 << 5
        case .strongCYP3A4OrPgpInhibitor: 1 << 6
        case .moderateCYP3A4Inhibitor: 1 << 7
        case .narrowCYP3A4Substrate: 1 << 8
        case .immunosuppressant: 1 << 9
        case .glucocorticoid: 1 << 10
        case .rituximab: 1 << 11
        case .mycophenolate: 1 << 12
        case .polyvalentCation: 1 << 13
        case .aluminiumOrMagnesiumAntacid: 1 << 14
        case .calciumSalt: 1 << 15
        case .aceInhibitorOrARB: 1 << 16
        case .etidronate: 1 << 17
        case .bisphosphonate: 1 << 18
        case .sodiumThiosulfate: 1 << 19
        case .ceftriaxone: 1 << 20
        }
    }
}

/// A reference type: drug entries are shared, never mutated, and copied into every candidate
/// list the interaction rules build, so a copy must cost one retain, not a set and array copy.
public final class Drug: Sendable, Equatable {
    public let name: String
    public let rxnorm: String?
    public let rxnormTag: Verification
    public let classes: Set<DrugClass>
    /// nil: the table has no usual interval for this drug, so DOSE-FREQUENCY does not judge it.
    public let usualFrequencies: Set<Frequency>?
    public let aliases: [String]
    /// `classes` as `DrugClass.bit`s.
    let classMask: UInt32
    /// `classes` in `DrugClass` order, as the assessment lists them.
    let classNames: [String]

    init(name: String, rxnorm: String?, rxnormTag: Verification, classes: Set<DrugClass>, usualFrequencies: Set<Frequency>?, aliases: [String]) {
        self.name = name; self.rxnorm = rxnorm; self.rxnormTag = rxnormTag; self.classes = classes
        self.usualFrequencies = usualFrequencies; self.aliases = aliases
        classMask = classes.reduce(0) { $0 | $1.bit }
        classNames = DrugClass.allCases.filter(classes.contains).map(\.rawValue)
    }

    public static func == (a: Drug, b: Drug) -> Bool { a.name == b.name }

    public func `is`(_ drugClass: DrugClass) -> Bool { classMask & drugClass.bit != 0 }
    public var isSystemicAntibiotic: Bool { self.is(.antibiotic) }
}

public enum DrugCatalog {
    /// Usual dosing intervals are the labelled adult intervals (IDSA 2014 Table 2 and IDSA MRSA
    /// 2011 Table 3 for antibiotics; usual adult regimens otherwise). They are engineering data
    /// for catching interval slips such as "doxycycline every 12 days", to be reviewed by a pharmacist.
    public static let drugs: [Drug] = {
        func d(_ name: String, _ rxnorm: String?, _ tag: Verification, _ classes: Set<DrugClass>,
               _ frequencies: Set<Frequency>?, aliases: [String] = []) -> Drug {
            Drug(name: name, rxnorm: rxnorm, rxnormTag: rxnorm == nil ? .notFound : tag, classes: classes,
                 usualFrequencies: frequencies, aliases: aliases)
        }
        let abx: Set<DrugClass> = [.antibiotic]
        return [
            // Antibiotics of clinical-spec 6.4-6.5 (RxNorm: CDC NHSN value set, V).
            d("nafcillin", "7233", .verified, abx, [.q4h, .q6h]),
            d("oxacillin", "7773", .verified, abx, [.q4h, .q6h]),
            d("cefazolin", "2180", .verified, abx, [.q6h, .q8h, .tid, .qid]),
            d("clindamycin", "2582", .verified, abx, [.q6h, .q8h, .tid, .qid]),
            d("dicloxacillin", "3356", .verified, abx, [.q6h, .qid]),
            d("cephalexin", "2231", .verified, abx, [.q6h, .q8h, .q12h, .bid, .tid, .qid]),
            d("doxycycline", "3640", .verified, [.antibiotic, .tetracycline], [.q12h, .bid, .daily, .q24h]),
            d("minocycline", "6980", .verified, [.antibiotic, .tetracycline], [.q12h, .bid, .daily, .q24h]),
            d("tetracycline", nil, .notFound, [.antibiotic, .tetracycline], [.q6h, .qid, .q12h, .bid]),
            d("sulfamethoxazole-trimethoprim", "10831", .verified, [.antibiotic, .sulfamethoxazoleTrimethoprim], [.q12h, .bid],
              aliases: ["trimethoprim-sulfamethoxazole", "tmp-smx", "smx-tmp", "co-trimoxazole", "cotrimoxazole"]),
            d("trimethoprim", "10829", .verified, abx, [.q12h, .bid, .daily]),
            d("linezolid", "190376", .verified, [.antibiotic, .linezolid], [.q12h, .bid]),
            d("vancomycin", "11124", .verified, abx, [.q8h, .q12h, .q24h, .bid, .tid, .daily]),
            d("daptomycin", "22299", .verified, abx, [.q24h, .daily]),
            d("telavancin", "473837", .verified, abx, [.q24h, .daily]),
            d("ceftaroline", "1040005", .verified, abx, [.q8h, .q12h, .bid, .tid]),
            d("penicillin g", "7980", .verified, abx, [.q4h, .q6h], aliases: ["benzylpenicillin"]),
            d("penicillin v", "7984", .verified, abx, [.q6h, .q8h, .tid, .qid], aliases: ["penicillin vk", "phenoxymethylpenicillin"]),
            d("ceftriaxone", "2193", .verified, [.antibiotic, .ceftriaxone], [.q12h, .q24h, .bid, .daily]),
            d("piperacillin-tazobactam", "74169", .verified, abx, [.q6h, .q8h, .qid, .tid]),
            d("imipenem-cilastatin", "34482", .verified, abx, [.q6h, .q8h, .qid, .tid]),
            d("meropenem", "29561", .verified, abx, [.q8h, .tid]),
            d("metronidazole", "6922", .verified, abx, [.q8h, .q12h, .tid, .bid]),
            d("clarithromycin", nil, .notFound, [.antibiotic, .strongCYP3A4OrPgpInhibitor], [.q12h, .bid, .daily]),
            d("erythromycin", nil, .notFound, [.antibiotic, .moderateCYP3A4Inhibitor], [.q6h, .q8h, .q12h, .bid, .tid, .qid]),
            // Azoles and protease inhibitors: strong CYP3A4 inhibitors (colchicine label table).
            d("ketoconazole", nil, .notFound, [.strongCYP3A4OrPgpInhibitor], [.daily, .q24h]),
            d("itraconazole", nil, .notFound, [.strongCYP3A4OrPgpInhibitor], [.daily, .bid, .q12h, .q24h]),
            d("ritonavir", nil, .notFound, [.strongCYP3A4OrPgpInhibitor], [.daily, .bid, .q12h]),
            // Calcinosis therapies of clinical-spec 7 and the usual SSc medications.
            d("warfarin", "11289", .verified, [.vitaminKAntagonist], [.daily, .q24h]),
            d("colchicine", "2683", .unverified, [.colchicine, .narrowCYP3A4Substrate], [.once, .daily, .bid, .q12h, .q24h]),
            d("diltiazem", "3443", .unverified, [.moderateCYP3A4Inhibitor], [.daily, .bid, .tid, .qid, .q6h, .q8h, .q12h, .q24h]),
            d("verapamil", nil, .notFound, [.moderateCYP3A4Inhibitor], [.daily, .bid, .tid, .q8h, .q12h, .q24h]),
            d("nifedipine", "7417", .unverified, [], [.daily, .bid, .tid, .q8h, .q12h, .q24h]),
            d("amlodipine", nil, .notFound, [], [.daily, .q24h]),
            d("sildenafil", "136411", .verified, [], [.daily, .bid, .tid, .q8h]),
            d("bosentan", nil, .notFound, [], [.bid, .q12h]),
            d("ambrisentan", nil, .notFound, [], [.daily, .q24h]),
            d("esomeprazole", nil, .notFound, [], [.daily, .bid, .q24h, .q12h]),
            d("omeprazole", nil, .notFound, [], [.daily, .bid, .q24h, .q12h]),
            d("metoclopramide", nil, .notFound, [], [.daily, .bid, .tid, .qid, .q6h, .q8h]),
            // Mycophenolic acid ingredient code (V, CPIC); the mofetil ester's own code was not found.
            d("mycophenolate", "7145", .verified, [.immunosuppressant, .mycophenolate], [.daily, .bid, .q12h],
              aliases: ["mycophenolate mofetil", "mycophenolic acid", "mycophenolate sodium"]),
            d("azathioprine", nil, .notFound, [.immunosuppressant], [.daily, .bid]),
            d("methotrexate", nil, .notFound, [.immunosuppressant], [.weekly]),
            d("cyclophosphamide", nil, .notFound, [.immunosuppressant], [.daily, .once, .monthly, .every2Weeks]),
            d("tacrolimus", nil, .notFound, [.immunosuppressant, .narrowCYP3A4Substrate], [.daily, .bid, .q12h]),
            d("cyclosporine", nil, .notFound, [.immunosuppressant, .narrowCYP3A4Substrate, .strongCYP3A4OrPgpInhibitor], [.bid, .q12h],
              aliases: ["ciclosporin"]),
            d("rituximab", "121191", .verified, [.immunosuppressant, .rituximab], [.once, .weekly, .every2Weeks]),
            d("hydroxychloroquine", nil, .notFound, [], [.daily, .bid]),
            d("prednisone", "8640", .verified, [.glucocorticoid], [.daily, .bid, .tid, .q24h, .q12h]),
            d("prednisolone", "8638", .verified, [.glucocorticoid], [.daily, .bid, .tid, .q24h, .q12h]),
            d("methylprednisolone", "6902", .verified, [.glucocorticoid], [.once, .daily, .bid, .q24h, .q12h]),
            d("simvastatin", nil, .notFound, [], [.daily, .q24h]),
            d("atorvastatin", nil, .notFound, [], [.daily, .q24h]),
            d("metoprolol", nil, .notFound, [], [.daily, .bid, .q12h, .q24h]),
            d("probenecid", "8698", .verified, [], [.bid, .tid, .qid, .daily]),
            d("zoledronic acid", nil, .notFound, [.bisphosphonate], [.once], aliases: ["zoledronate"]),
            d("alendronate", nil, .notFound, [.bisphosphonate], [.daily, .weekly]),
            d("pamidronate", nil, .notFound, [.bisphosphonate], [.once, .monthly]),
            d("etidronate", nil, .notFound, [.bisphosphonate, .etidronate], [.daily]),
            d("immune globulin", nil, .notFound, [], nil, aliases: ["ivig", "immunoglobulin"]),
            d("infliximab", nil, .notFound, [], nil),
            d("aluminum hydroxide", nil, .notFound, [.polyvalentCation, .aluminiumOrMagnesiumAntacid], [.bid, .tid, .qid, .daily],
              aliases: ["aluminium hydroxide"]),
            d("magnesium hydroxide", nil, .notFound, [.polyvalentCation, .aluminiumOrMagnesiumAntacid], [.daily, .bid, .tid, .qid]),
            d("calcium carbonate", nil, .notFound, [.polyvalentCation, .calciumSalt], [.daily, .bid, .tid, .qid]),
            d("calcium acetate", nil, .notFound, [.polyvalentCation, .calciumSalt], [.tid, .bid, .daily]),
            d("calcium gluconate", nil, .notFound, [.polyvalentCation, .calciumSalt], nil),
            d("calcium chloride", nil, .notFound, [.polyvalentCation, .calciumSalt], nil),
            d("ferrous sulfate", nil, .notFound, [.polyvalentCation], [.daily, .bid, .tid]),
            d("sodium thiosulfate", nil, .notFound, [.sodiumThiosulfate], nil),
            d("lisinopril", nil, .notFound, [.aceInhibitorOrARB], [.daily, .q24h]),
            d("enalapril", nil, .notFound, [.aceInhibitorOrARB], [.daily, .bid]),
            d("ramipril", nil, .notFound, [.aceInhibitorOrARB], [.daily, .bid]),
            d("captopril", nil, .notFound, [.aceInhibitorOrARB], [.bid, .tid]),
            d("losartan", nil, .notFound, [.aceInhibitorOrARB], [.daily, .bid]),
            d("valsartan", nil, .notFound, [.aceInhibitorOrARB], [.daily, .bid]),
            d("irbesartan", nil, .notFound, [.aceInhibitorOrARB], [.daily]),
            d("candesartan", nil, .notFound, [.aceInhibitorOrARB], [.daily, .bid]),
            d("telmisartan", nil, .notFound, [.aceInhibitorOrARB], [.daily]),
        ]
    }()

    private static let byName: [String: Drug] = {
        var map: [String: Drug] = [:]
        for drug in drugs {
            map[drug.name] = drug
            for alias in drug.aliases { map[alias] = drug }
        }
        return map
    }()

    /// Case-insensitive lookup by generic name or alias; nil for a drug the engine does not know.
    public static func drug(named name: String) -> Drug? {
        if let drug = byName[name] { return drug }
        return byName[name.lowercased()]
    }
}
