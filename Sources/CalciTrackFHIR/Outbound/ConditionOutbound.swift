import CalciTrackCore

/// Registry → FHIR R4 Condition, three sources (docs/fhir.md, "Identity"):
/// - the patient's `ssc` section → `ssc-<patient>`: systemic sclerosis;
/// - the patient's lesions → `calcinosis-<patient>`: calcinosis cutis;
/// - an infection episode → `<episode>`: cellulitis or septic arthritis.
public enum ConditionOutbound {
    static let clinicalSystem = CodeSystem.conditionClinical
    static func clinical(_ code: String) -> JSONValue { FHIR.concept([FHIR.coding(clinicalSystem, code)]) }
    static let confirmed = FHIR.concept([FHIR.coding(CodeSystem.conditionVerification, "confirmed")])
    static let problemList = JSONValue.array([FHIR.concept([FHIR.coding(CodeSystem.conditionCategory, "problem-list-item", "Problem List Item")])])
    static let encounterDiagnosis = JSONValue.array([FHIR.concept([FHIR.coding(CodeSystem.conditionCategory, "encounter-diagnosis", "Encounter Diagnosis")])])

    // MARK: Systemic sclerosis

    /// SSc codings for a subtype. SNOMED 89155008 is verified (clinical-spec 12.1) and always
    /// first, so a search by it finds every SSc patient; the subtype's SNOMED code follows where
    /// 12.1 has a mapping (limited 128459005, diffuse 128460000: "mapping only; FSN not verified"),
    /// then ICD-10-CM (12.2: limited/CREST M34.1, diffuse M34.0 by convention, otherwise M34.9).
    public static func sscCodings(subtype: String?) -> [JSONValue] {
        var codings = [FHIR.coding(CodeSystem.snomed, "89155008", "Systemic sclerosis (disorder)")]
        switch subtype {
        case "limited":
            codings.append(FHIR.coding(CodeSystem.snomed, "128459005", "Limited scleroderma"))
            codings.append(FHIR.coding(CodeSystem.icd10cm, "M34.1", "CR(E)ST syndrome"))
        case "diffuse":
            codings.append(FHIR.coding(CodeSystem.snomed, "128460000", "Diffuse scleroderma"))
            codings.append(FHIR.coding(CodeSystem.icd10cm, "M34.0", "Progressive systemic sclerosis"))
        case "sine", "overlap":
            // No standard code for these subtypes (clinical-spec 12.1-12.3: NF): a local code keeps
            // them through an export and import (Inbound reads it back).
            codings.append(FHIR.coding(CodeSystem.local, "ssc-\(subtype!)", subtype == "sine" ? "Systemic sclerosis sine scleroderma" : "Systemic sclerosis, overlap"))
            codings.append(FHIR.coding(CodeSystem.icd10cm, "M34.9", "Systemic sclerosis, unspecified"))
        default:
            codings.append(FHIR.coding(CodeSystem.icd10cm, "M34.9", "Systemic sclerosis, unspecified"))
        }
        return codings
    }

    /// SNOMED codes of SSc features where clinical-spec 12.1 gives one (HPO mappings); the rest as text.
    static let featureCodes: [String: (String, String)] = [
        "raynaud": ("266261006", "Raynaud phenomenon"),
        "sclerodactyly": ("201051000", "Sclerodactyly"),
        "telangiectasia": ("247479008", "Telangiectasia"),
        "osteoporosis": ("64859006", "Osteoporosis"),
        "pulmonary-arterial-hypertension": ("11399002", "Pulmonary arterial hypertension"),
    ]

    static let antibodyNames = ["scl70": "anti-Scl-70", "centromere": "anti-centromere", "pmScl": "anti-PM-Scl", "rnaPolIII": "anti-RNA polymerase III"]

