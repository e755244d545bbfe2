import CalciTrackCore

/// The codes Inbound recognises, each with its source. Only codes clinical-spec section 12 lists
/// (or FHIR's own value sets, named where used) are read; nothing is matched by guesswork on
/// code numbers.
enum InboundCodes {
    static let icd11 = "http://id.who.int/icd/release/11/mms"
    static let v2IdentifierType = "http://terminology.hl7.org/CodeSystem/v2-0203"
    static let v2DiagnosticService = "http://terminology.hl7.org/CodeSystem/v2-0074"
    static let dicom = "http://dicom.nema.org/resources/ontology/DCM"
    static let timingAbbreviation = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
    static let extensionBase = CodeSystem.extensionBase
    static let mrnSystemPrefix = CodeSystem.mrnPrefix
    /// R4 core extension: a Reference(BodyStructure) on a bodySite CodeableConcept.
    static let bodySiteExtension = "http://hl7.org/fhir/StructureDefinition/bodySite"
    /// R4 core extension on Procedure: the BodyStructure operated on.
    static let procedureTargetBodyStructure = "http://hl7.org/fhir/StructureDefinition/procedure-targetBodyStructure"

    // MARK: Conditions (clinical-spec 12.1 SNOMED CT, 12.2 ICD-10-CM, 12.3 ICD-11)

    /// SSc and its subtype as a case-format `ssc.subtype` (nil: SSc, subtype not stated).
    enum SScMatch: Equatable { case ssc(subtype: String?) }

    static func ssc(_ codings: [ResourceReader.Coding]) -> SScMatch? {
        var found: SScMatch?
        for c in codings {
            guard let code = c.code else { continue }
            var match: SScMatch?
            switch c.system {
            case CodeSystem.snomed:
                switch code {
                case "89155008": match = .ssc(subtype: nil)                       // 12.1 Systemic sclerosis (V)
                case "128459005", "31848007", "62382002": match = .ssc(subtype: "limited") // 12.1 limited / CREST (mapping)
                case "128460000": match = .ssc(subtype: "diffuse")                // 12.1 diffuse (mapping)
                default: break
                }
            case CodeSystem.icd10cm:
                switch code {
                case "M34.1": match = .ssc(subtype: "limited")                    // 12.2 CR(E)ST syndrome
                case "M34.0": match = .ssc(subtype: "diffuse")                    // 12.2 progressive SSc (convention)
                case "M34.9", "M34.81", "M34.82", "M34.83", "M34.89": match = .ssc(subtype: nil) // 12.2
                default: break
                }
            case icd11:
                switch code {
                case "4A42.2": match = .ssc(subtype: "limited")                   // 12.3
                case "4A42.1": match = .ssc(subtype: "diffuse")                   // 12.3
                case "4A42", "4A42.0", "4A42.Z": match = .ssc(subtype: nil)       // 12.3
                default: break
                }
            case CodeSystem.local:
                if code == "systemic-sclerosis" { match = .ssc(subtype: nil) }
                // Subtypes without a standard code (clinical-spec 12.1: NF), as Outbound writes them.
                if code == "ssc-sine" { match = .ssc(subtype: "sine") }
                if code == "ssc-overlap" { match = .ssc(subtype: "overlap") }
            default: break
            }
            // The most specific coding wins: a subtype beats plain SSc.
            if case .ssc(let s)? = match, s != nil || found == nil { found = match }
        }
        return found
    }

    /// Calcinosis cutis: ICD-10-CM L94.2 (12.2), ICD-11 EB90.4 / EB90.40 (12.3), the local code
    /// (SNOMED CT has none, 12.1 NF).
    static func isCalcinosisCutis(_ codings: [ResourceReader.Coding]) -> Bool {
        codings.contains { c in
            (c.system == CodeSystem.icd10cm && c.code == "L94.2")
                || (c.system == icd11 && (c.code == "EB90.4" || c.code == "EB90.40"))
                || (c.system == CodeSystem.local && c.code == "calcinosis-cutis")
        }
    }

    enum InfectionKind: String { case cellulitis, septicArthritis = "septic arthritis", abscess = "cutaneous abscess" }

    /// Infections of a lesion: cellulitis SNOMED 128045006 (12.1 V), ICD-10-CM L03.* (12.2),
    /// ICD-11 1B70.* (12.3); septic arthritis SNOMED 372939007 (12.1), ICD-10-CM M00.* (12.2),
    /// ICD-11 FA10.0 (12.3); cutaneous abscess of a limb ICD-10-CM L02.41x (12.2).
    static func infection(_ codings: [ResourceReader.Coding]) -> InfectionKind? {
        for c in codings {
            guard let code = c.code else { continue }
            switch c.system {
            case CodeSystem.snomed:
                if code == "128045006" { return .cellulitis }
                if code == "372939007" { return .septicArthritis }
            case CodeSystem.icd10cm:
                if code.hasPrefix("L03.") { return .cellulitis }
                if code.hasPrefix("M00.") || code == "M00" { return .septicArthritis }
                if code.hasPrefix("L02.41") { return .abscess }
            case icd11:
                if code == "1B70" || code.hasPrefix("1B70.") { return .cellulitis }
                if code == "FA10.0" { return .septicArthritis }
            default: break
            }
        }
        return nil
    }

