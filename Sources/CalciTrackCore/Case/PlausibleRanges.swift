/// The plausibility bounds of case-format.md "Validation", applied after unit conversion.
/// Where case-format.md names no bound (creatinine, CRP, ...) the bound is a project decision,
/// wide enough never to reject a real result.
public enum PlausibleRanges {
    public static let temperatureC = PlausibleRange(25, 45, "degrees Celsius")
    public static let heartRate = PlausibleRange(20, 300, "beats per minute")
    public static let respiratoryRate = PlausibleRange(2, 80, "breaths per minute")
    public static let systolicBP = PlausibleRange(30, 300, "mm Hg")
    public static let weightKg = PlausibleRange(0.5, 400, "kg")
    public static let lengthCm = PlausibleRange(0, 100, "cm")
    /// Project decisions: perimeter of a 100 cm ellipse is below 400 cm; area of a 100 × 100 cm rectangle.
    public static let perimeterCm = PlausibleRange(0, 400, "cm")
    public static let areaCm2 = PlausibleRange(0, 10_000, "cm2")
    /// Project decision: IVIG at 2 g/kg stays below it.
    public static let doseMg = PlausibleRange(0, 200_000, "mg", lowInclusive: false)

    /// Per lab test, in the canonical unit of `Units.canonicalUnit(for:)`.
    public static func lab(_ test: LabTest) -> PlausibleRange {
        switch test {
        case .calcium, .calciumCorrected: PlausibleRange(2, 25, "mg/dL")
        case .calciumIonized: PlausibleRange(0.5, 6.24, "mmol/L")
        case .phosphate: PlausibleRange(0.3, 25, "mg/dL")
        case .wbc: PlausibleRange(0.05, 500, "x10^9/L")
        case .creatinine: PlausibleRange(0.05, 40, "mg/dL")
        case .egfr: PlausibleRange(0, 300, "mL/min/1.73m2")
        case .bands: PlausibleRange(0, 100, "%")
        case .crp: PlausibleRange(0, 1000, "mg/L")
        case .albumin: PlausibleRange(0.5, 8, "g/dL")
        case .pth: PlausibleRange(0, 10_000, "pg/mL")
        case .inr: PlausibleRange(0.5, 25, "1")
        case .paco2: PlausibleRange(5, 200, "mm Hg")
        }
    }
}
