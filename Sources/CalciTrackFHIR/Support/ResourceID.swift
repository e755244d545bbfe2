/// How registry records become FHIR logical ids (docs/fhir.md, "Identity"). A record that maps
/// to one resource keeps its registry UUID; a registry row that becomes several resources (a
/// vitals row, the patient's SSc profile) gets a derived id, so a read, an update and an
/// export all name the same resource.
public enum ResourceID {
    /// The vital signs a vitals row holds, as the suffix of its Observation ids.
    public enum Vital: String, Sendable, CaseIterable {
        case temperature, heartRate = "heart-rate", respiratoryRate = "respiratory-rate"
        case systolic = "systolic-bp", weight
    }

    public static func vital(_ vitalsID: String, _ vital: Vital) -> String { "\(vitalsID)-\(vital.rawValue)" }

    /// The vitals row id and vital of a derived vital-sign Observation id, or nil.
    public static func parseVital(_ id: String) -> (vitalsID: String, vital: Vital)? {
        for vital in Vital.allCases where id.hasSuffix("-" + vital.rawValue) {
            let base = String(id.dropLast(vital.rawValue.count + 1))
            if base.count == 36 { return (base, vital) }
        }
        return nil
    }

    /// The SSc Condition of a patient (from the patient's `ssc` section).
    public static func sscCondition(patientID: String) -> String { "ssc-\(patientID)" }
    /// The calcinosis cutis Condition of a patient with at least one lesion.
    public static func calcinosisCondition(patientID: String) -> String { "calcinosis-\(patientID)" }

    /// FHIR R4 id syntax: [A-Za-z0-9\-\.]{1,64}.
    public static func isValid(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64 && id.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x2E
        }
    }
}