    /// SSc features (case-format `ssc.features`) from their SNOMED CT mappings (12.1, HPO) and
    /// ICD-10-CM codes (12.2).
    static func sscFeature(_ codings: [ResourceReader.Coding]) -> String? {
        for c in codings {
            guard let code = c.code else { continue }
            switch (c.system, code) {
            case (CodeSystem.snomed, "266261006"), (CodeSystem.icd10cm, "I73.00"), (CodeSystem.icd10cm, "I73.01"): return "raynaud"
            case (CodeSystem.snomed, "201051000"): return "sclerodactyly"
            case (CodeSystem.snomed, "247479008"), (CodeSystem.snomed, "112641009"): return "telangiectasia"
            case (CodeSystem.snomed, "64859006"): return "osteoporosis"
            case (CodeSystem.snomed, "11399002"), (CodeSystem.snomed, "697898008"), (CodeSystem.snomed, "70995007"): return "pulmonary-arterial-hypertension"
            default: continue
            }
        }
        return nil
    }

    /// Dependence on renal dialysis, ICD-10-CM Z99.2 (12.2) → `history.dialysis`.
    static func isDialysis(_ codings: [ResourceReader.Coding]) -> Bool {
        codings.contains { $0.system == CodeSystem.icd10cm && $0.code == "Z99.2" }
    }

    // MARK: Observations (clinical-spec 12.4 LOINC, 12.6 UCUM)

    enum Vital: String { case temperature, heartRate, respiratoryRate, systolic, weight }

    static let vitalLOINC: [String: Vital] = [
        "8310-5": .temperature,     // Body temperature (12.4, V)
        "8867-4": .heartRate,       // Heart rate (12.4, V)
        "9279-1": .respiratoryRate, // Respiratory rate (12.4, V)
        "8480-6": .systolic,        // Systolic blood pressure (12.4, V)
        "29463-7": .weight,         // Body weight (12.4, V)
    ]
    static let bloodPressurePanel = "85354-9"   // 12.4: systolic 8480-6 within it
    static let diastolic = "8462-4"             // 12.4: not stored by the registry
    static let woundPanel = "72287-6"           // 12.4 Wound size panel (V)

    /// Wound size components (12.4, HL7 wound IG) → measurement body keys.
    static let woundComponent: [String: String] = [
        "39126-8": "lengthCm",  // Length of Wound
        "39125-0": "widthCm",   // Width of Wound
        "39127-6": "depthCm",   // Depth of Wound
        "89260-4": "areaCm2",   // Area of wound
    ]
    /// Measurement values without a LOINC code (12.4 NF) carried as local codes.
    static let localWoundComponent: [String: String] = ["wound-perimeter": "perimeterCm", "wound-healed": "healed", "pain-vas": "painVas"]

    /// LOINC → lab test, derived from `LabCodes` (the codes the registry stores, 12.4) over
    /// every unit the engine accepts, so the two tables cannot disagree.
    static let labTestByLOINC: [String: LabTest] = {
        var map: [String: LabTest] = [:]
        for test in LabTest.allCases {
            for unit in Units.accepted(for: test) {
                if let code = LabCodes.loinc(for: test, unit: unit) { map[code.loinc] = test }
            }
        }
        return map
    }()

    // MARK: Medications

    /// SNOMED CT route codes of FHIR R4's value set http://hl7.org/fhir/ValueSet/route-codes.
    static let routeSNOMED: [String: Route] = [
        "26643006": .oral, "47625008": .intravenous, "34206005": .subcutaneous, "6064005": .topical, "372464004": .intralesional,
    ]

    /// v3-GTSAbbreviation timing codes → case-format frequency.
    static let timingCode: [String: Frequency] = [
        "QD": .daily, "BID": .bid, "TID": .tid, "QID": .qid, "Q4H": .q4h, "Q6H": .q6h, "WK": .weekly, "MO": .monthly,
    ]

    // MARK: Body sites

    /// Laterality: SNOMED CT qualifiers of FHIR R4's value set bodystructure-relative-location.
    static let lateralitySNOMED: [String: Laterality] = ["7771000": .left, "24028007": .right, "51440002": .bilateral]

    /// DICOM modality codes (PS3.16 CID 29) → imaging modality.
    static let dicomModality: [String: ImagingModality] = ["CR": .radiograph, "DX": .radiograph, "US": .ultrasound, "CT": .ct, "MR": .mri]
    /// HL7 v2-0074 diagnostic service sections that name a modality.
    static let v2SectionModality: [String: ImagingModality] = ["RX": .radiograph, "RUS": .ultrasound, "CT": .ct, "NMR": .mri]
}
