/// Calcium × phosphate product (clinical-spec 1.2; case-format.md project decision).
/// Total calcium is used, corrected calcium only when no total value exists, ionised never.
/// A same-day pair is preferred (same specimen); otherwise the latest of each is used and said so.
public struct CalciumPhosphateProduct: Sendable, Equatable {
    public var mg2dl2: Double?
    public var mmol2l2: Double?
    /// nil when the product cannot be computed (indeterminate, never "normal").
    public var aboveThreshold: Bool?
    public var thresholdMg2dl2: Double
    public var calciumType: String?
    public var calcium: LabResult?
    public var phosphate: LabResult?
    public var sameDay: Bool?
    public var basis: String
    public var sources: [String]

    public static func evaluate(_ ctx: CaseContext) -> CalciumPhosphateProduct {
        let threshold = ctx.thresholds[.caxpMetastatic]
        let sources = [Sources.medscape, Sources.seed2]
        let hasTotal = ctx.labs.contains { $0.test == .calcium }
        let calciumTest: LabTest = hasTotal ? .calcium : .calciumCorrected
        let calciums = ctx.labs.filter { $0.test == calciumTest }
        let phosphates = ctx.labs.filter { $0.test == .phosphate }
        guard let latestCa = calciums.last, let latestP = phosphates.last else {
            var missing: [String] = []
            if calciums.isEmpty { missing.append("calcium") }
            if phosphates.isEmpty { missing.append("phosphate") }
            let ionizedNote = ctx.labs.contains { $0.test == .calciumIonized } ? " (ionised calcium is never used for Ca×P)" : ""
            return CalciumPhosphateProduct(thresholdMg2dl2: threshold, basis: "not computed: \(missing.joined(separator: " and ")) missing\(ionizedNote)",
                                           sources: sources)
        }
        var calcium = latestCa, phosphate = latestP, sameDay = latestCa.date == latestP.date
        if !sameDay, let pair = calciums.reversed().lazy.compactMap({ ca in phosphates.last { $0.date == ca.date }.map { (ca, $0) } }).first {
            (calcium, phosphate) = pair
            sameDay = true
        }
        let product = calcium.canonicalValue * phosphate.canonicalValue
        // Compared at 4 decimals so that unit conversion noise cannot tip 70.0 over the threshold.
        let above = rounded(product, places: 4) > threshold
        let type = calciumTest == .calcium ? "total" : "correctedForAlbumin"
        let basis = "Ca \(fmt(calcium.canonicalValue)) mg/dL (\(type), \(calcium.date)) × P \(fmt(phosphate.canonicalValue)) mg/dL (\(phosphate.date))"
            + " = \(fmt(product)) mg²/dL²; \(above ? ">" : "≤") \(fmt(threshold)) threshold"
            + (sameDay ? "" : "; not the same day: latest of each used")
        return CalciumPhosphateProduct(mg2dl2: rounded(product, places: 2), mmol2l2: rounded(product / Units.caxpMgPerMmol, places: 2),
                                       aboveThreshold: above, thresholdMg2dl2: threshold, calciumType: type,
                                       calcium: calcium, phosphate: phosphate, sameDay: sameDay, basis: basis, sources: sources)
    }
}
