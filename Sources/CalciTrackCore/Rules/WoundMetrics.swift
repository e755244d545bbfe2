/// Lesion size over time (clinical-spec 11, 5.1; case-format.md project decisions): area by
/// planimetry or ellipse, PAR at 4 weeks, Gilman index, trend, and Róbert response category.
public struct LesionArea: Sendable, Equatable {
    public enum Method: String, Sendable { case planimetry, ellipse, healed }
    public var date: LocalDate
    public var areaCm2: Double
    public var method: Method
    public var perimeterCm: Double?
    public var healed: Bool { method == .healed }

    /// Planimetry when given, else ellipse π/4 × L × W (Kundin; exact for an ellipse). A measurement
    /// marked healed, or of zero size, is a healed (closed) lesion with area 0.
    public init(_ m: LesionMeasurement) {
        date = m.date
        perimeterCm = m.perimeterCm
        let area = m.areaCm2 ?? (Double.pi / 4 * (m.lengthCm ?? 0) * (m.widthCm ?? 0))
        if m.healed == true || area == 0 {
            areaCm2 = 0; method = .healed
        } else {
            areaCm2 = area; method = m.areaCm2 != nil ? .planimetry : .ellipse
        }
    }

    /// Areas measured by different methods are never compared as percentages (clinical-spec 11.1).
    func comparable(with other: LesionArea) -> Bool { healed || other.healed || method == other.method }
}

public struct LesionMetrics: Sendable, Equatable {
    public var id: String
    public var site: BodySite?
    public var laterality: Laterality?
    public var morphology: Morphology?
    public var areas: [LesionArea]
    public var latestAreaCm2: Double?
    public var areaMethod: String?
    public var baselineAreaCm2: Double?
    public var par4w: Double?
    public var par4wDay: Int?
    /// Gilman index between the last two measurements: cm of edge advance and cm/day.
    public var gilmanCm: Double?
    public var gilmanCmPerDay: Double?
    /// new, healed, recurred, improving, stable, worsening, not-comparable, no-measurements
    public var trend: String
    /// complete, partial, none, not-assessable
    public var response: String
    public var healed: Bool?
    public var everRecurred: Bool
    /// Written from the areas and results above when read: see `derivedBasis`.
    public var basis: String {
        get { basisOverride ?? derivedBasis }
        set { basisOverride = newValue }
    }
    public var sources: [String]
    /// The thresholds the trend and response were judged on, for the basis text.
    let thresholds: Thresholds
    var basisOverride: String?

    public static func evaluate(_ lesion: Lesion, thresholds t: Thresholds) -> LesionMetrics {
        let areas = lesion.measurements.map(LesionArea.init)
        var metrics = LesionMetrics(id: lesion.id, site: lesion.site, laterality: lesion.laterality, morphology: lesion.morphology,
                                    areas: areas, trend: "no-measurements", response: "not-assessable", everRecurred: false,
                                    sources: [Sources.caseFormat], thresholds: t)
        guard let baseline = areas.first, let latest = areas.last else { return metrics }
        metrics.latestAreaCm2 = rounded(latest.areaCm2, places: 2)
        metrics.areaMethod = latest.method.rawValue
        metrics.baselineAreaCm2 = rounded(baseline.areaCm2, places: 2)
        metrics.healed = latest.healed

        // Recurrence: an open measurement after a healed one, anywhere in the history.
        metrics.everRecurred = zip(areas, areas.dropFirst()).contains { $0.healed && !$1.healed }

        // PAR at 4 weeks (Sheehan 2003): the measurement closest to day 28 within days 21-35.
        if let at4w = par4wMeasurement(areas, t) {
            let day = baseline.date.days(until: at4w.date)
            if baseline.areaCm2 > 0 && baseline.comparable(with: at4w) {
                metrics.par4w = rounded((baseline.areaCm2 - at4w.areaCm2) / baseline.areaCm2 * 100, places: 1)
                metrics.par4wDay = day
            }
        }

        if areas.count >= 2 {
            let previous = areas[areas.count - 2]
            // Gilman: d = (A1 − A2) / ((P1 + P2) / 2), rate = d / days (clinical-spec 11.3); needs both perimeters.
            if let p1 = previous.perimeterCm, let p2 = latest.perimeterCm, p1 + p2 > 0, previous.comparable(with: latest) {
                let d = (previous.areaCm2 - latest.areaCm2) / ((p1 + p2) / 2)
                metrics.gilmanCm = rounded(d, places: 3)
                let days = previous.date.days(until: latest.date)
                if days > 0 { metrics.gilmanCmPerDay = rounded(d / Double(days), places: 4) }
            }
            metrics.trend = trend(previous: previous, latest: latest, stable: t[.trendStableFraction])
        } else {
            metrics.trend = "new"
        }

        // Response (Róbert 2020 via Seed-2): complete, partial (regression below 90 % of baseline,
        // or healed then recurred), none (persistence or progression).
        if areas.count < 2 {
            metrics.response = "not-assessable"
        } else if latest.healed && !metrics.everRecurred {
            metrics.response = "complete"
        } else if metrics.everRecurred {
            metrics.response = "partial"
        } else if baseline.areaCm2 == 0 || !baseline.comparable(with: latest) {
            metrics.response = "not-assessable"
        } else {
            // Compared at 6 decimals so that binary rounding (0.09 / 0.1 = 0.8999…) cannot move exactly 90 % to partial.
            metrics.response = rounded(latest.areaCm2 / baseline.areaCm2, places: 6) < t[.responseNoneFraction] ? "partial" : "none"
        }
        metrics.sources = [Sources.caseFormat, Sources.robert2020, Sources.seed2, Sources.sheehan2003, Sources.rogers2010]
            + (metrics.gilmanCm != nil ? [Sources.gilman1990] : [])
        return metrics
    }