    /// The SSc Condition of a patient, or nil when the patient has no `ssc` section or its
    /// subtype is `none` (the patient does not have SSc).
    public static func ssc(patient: JSONValue) -> JSONValue? {
        guard let section = patient["ssc"], case .object = section, let pid = patient["id"]?.stringValue else { return nil }
        let subtype = section["subtype"]?.stringValue
        if subtype == "none" { return nil }
        let subtypeText = ["limited": "limited cutaneous", "diffuse": "diffuse cutaneous", "sine": "sine scleroderma", "overlap": "overlap"][subtype ?? ""]
        var evidence: [JSONValue] = []
        for feature in section["features"]?.arrayValue ?? [] {
            guard let name = feature.stringValue else { continue }
            if let (code, display) = featureCodes[name] {
                evidence.append(FHIR.object([("code", .array([FHIR.concept([FHIR.coding(CodeSystem.snomed, code, display)], text: name)]))]))
            } else {
                evidence.append(FHIR.object([("code", .array([FHIR.concept([], text: name)]))]))
            }
        }
        if case .object(let antibodies)? = section["antibodies"] {
            for (key, value) in antibodies.entries {
                guard let status = value.stringValue, status != "unknown" else { continue }
                evidence.append(FHIR.object([("code", .array([FHIR.concept([], text: "\(antibodyNames[key] ?? key) \(status)")]))]))
            }
        }
        return FHIR.object([
            ("resourceType", "Condition"), ("id", .string(ResourceID.sscCondition(patientID: pid))), ("meta", FHIR.meta(patient)),
            ("clinicalStatus", clinical("active")), ("verificationStatus", confirmed), ("category", problemList),
            ("code", FHIR.concept(sscCodings(subtype: subtype), text: "Systemic sclerosis" + (subtypeText.map { ", \($0)" } ?? ""))),
            ("subject", FHIR.reference("Patient", pid)),
            // diagnosisDate may be a bare year, which FHIR dateTime allows.
            ("onsetDateTime", section["diagnosisDate"]),
            ("evidence", evidence.isEmpty ? nil : .array(evidence)),
        ])
    }

    // MARK: Calcinosis cutis

    /// ICD-10-CM L94.2 (12.2, V) and a local code: SNOMED has no calcinosis cutis concept (12.1 NF).
    public static let calcinosisCodings = [
        FHIR.coding(CodeSystem.icd10cm, "L94.2", "Calcinosis cutis"),
        FHIR.local("calcinosis-cutis", "Calcinosis cutis"),
    ]

    /// The calcinosis cutis Condition of a patient with lesions (nil without any). Active while
    /// any lesion is active; body sites are the lesions' sites. Its version is the patient's.
    public static func calcinosis(patient: JSONValue, lesions: [JSONValue]) -> JSONValue? {
        guard !lesions.isEmpty, let pid = patient["id"]?.stringValue else { return nil }
        let active = lesions.contains { $0["status"]?.stringValue == "active" }
        var sites: [String] = []
        for lesion in lesions {
            let text = BodyStructureOutbound.siteText(lesion)
            if !sites.contains(text) { sites.append(text) }
        }
        return FHIR.object([
            ("resourceType", "Condition"), ("id", .string(ResourceID.calcinosisCondition(patientID: pid))), ("meta", FHIR.meta(patient)),
            ("clinicalStatus", clinical(active ? "active" : "resolved")), ("verificationStatus", confirmed), ("category", problemList),
            ("code", FHIR.concept(calcinosisCodings, text: "Calcinosis cutis")),
            ("bodySite", .array(sites.map { FHIR.concept([], text: $0) })),
            ("subject", FHIR.reference("Patient", pid)),
            ("evidence", .array(lesions.compactMap { $0["id"]?.stringValue }.map { FHIR.object([("detail", .array([FHIR.reference("BodyStructure", $0)]))]) })),
        ])
    }

    // MARK: Infection episodes

    public enum InfectionKind: Sendable { case cellulitis, septicArthritis }

    /// The registry records no diagnosis per episode: a joint-fluid culture marks septic
    /// arthritis, anything else is coded as cellulitis (the soft-tissue infection of calcinosis).
    public static func infectionKind(_ episode: JSONValue) -> InfectionKind {
        episode["cultureSource"]?.stringValue == "joint-fluid" ? .septicArthritis : .cellulitis
    }

    static let lowerLimb: Set<String> = ["hip", "thigh", "knee", "lower-leg", "ankle", "foot"]
    static let upperLimb: Set<String> = ["shoulder", "upper-arm", "elbow", "forearm", "wrist", "hand"]

