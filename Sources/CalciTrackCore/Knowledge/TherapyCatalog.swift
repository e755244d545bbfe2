/// Treatment options for SSc calcinosis (clinical-spec 7): regimens as reported, not
/// recommendations. No drug is proven effective; evidence levels are Traineau 2020's (Oxford)
/// where it graded the agent, else nil with the kind of evidence in `evidence`.
public struct TherapyEntry: Sendable {
    public enum Kind: String, Sendable { case pharmacological, procedure, supportive }
    public enum Stance: String, Sendable {
        /// listed as an option
        case option
        /// the evidence says not to use it (low-dose warfarin, Traineau 2020 level IB)
        case avoid
    }

    public let id: String
    public let kind: Kind
    public let name: String
    public let regimen: String?
    public let evidenceLevel: String?
    public let evidence: String
    public let stance: Stance
    /// Drug names whose active use makes this option "current".
    public let drugs: [String]
    /// Immunosuppressive options wait while a severe infection or positive sepsis screen is active.
    public let immunosuppressive: Bool
    public let sources: [String]
    public let tag: Verification
}

public enum TherapyCatalog {
    public static let entries: [TherapyEntry] = [
        .init(id: "diltiazem", kind: .pharmacological, name: "Diltiazem", regimen: "60 mg three times daily; high dose 3 mg/kg/day reported",
              evidenceLevel: "IV", evidence: "most used; Mayo partial response 9/17; effective at high, not low, doses", stance: .option,
              drugs: ["diltiazem"], immunosuppressive: false, sources: [Sources.traineau2020, Sources.seed1, Sources.balin2012, Sources.denton2012], tag: .seed),
        .init(id: "bisphosphonates", kind: .pharmacological, name: "Bisphosphonates", regimen: "e.g. zoledronic acid 4 mg IV every 3-4 months for 1 year (reported); other agents' regimens not found",
              evidenceLevel: "IV", evidence: "might be useful; etidronate may cause paradoxical hyperphosphataemia", stance: .option,
              drugs: ["zoledronic acid", "alendronate", "pamidronate", "etidronate"], immunosuppressive: false, sources: [Sources.traineau2020, Sources.medscape], tag: .secondary),
        .init(id: "rituximab", kind: .pharmacological, name: "Rituximab", regimen: "1 g × 2, two weeks apart, per cycle (mean 3.1 cycles); or 375 mg/m² weekly × 4",
              evidenceLevel: "IV", evidence: "promising in DM and SSc; Narváez 2019: 4/8 clinical, 2/8 radiological responders", stance: .option,
              drugs: ["rituximab"], immunosuppressive: true, sources: [Sources.traineau2020, Sources.narvaez2019, Sources.daoussis2012], tag: .verified),
        .init(id: "sodium-thiosulfate-intralesional", kind: .pharmacological, name: "Sodium thiosulfate, intralesional", regimen: "1 mL/cm² of lesion (250 mg/mL), monthly × 3 sessions in one case",
              evidenceLevel: "IV", evidence: "promising; transient burning", stance: .option,
              drugs: [], immunosuppressive: false, sources: [Sources.traineau2020, Sources.seed1, Sources.stsIntralesional2021], tag: .seed),
        .init(id: "sodium-thiosulfate-topical", kind: .pharmacological, name: "Sodium thiosulfate, topical", regimen: "25 % in zinc oxide or cream, twice daily",
              evidenceLevel: nil, evidence: "review of 48 patients: 19 % complete, 60 % partial, 21 % no response; pilot RCT withdrawn", stance: .option,
              drugs: [], immunosuppressive: false, sources: [Sources.stsCalc, Sources.nzaps2023, Sources.medscape], tag: .secondary),
        .init(id: "sodium-thiosulfate-intravenous", kind: .pharmacological, name: "Sodium thiosulfate, intravenous", regimen: "12.5 g IV three times weekly over 30 min (one DM/SLE case)",
              evidenceLevel: nil, evidence: "case report: recurrence on stopping, response on restarting", stance: .option,
              drugs: [], immunosuppressive: false, sources: [Sources.badawi], tag: .verified),
        .init(id: "tnf-inhibitors", kind: .pharmacological, name: "TNF inhibitors (infliximab)", regimen: nil,
              evidenceLevel: "IV", evidence: "possibly useful in juvenile dermatomyositis; dose not found", stance: .option,
              drugs: ["infliximab"], immunosuppressive: true, sources: [Sources.traineau2020], tag: .notFound),
        .init(id: "colchicine", kind: .pharmacological, name: "Colchicine", regimen: "1 mg/day orally",
              evidenceLevel: nil, evidence: "anti-inflammatory; case reports (Seed-2 escalated the dose)", stance: .option,
              drugs: ["colchicine"], immunosuppressive: false, sources: [Sources.seed1, Sources.seed2], tag: .seed),
        .init(id: "minocycline", kind: .pharmacological, name: "Minocycline", regimen: "50-100 mg/day for 4-8 months",
              evidenceLevel: nil, evidence: "improvement in 8/9 limited cutaneous SSc patients", stance: .option,
              drugs: ["minocycline"], immunosuppressive: false, sources: [Sources.denton2012, Sources.seed1], tag: .verified),
        .init(id: "probenecid", kind: .pharmacological, name: "Probenecid", regimen: "1.5 g/day (reported)",
              evidenceLevel: nil, evidence: "case reports", stance: .option,
              drugs: ["probenecid"], immunosuppressive: false, sources: [Sources.seed2], tag: .secondary),
        .init(id: "ceftriaxone", kind: .pharmacological, name: "Ceftriaxone", regimen: "2 g/day IV for 20 days (reported)",
              evidenceLevel: nil, evidence: "case reports; proposed to bind calcium salts", stance: .option,
              drugs: ["ceftriaxone"], immunosuppressive: false, sources: [Sources.seed2], tag: .secondary),
        .init(id: "ivig", kind: .pharmacological, name: "Intravenous immunoglobulin", regimen: nil,
              evidenceLevel: nil, evidence: "case reports, adjunct; dose not found", stance: .option,
              drugs: ["immune globulin"], immunosuppressive: false, sources: [Sources.seed2], tag: .notFound),
        .init(id: "aluminium-hydroxide", kind: .pharmacological, name: "Aluminium hydroxide", regimen: nil,
              evidenceLevel: nil, evidence: "lowers phosphate; case reports; aluminium toxicity risk in renal insufficiency; dose not found", stance: .option,
              drugs: ["aluminum hydroxide"], immunosuppressive: false, sources: [Sources.seed2, Sources.medscape], tag: .notFound),
        .init(id: "corticosteroids-systemic", kind: .pharmacological, name: "Systemic corticosteroids", regimen: "prednisone 2 mg/kg/day; IV methylprednisolone pulses 30 mg/kg/day (max 1 g) then oral prednisone",
              evidenceLevel: nil, evidence: "data mainly from (juvenile) dermatomyositis calcinosis", stance: .option,
              drugs: ["prednisone", "prednisolone", "methylprednisolone"], immunosuppressive: true, sources: [Sources.seed1, Sources.jpediatr1996], tag: .seed),
        .init(id: "corticosteroids-intralesional", kind: .pharmacological, name: "Intralesional corticosteroids", regimen: nil,
              evidenceLevel: nil, evidence: "may relieve inflamed lesions; dose not found", stance: .option,
              drugs: [], immunosuppressive: false, sources: [Sources.seed2, Sources.medscape], tag: .seed),
        .init(id: "warfarin-low-dose", kind: .pharmacological, name: "Low-dose warfarin", regimen: "1 mg/day (reported)",
              evidenceLevel: "IB", evidence: "low-dose warfarin should not be used (Traineau 2020, level IB); Seed-1 stopped warfarin for lack of effect", stance: .avoid,
              drugs: [], immunosuppressive: false, sources: [Sources.traineau2020, Sources.medscape, Sources.seed1], tag: .verified),
        .init(id: "analgesia", kind: .supportive, name: "Analgesia", regimen: "NSAIDs, opioids", evidenceLevel: nil, evidence: "symptomatic", stance: .option,
              drugs: [], immunosuppressive: false, sources: [Sources.seed1], tag: .seed),
        .init(id: "surgical-excision", kind: .procedure, name: "Surgical excision", regimen: "large, localised, symptomatic lesions, especially on tendons, vessels and nerves",
              evidenceLevel: nil, evidence: "Mayo: complete response 22/28; risks: slow healing, infection, reduced range of motion", stance: .option,
              drugs: [], immunosuppressive: false, sources: [Sources.seed1, Sources.seed2, Sources.balin2012], tag: .verified),
        .init(id: "dental-burr", kind: .procedure, name: "High-speed dental burr", regimen: "instead of a scalpel", evidenceLevel: nil,
              evidence: "better results, faster healing, less pain, better function", stance: .option,
              drugs: [], immunosuppressive: false, sources: [Sources.seed1], tag: .seed),
        .init(id: "co2-laser", kind: .procedure, name: "CO2 laser", regimen: nil, evidenceLevel: nil,
              evidence: "precise, less collateral damage; CREST case remission", stance: .option,
              drugs: [], immunosuppressive: false, sources: [Sources.seed1, Sources.chamberlain2003], tag: .seed),
        .init(id: "eswl", kind: .procedure, name: "Extracorporeal shock-wave lithotripsy", regimen: nil, evidenceLevel: nil,
              evidence: "fragments deposits; pain control", stance: .option,
              drugs: [], immunosuppressive: false, sources: [Sources.seed1, Sources.seed2], tag: .seed),
        .init(id: "npwt", kind: .procedure, name: "Negative-pressure wound therapy", regimen: "after wide en-bloc excision of lower-extremity lesions", evidenceLevel: nil,
              evidence: "Seed-2: moderate success with wound vac", stance: .option,
              drugs: [], immunosuppressive: false, sources: [Sources.seed2], tag: .seed),
        .init(id: "serial-debridement", kind: .procedure, name: "Serial debridement with removal of calcium deposits", regimen: "weekly, later bimonthly (Seed-2)", evidenceLevel: nil,
              evidence: "Seed-2: healing after 23 months", stance: .option,
              drugs: [], immunosuppressive: false, sources: [Sources.seed2], tag: .seed),
        .init(id: "flap-reconstruction", kind: .procedure, name: "Flap reconstruction", regimen: "myocutaneous flaps for severe hand lesions", evidenceLevel: nil,
              evidence: "reported", stance: .option, drugs: [], immunosuppressive: false, sources: [Sources.seed2], tag: .seed),
        .init(id: "general-measures", kind: .supportive, name: "General measures", regimen: "avoid trauma; treat Raynaud's and digital ulcers; multidisciplinary care; hygiene of draining lesions",
              evidenceLevel: nil, evidence: "expert practice", stance: .option, drugs: [], immunosuppressive: false, sources: [Sources.seed1, Sources.seed2], tag: .seed),
    ]
}
