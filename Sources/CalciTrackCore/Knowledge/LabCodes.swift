/// LOINC codes for the case format's lab tests and vital signs (clinical-spec 12.4). A test
/// measured in mass units and in SI units has two codes; the unit as entered picks one.
public enum LabCodes {
    public struct Code: Sendable, Equatable {
        public let loinc: String
        public let display: String
        public let tag: String   // verification tag of clinical-spec 12.4
    }

    public static func loinc(for test: LabTest, unit: String) -> Code? {
        switch test {
        case .calcium:
            return unit == "mmol/L"
                ? Code(loinc: "2000-8", display: "Calcium [Moles/volume] in Serum or Plasma", tag: "V")
                : Code(loinc: "17861-6", display: "Calcium [Mass/volume] in Serum or Plasma", tag: "V")
        case .calciumCorrected:
            // 12.4 lists only the SI code; mass-unit results are converted, not recoded.
            return Code(loinc: "29265-6", display: "Calcium [Moles/volume] corrected for albumin in Serum or Plasma", tag: "V")
        case .calciumIonized:
            return Code(loinc: "1995-0", display: "Calcium.ionized [Moles/volume] in Serum or Plasma", tag: "V")
        case .phosphate:
            return unit == "mmol/L"
                ? Code(loinc: "14879-1", display: "Phosphate [Moles/volume] in Serum or Plasma", tag: "V")
                : Code(loinc: "2777-1", display: "Phosphate [Mass/volume] in Serum or Plasma", tag: "V2")
        case .creatinine:
            return unit == "umol/L"
                ? Code(loinc: "14682-9", display: "Creatinine [Moles/volume] in Serum or Plasma", tag: "V")
                : Code(loinc: "2160-0", display: "Creatinine [Mass/volume] in Serum or Plasma", tag: "V")
        case .egfr:
            return Code(loinc: "98979-8", display: "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI 2021)", tag: "V2")
        case .wbc: return Code(loinc: "6690-2", display: "Leukocytes [#/volume] in Blood by Automated count", tag: "V")
        case .bands: return Code(loinc: "764-1", display: "Neutrophils.band form/100 leukocytes in Blood by Manual count", tag: "V")
        case .crp: return Code(loinc: "1988-5", display: "C reactive protein [Mass/volume] in Serum or Plasma", tag: "V")
        case .albumin: return Code(loinc: "1751-7", display: "Albumin [Mass/volume] in Serum or Plasma", tag: "V")
        case .pth: return Code(loinc: "2731-8", display: "Parathyrin.intact [Mass/volume] in Serum or Plasma", tag: "V")
        case .inr: return Code(loinc: "6301-6", display: "INR in Platelet poor plasma by Coagulation assay", tag: "V")
        case .paco2: return Code(loinc: "2019-8", display: "Carbon dioxide [Partial pressure] in Arterial blood", tag: "V")
        }
    }
}
