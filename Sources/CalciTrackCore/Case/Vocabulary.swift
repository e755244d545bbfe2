/// The fixed vocabularies of case format v1 (../shared/case-format.md). Raw values are the
/// public JSON spellings: never rename one.

public protocol CaseVocabulary: RawRepresentable, CaseIterable, Sendable, Hashable where RawValue == String {}

extension CaseVocabulary {
    /// "female, male, other, unknown" for error messages.
    public static var allowedList: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

public enum Sex: String, CaseVocabulary { case female, male, other, unknown }

public enum SScSubtype: String, CaseVocabulary { case limited, diffuse, sine, overlap, none, unknown }

public enum AntibodyStatus: String, CaseVocabulary { case positive, negative, unknown }

public enum SScFeature: String, CaseVocabulary {
    case raynaud, sclerodactyly, telangiectasia
    case digitalUlcers = "digital-ulcers"
    case digitalIschemia = "digital-ischemia"
    case acroOsteolysis = "acro-osteolysis"
    case pulmonaryArterialHypertension = "pulmonary-arterial-hypertension"
    case interstitialLungDisease = "interstitial-lung-disease"
    case osteoporosis, dysphagia
    case saltAndPepper = "salt-and-pepper"
}

public enum ConnectiveTissueDisease: String, CaseVocabulary {
    case dermatomyositis
    case juvenileDermatomyositis = "juvenile-dermatomyositis"
    case sle, mctd, sjogren, other
}

public enum ExposureKind: String, CaseVocabulary {
    case calciumGluconateExtravasation = "calcium-gluconate-extravasation"
    case calciumChlorideExtravasation = "calcium-chloride-extravasation"
    case calciumElectrodePaste = "calcium-electrode-paste"
    case phosphateInfusion = "phosphate-infusion"
    case paraAminosalicylicAcid = "para-aminosalicylic-acid"
    case tumorLysis = "tumor-lysis"
    case transplant, other
}

public enum LabTest: String, CaseVocabulary {
    case calcium, calciumCorrected, calciumIonized, phosphate, creatinine, egfr, wbc, bands, crp, albumin, pth, inr, paco2
}

public enum Frequency: String, CaseVocabulary {
    case once, daily, bid, tid, qid, q4h, q6h, q8h, q12h, q24h, weekly
    case every2Weeks = "every-2-weeks"
    case monthly

    /// Administrations per day, used to turn a dose into a daily dose. `once` has none.
    public var perDay: Double? {
        switch self {
        case .once: nil
        case .daily, .q24h: 1
        case .bid, .q12h: 2
        case .tid, .q8h: 3
        case .qid, .q6h: 4
        case .q4h: 6
        case .weekly: 1.0 / 7
        case .every2Weeks: 1.0 / 14
        case .monthly: 12.0 / 365
        }
    }
}

public enum Route: String, CaseVocabulary { case oral, intravenous, subcutaneous, topical, intralesional }

public enum BodySite: String, CaseVocabulary {
    case hand, finger, thumb, wrist, forearm, elbow
    case upperArm = "upper-arm"
    case shoulder, face, jaw, trunk, buttock, hip, thigh, knee
    case lowerLeg = "lower-leg"
    case ankle, foot, toe, other

    /// Sites over or beside a joint, where ultrasound answers "joint or soft tissue only?" (Seed-1).
    public var isPeriarticular: Bool {
        switch self {
        case .finger, .thumb, .wrist, .elbow, .shoulder, .hip, .knee, .ankle, .toe: true
        default: false
        }
    }
}

public enum Laterality: String, CaseVocabulary { case left, right, midline, bilateral }

public enum Morphology: String, CaseVocabulary { case mousse, stone, network, plaque, unknown }

public enum VisitKind: String, CaseVocabulary {
    case clinic
    case woundCare = "wound-care"
    case hospital, telephone, other
}

public enum ImagingModality: String, CaseVocabulary { case radiograph, ultrasound, ct, mri }
