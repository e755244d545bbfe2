/// Verification tags of clinical-spec 0.1, attached to every knowledge item.
public enum Verification: String, Sendable {
    case verified = "V"
    case secondary = "V2"
    case secondaryInterpretation = "V2-interpretation"
    case seed = "S"
    case notFound = "NF"
    case unverified = "UNVERIFIED"
    /// A project decision where no source gives a value (case-format.md "Project decisions",
    /// or an engineering choice named in the item's note). Shown as such, never as evidence.
    case projectDecision = "project-decision"
}

public struct Citation: Sendable {
    public let id: String
    public let short: String
    public let reference: String
}

/// The published sources the rules cite (clinical-spec section 14). Rules refer to them by id;
/// the assessment lists the ones it used under `references`.
public enum Sources {
    public static let seed1 = "seed-1"
    public static let seed2 = "seed-2"
    public static let reiter2011 = "reiter-2011"
    public static let jimenezGallo2015 = "jimenez-gallo-2015"
    public static let medscape = "medscape-calcinosis"
    public static let bartoli2016 = "bartoli-2016"
    public static let traineau2020 = "traineau-2020"
    public static let bone1992 = "bone-1992"
    public static let seymour2016 = "seymour-2016"
    public static let idsa2014 = "idsa-2014"
    public static let idsaMrsa2011 = "idsa-mrsa-2011"
    public static let valenzuela2016 = "valenzuela-2016"
    public static let valenzuela2020 = "valenzuela-2020"
    public static let baron2016 = "baron-2016"
    public static let paiHsu2018 = "pai-hsu-2018"
    public static let cruzDominguez2017 = "cruz-dominguez-2017"
    public static let robert2020 = "robert-2020"
    public static let sheehan2003 = "sheehan-2003"
    public static let gilman1990 = "gilman-1990"
    public static let rogers2010 = "rogers-2010"
    public static let shahi2014 = "shahi-2014"
    public static let wasserman2020 = "wasserman-2020"
    public static let chung2015 = "chung-2015"
    public static let balin2012 = "balin-2012"
    public static let denton2012 = "denton-eular-2012"
    public static let daoussis2012 = "daoussis-2012"
    public static let narvaez2019 = "narvaez-2019"
    public static let stsIntralesional2021 = "sts-intralesional-2021"
    public static let badawi = "badawi-sts-iv"
    public static let stsCalc = "sts-calc-nct01918904"
    public static let nzaps2023 = "nzaps-2023"
    public static let chamberlain2003 = "chamberlain-2003"
    public static let jpediatr1996 = "j-pediatr-1996"
    public static let etgMyopathies = "etg-myopathies"
    public static let pmc10557543 = "pmc10557543"
    public static let fdaColchicine = "fda-colchicine-label"
    public static let eurHeartJ2021 = "eur-heart-j-2021-colchicine"
    public static let ebmConsultWarfarinSmx = "warfarin-smx-monograph"
    public static let tetracyclineLabel = "tetracycline-label"
    public static let warfarinAntibioticGiBleed = "warfarin-antibiotic-monograph"
    public static let tetracyclineChelation = "tetracycline-chelation-monograph"
    public static let medsafeCeftriaxone = "medsafe-ceftriaxone-2011"
    public static let livertoxMinocycline = "livertox-minocycline"
    public static let mycophenolateLabel = "mycophenolate-label"
    public static let acrAahks2022 = "acr-aahks-2022"
    public static let cfpTable3 = "cfp-table-3"
    public static let kdigo = "kdigo-ckd"
    public static let caseFormat = "calcitrack-case-format"