    /// SNOMED and ICD-10-CM codings of an episode; the ICD code uses the lesion's site and
    /// laterality where clinical-spec 12.2 lists a code for them.
    public static func infectionCodings(_ episode: JSONValue, lesion: JSONValue?) -> [JSONValue] {
        let site = lesion?["site"]?.stringValue
        let side = lesion?["laterality"]?.stringValue
        switch infectionKind(episode) {
        case .cellulitis:
            let icd: (String, String)
            if let site, lowerLimb.contains(site) {
                icd = side == "right" ? ("L03.115", "Cellulitis of right lower limb")
                    : side == "left" ? ("L03.116", "Cellulitis of left lower limb") : ("L03.119", "Cellulitis of unspecified part of limb")
            } else if let site, upperLimb.contains(site), side == "right" || side == "left" {
                icd = side == "right" ? ("L03.113", "Cellulitis of right upper limb") : ("L03.114", "Cellulitis of left upper limb")
            } else {
                icd = ("L03.90", "Cellulitis, unspecified")
            }
            return [FHIR.coding(CodeSystem.snomed, "128045006", "Cellulitis"), FHIR.coding(CodeSystem.icd10cm, icd.0, icd.1)]
        case .septicArthritis:
            let organism = episode["organism"]?.stringValue?.lowercased() ?? ""
            var icd = ("M00.9", "Pyogenic arthritis, unspecified")
            if site == "knee" {
                if organism.contains("staph") {
                    if side == "right" { icd = ("M00.061", "Staphylococcal arthritis, right knee") }
                    if side == "left" { icd = ("M00.062", "Staphylococcal arthritis, left knee") }
                } else if organism.contains("strep") {
                    icd = side == "right" ? ("M00.261", "Other streptococcal arthritis, right knee")
                        : side == "left" ? ("M00.262", "Other streptococcal arthritis, left knee") : ("M00.269", "Other streptococcal arthritis, unspecified knee")
                }
            }
            return [FHIR.coding(CodeSystem.snomed, "372939007", "Septic arthritis"), FHIR.coding(CodeSystem.icd10cm, icd.0, icd.1)]
        }
    }

    public static func infection(_ episode: JSONValue, context: OutboundContext) -> JSONValue {
        let id = episode["id"]?.stringValue ?? ""
        let pid = episode["patientId"]?.stringValue ?? ""
        let lesionID = episode["lesionId"]?.stringValue
        let lesion = lesionID.flatMap { context.lesions[$0] }
        let outcome = episode["outcome"]?.stringValue
        let resolved = episode["resolvedDate"]?.stringValue
        // condition-clinical: an abatement date needs inactive/resolved/remission (con-4).
        let status: String? = resolved != nil ? (outcome == "resolved" || outcome == nil ? "resolved" : "inactive")
            : outcome == "ongoing" ? "active" : outcome == "recurred" ? "recurrence"
            : outcome == "resolved" ? "resolved" : outcome == "amputation" || outcome == "death" ? "inactive" : nil
        var evidence: [JSONValue] = []
        if episode["mrsa"]?.boolValue == true {
            evidence.append(FHIR.object([("code", .array([FHIR.concept([FHIR.coding(CodeSystem.icd10cm, "B95.62", "Methicillin resistant Staphylococcus aureus infection as the cause of diseases classified elsewhere")])]))]))
        } else if episode["mrsa"]?.boolValue == false, episode["organism"]?.stringValue?.lowercased().contains("aureus") == true {
            evidence.append(FHIR.object([("code", .array([FHIR.concept([FHIR.coding(CodeSystem.icd10cm, "B95.61", "Methicillin susceptible Staphylococcus aureus infection as the cause of diseases classified elsewhere")])]))]))
        }
        if let organism = episode["organism"]?.stringValue {
            evidence.append(FHIR.object([("code", .array([FHIR.concept([], text: "organism: \(organism)")]))]))
        }
        if let lesionID { evidence.append(FHIR.object([("detail", .array([FHIR.reference("BodyStructure", lesionID)]))])) }
        var notes: [String] = []
        if let s = episode["cultureSource"]?.stringValue { notes.append("culture source: \(s)") }
        if let s = episode["cultureResult"]?.stringValue { notes.append("culture result: \(s)") }
        if let drug = episode["antibiotic"]?.stringValue {
            var text = "antibiotic: \(drug)"
            if let r = episode["antibioticRoute"]?.stringValue { text += " \(r)" }
            if let s = episode["antibioticStart"]?.stringValue { text += " from \(s)" }
            if let s = episode["antibioticStop"]?.stringValue { text += " to \(s)" }
            notes.append(text)
        }
        if let outcome { notes.append("outcome: \(outcome)") }
        if let n = episode["note"]?.stringValue { notes.append(n) }
        let kind = infectionKind(episode)
        return FHIR.object([
            ("resourceType", "Condition"), ("id", .string(id)), ("meta", FHIR.meta(episode)),
            ("clinicalStatus", status.map(clinical)), ("verificationStatus", confirmed), ("category", encounterDiagnosis),
            ("code", FHIR.concept(infectionCodings(episode, lesion: lesion), text: kind == .cellulitis ? "Cellulitis" : "Septic arthritis")),
            ("bodySite", lesion.map { .array([FHIR.concept([], text: BodyStructureOutbound.siteText($0))]) }),
            ("subject", FHIR.reference("Patient", pid)),
            ("onsetDateTime", episode["onset"]), ("abatementDateTime", FHIR.string(resolved)),
            ("recordedDate", episode["createdAt"]),
            ("evidence", evidence.isEmpty ? nil : .array(evidence)),
            ("note", notes.isEmpty ? nil : .array(notes.map(FHIR.annotation))),
        ])
    }
}