    /// The measurement closest to the PAR day (28) within the window (days 21-35 after baseline).
    static func par4wMeasurement(_ areas: [LesionArea], _ t: Thresholds) -> LesionArea? {
        guard let baseline = areas.first else { return nil }
        let target = Int(t[.par4wTargetDay]), low = Int(t[.par4wWindowLowDay]), high = Int(t[.par4wWindowHighDay])
        let window = areas.dropFirst().filter { (low...high).contains(baseline.date.days(until: $0.date)) }
        return window.min(by: { abs(baseline.date.days(until: $0.date) - target) < abs(baseline.date.days(until: $1.date) - target) })
    }

    /// The basis text: measurements, PAR, trend and response with the values they came from.
    var derivedBasis: String {
        guard let baseline = areas.first, let latest = areas.last else { return "no measurement on or before asOf" }
        let t = thresholds
        var basis: [String] = []
        basis.append("\(areas.count) measurement\(areas.count == 1 ? "" : "s"); latest \(latest.date): \(fmt(latest.areaCm2)) cm² (\(latest.method.rawValue))")
        if LesionMetrics.par4wMeasurement(areas, t) != nil {
            if let par4w, let par4wDay {
                basis.append("PAR day \(par4wDay): \(fmt(par4w)) % (number only: no validated threshold for calcinosis ulcers)")
            } else {
                basis.append("PAR not computed: baseline area 0 or different area methods")
            }
        }
        if areas.count >= 2 {
            let previous = areas[areas.count - 2]
            basis.append("trend vs \(previous.date) (\(fmt(previous.areaCm2)) cm²): \(trend) (±\(fmt(t[.trendStableFraction] * 100)) % is stable)")
        }
        let noneFraction = t[.responseNoneFraction]
        if areas.count < 2 {
            basis.append("response not assessable: one measurement")
        } else if latest.healed && !everRecurred {
            basis.append("response complete: healed at the latest measurement, never recurred")
        } else if everRecurred {
            basis.append("response partial: healed, then recurred")
        } else if baseline.areaCm2 == 0 {
            basis.append("response not assessable: baseline recorded as healed")
        } else if !baseline.comparable(with: latest) {
            basis.append("response not assessable: baseline (\(baseline.method.rawValue)) and latest (\(latest.method.rawValue)) areas use different methods")
        } else {
            basis.append("response \(response): latest area \(fmt(latest.areaCm2 / baseline.areaCm2 * 100)) % of baseline \(fmt(baseline.areaCm2)) cm² (< \(fmt(noneFraction * 100)) % is regression)")
        }
        return basis.joined(separator: "; ")
    }

    static func trend(previous: LesionArea, latest: LesionArea, stable: Double) -> String {
        if latest.healed { return "healed" }
        if previous.healed { return "recurred" }
        if !previous.comparable(with: latest) { return "not-comparable" }
        // Relative change compared at 6 decimals: exactly ±10 % stays stable despite binary rounding (1.13 → 1.243).
        let change = rounded((latest.areaCm2 - previous.areaCm2) / previous.areaCm2, places: 6)
        if change > stable { return "worsening" }
        if change < -stable { return "improving" }
        return "stable"
    }
}
