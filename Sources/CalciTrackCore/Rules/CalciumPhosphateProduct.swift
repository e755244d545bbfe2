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
    /// Written when read from the values above (see `DeferredText`).
    public var basis: String {
        get { basisText.text }
        set { basisText = DeferredText(newValue) }
    }
    var basisText: DeferredText
    public var sources: [String]

    static let sources = [Sources.medscape, Sources.seed2]

    public static func evaluate(_ ctx: CaseContext) -> CalciumPhosphateProduct {
        let threshold = ctx.thresholds[.caxpMetastatic]
        let hasTotal = ctx.labs.contains { $0.test == .calcium }
        let calciumTest: LabTest = hasTotal ? .calcium : .calciumCorrected
        guard let latestCa = ctx.labs.last(where: { $0.test == calciumTest }),
              let latestP = ctx.labs.last(where: { $0.test == .phosphate }) else {
            let noCalcium = !ctx.labs.contains { $0.test == calciumTest }, noPhosphate = !ctx.labs.contains { $0.test == .phosphate }
            let ionized = ctx.labs.contains { $0.test == .calciumIonized }
            return CalciumPhosphateProduct(thresholdMg2dl2: threshold, basisText: DeferredText {
                let missing = [noCalcium ? "calcium" : nil, noPhosphate ? "phosphate" : nil].compactMap { $0 }
                let ionizedNote = ionized ? " (ionised calcium is never used for Ca×P)" : ""
                return "not computed: \(missing.joined(separator: " and ")) missing\(ionizedNote)"
            }, sources: sources)
        }
        var calcium = latestCa, phosphate = latestP, sameDay = latestCa.date == latestP.date
        if !sameDay {
            // The latest calcium with a phosphate of the same day (the latest such phosphate).
            for ca in ctx.labs.reversed() where ca.test == calciumTest {
                if let p = ctx.labs.last(where: { $0.test == .phosphate && $0.date == ca.date }) {
                    (calcium, phosphate) = (ca, p)
                    sameDay = true
                    break
                }
            }
        }
        let product = calcium.canonicalValue * phosphate.canonicalValue
        // Compared at 4 decimals so that unit conversion noise cannot tip 70.0 over the threshold.
        let above = rounded(product, places: 4) > threshold
        let type = calciumTest == .calcium ? "total" : "correctedForAlbumin"
        let ca = calcium.canonicalValue, caDate = calcium.date, p = phosphate.canonicalValue, pDate = phosphate.date, same = sameDay
        let basis = DeferredText {
            "Ca \(fmt(ca)) mg/dL (\(type), \(caDate)) × P \(fmt(p)) mg/dL (\(pDate))"
                + " = \(fmt(product)) mg²/dL²; \(above ? ">" : "≤") \(fmt(threshold)) threshold"
                + (same ? "" : "; not the same day: latest of each used")
        }
        return CalciumPhosphateProduct(mg2dl2: rounded(product, places: 2), mmol2l2: rounded(product / Units.caxpMgPerMmol, places: 2),
                                       aboveThreshold: above, thresholdMg2dl2: threshold, calciumType: type,
                                       calcium: calcium, phosphate: phosphate, sameDay: sameDay, basisText: basis, sources: sources)
    }
}