    public static let all: [String: Citation] = {
        let list: [Citation] = [
            .init(id: seed1, short: "Martínez Camacho 2023 (Seed-1)", reference: "Martínez Camacho RJ et al. Calcinosis cutis complicated with recurrent tissue infections in a patient with limited cutaneous systemic sclerosis: a case report. Int J Med Sci Clin Res Stud 2023;3(12):3113-3117. doi:10.47191/ijmscrs/v3-i12-34"),
            .init(id: seed2, short: "Mourad & Louis 2021 (Seed-2)", reference: "Mourad YW, Louis MA. Calcinosis cutis in systemic sclerosis: a conundrum. Int Surg J 2021;8:2765-8. doi:10.18203/2349-2902.isj20213610"),
            .init(id: reiter2011, short: "Reiter 2011", reference: "Reiter N et al. Calcinosis cutis: part I. Diagnostic pathway. J Am Acad Dermatol 2011;65(1):1-12. doi:10.1016/j.jaad.2010.08.038"),
            .init(id: jimenezGallo2015, short: "Jiménez-Gallo 2015", reference: "Jiménez-Gallo D et al. Calcinosis cutis and calciphylaxis. Actas Dermosifiliogr 2015;106(10):785-94"),
            .init(id: medscape, short: "Medscape: Calcinosis cutis", reference: "Nunley JR. Calcinosis cutis: background; treatment & management. Medscape (updated 2020)"),
            .init(id: bartoli2016, short: "Bartoli 2016", reference: "Bartoli F et al. Calcinosis in systemic sclerosis: subsets, distribution and complications. Rheumatology (Oxford) 2016;55(9):1610-4. doi:10.1093/rheumatology/kew193"),
            .init(id: traineau2020, short: "Traineau 2020", reference: "Traineau H et al. Treatment of calcinosis cutis in systemic sclerosis and dermatomyositis: a review of the literature. J Am Acad Dermatol 2020;82(2):317-25"),
            .init(id: bone1992, short: "Bone 1992 (ACCP/SCCM)", reference: "Bone RC et al. ACCP/SCCM Consensus Conference definitions for sepsis and organ failure. Chest 1992;101(6):1644-55"),
            .init(id: seymour2016, short: "Seymour 2016 (Sepsis-3 qSOFA)", reference: "Seymour CW et al. Assessment of clinical criteria for sepsis. JAMA 2016;315(8):762-74 (PMC5433435); Singer M et al. JAMA 2016;315(8):801-10"),
            .init(id: idsa2014, short: "IDSA SSTI 2014", reference: "Stevens DL et al. Practice guidelines for the diagnosis and management of skin and soft tissue infections: 2014 update by the IDSA. Clin Infect Dis 2014;59(2):e10-52. doi:10.1093/cid/ciu296"),
            .init(id: idsaMrsa2011, short: "IDSA MRSA 2011", reference: "Liu C et al. IDSA clinical practice guidelines for the treatment of MRSA infections. Clin Infect Dis 2011;52(3):e18-55 (Table 3)"),
            .init(id: valenzuela2016, short: "Valenzuela 2016 (SCTC)", reference: "Valenzuela A et al. Calcinosis is associated with digital ulcers and osteoporosis in SSc: an SCTC study. Semin Arthritis Rheum 2016;46(3):344-9. doi:10.1016/j.semarthrit.2016.05.008"),
            .init(id: valenzuela2020, short: "Valenzuela 2020", reference: "Valenzuela A et al. Calcinosis is associated with ischemic manifestations and increased disability in SSc. Semin Arthritis Rheum 2020;50(5):891-6. PMC8205269"),
            .init(id: baron2016, short: "Baron 2016 (Canadian SRG)", reference: "Baron M et al. Calcinosis is associated with digital ischaemia in SSc: a longitudinal study. Rheumatology 2016;55(12):2148-55. PMC5144666"),
            .init(id: paiHsu2018, short: "Pai & Hsu 2018", reference: "Pai S, Hsu V. Mod Rheumatol 2018;28(3):518-22 (via Seed-2)"),
            .init(id: cruzDominguez2017, short: "Cruz-Domínguez 2017", reference: "Cruz-Domínguez MP et al. Clin Rheumatol 2017;36(1):111-117 (via Seed-1)"),
            .init(id: robert2020, short: "Róbert 2020", reference: "Róbert L et al. Epidemiology and treatment of calcinosis cutis: 13 years of experience. Indian J Dermatol 2020;65(2):105-11 (definitions as quoted by Seed-2)"),
            .init(id: sheehan2003, short: "Sheehan 2003", reference: "Sheehan P et al. Percent change in wound area of diabetic foot ulcers over a 4-week period is a robust predictor of complete healing. Diabetes Care 2003;26(6):1879-82"),
            .init(id: gilman1990, short: "Gilman 1990 / Jessup 2006", reference: "Gilman T. Parameter for measurement of wound closure. Wounds 1990; Jessup RL. Adv Skin Wound Care 2006 (comparison of 3 formulas)"),
            .init(id: rogers2010, short: "Rogers 2010", reference: "Rogers LC et al. Digital planimetry results in more accurate wound measurements. J Diabetes Sci Technol 2010;4(4):799-802. PMC2909508"),
            .init(id: shahi2014, short: "Shahi 2014", reference: "Shahi V, Wetter DA, Howe BM et al. Br J Dermatol 2014;170(5):1073-9 (via Seed-2)"),
            .init(id: wasserman2020, short: "Wasserman 2020", reference: "Wasserman PL et al. Radiol Case Rep 2020;15(7):1029-38 (via Seed-2)"),
            .init(id: chung2015, short: "Chung 2015 (SCTC score)", reference: "Chung L et al. Validation of a novel radiographic scoring system for calcinosis affecting the hands of patients with SSc. Arthritis Care Res 2015;67(3):425-30"),
            .init(id: balin2012, short: "Balin 2012 (Mayo)", reference: "Balin SJ et al. Calcinosis cutis occurring in association with ACTD: the Mayo Clinic experience with 78 patients. Arch Dermatol 2012;148(4):455-62"),
            .init(id: denton2012, short: "Denton, EULAR 2012 report", reference: "Denton C, EULAR 2012 (report in The Rheumatologist)"),
            .init(id: daoussis2012, short: "Daoussis 2012", reference: "Daoussis D et al. Rituximab-induced regression of CREST-related calcinosis. Semin Arthritis Rheum 2012;41(6):822-9"),
            .init(id: narvaez2019, short: "Narváez 2019", reference: "Narváez J et al. Effectiveness and safety of rituximab for refractory SSc-associated calcinosis. Autoimmun Rev 2019;18(3):262-9"),
            .init(id: stsIntralesional2021, short: "Clin Rheumatol 2021 (IL STS)", reference: "Intralesional sodium thiosulfate case. Clin Rheumatol 2021;40(7):2985-9. doi:10.1007/s10067-020-05523-4"),
            .init(id: badawi, short: "Badawi (IV STS)", reference: "Badawi AH et al. Dystrophic calcinosis cutis: treatment with intravenous sodium thiosulfate. Cutis (MDedge)"),
            .init(id: stsCalc, short: "STS-CALC NCT01918904", reference: "ClinicalTrials.gov NCT01918904 (topical sodium thiosulfate pilot RCT, withdrawn)"),
            .init(id: nzaps2023, short: "NZAPS 2023 review", reference: "Topical sodium thiosulfate literature review, NZAPS 2023 abstract"),
            .init(id: chamberlain2003, short: "Chamberlain 2003", reference: "Chamberlain AJ, Walker NP. Dermatol Surg 2003;29(9):968-70 (CO2 laser)"),
            .init(id: jpediatr1996, short: "J Pediatr 1996", reference: "IV methylprednisolone 30 mg/kg/day pulses in juvenile dermatomyositis. J Pediatr 1996;128:429-432"),
            .init(id: etgMyopathies, short: "eTG (myopathies)", reference: "Australian Therapeutic Guidelines (eTG), inflammatory myopathies: methylprednisolone 0.5-1 g IV daily for 3 days"),
            .init(id: pmc10557543, short: "Calciphylaxis risk table (PMC10557543)", reference: "Hierarchical calciphylaxis diagnosis table, PMC10557543, Table 3"),
            .init(id: fdaColchicine, short: "FDA colchicine label", reference: "Colchicine US prescribing information, drug-interaction dose table (via PDR / secondary)"),
            .init(id: eurHeartJ2021, short: "Eur Heart J 2021", reference: "Colchicine drug-interaction table, Eur Heart J 2021 (PMC8294843)"),
            .init(id: ebmConsultWarfarinSmx, short: "Warfarin–SMX monograph", reference: "Warfarin–sulfamethoxazole interaction monograph (EBM Consult; Hansten-type DDI monograph)"),
            .init(id: tetracyclineLabel, short: "Tetracycline-class label", reference: "Tetracycline-class prescribing information: anticoagulant interaction"),
            .init(id: warfarinAntibioticGiBleed, short: "Warfarin–antibiotic monograph", reference: "Warfarin with antibiotics: GI bleeding risk (Skyscape DDI monograph)"),
            .init(id: tetracyclineChelation, short: "Tetracycline chelation monograph", reference: "Tetracyclines with aluminium, calcium, magnesium or iron: chelation (Micromedex-style monograph)"),
            .init(id: medsafeCeftriaxone, short: "Medsafe 2011 (ceftriaxone–calcium)", reference: "Medsafe NZ 2011: ceftriaxone and calcium-containing IV solutions; MIMS label text"),
            .init(id: livertoxMinocycline, short: "LiverTox: minocycline", reference: "LiverTox NBK547956 (minocycline); BMJ 1996;312:169-72"),
            .init(id: mycophenolateLabel, short: "Mycophenolate label", reference: "Mycophenolate mofetil US prescribing information: new infections (via secondary)"),
            .init(id: acrAahks2022, short: "ACR/AAHKS 2022", reference: "ACR/AAHKS 2022 guideline for perioperative management of antirheumatic medication"),
            .init(id: cfpTable3, short: "Can Fam Physician MRSA table", reference: "Can Fam Physician, oral MRSA antibiotic table (Table 3)"),
            .init(id: kdigo, short: "KDIGO CKD staging", reference: "KDIGO CKD classification: G5 eGFR < 15, G4 15-29, G3 30-59 mL/min/1.73 m2"),
            .init(id: caseFormat, short: "CalciTrack case format v1", reference: "CalciTrack case format and assessment contract v1 (project decisions where the sources disagree or are silent)"),
        ]
        return Dictionary(uniqueKeysWithValues: list.map { ($0.id, $0) })
    }()

    /// "IDSA SSTI 2014; Bone 1992" for the `source` text of an alert or option.
    public static func shortText(_ ids: [String]) -> String {
        ids.map { all[$0]?.short ?? $0 }.joined(separator: "; ")
    }
}
