@testable import CalciTrackCore
import Foundation
import Testing

/// Wound metrics (clinical-spec 11), trend and Róbert response (clinical-spec 5.1), with the
/// case-format.md project decisions (PAR window 21-35 days, ±10 % stable, 90 % of baseline).
@Suite("Wound metrics, trend and response")
struct WoundMetricsTests {
    static let base = LocalDate(iso: "2024-01-01")!

    /// One measurement `day` days after the baseline date.
    static func m(_ day: Int, l: Double? = nil, w: Double? = nil, area: Double? = nil, p: Double? = nil,
                  healed: Bool? = nil) -> LesionMeasurement {
        LesionMeasurement(date: base.adding(days: day), lengthCm: l, widthCm: w, areaCm2: area, perimeterCm: p, healed: healed)
    }

    static func metrics(_ measurements: [LesionMeasurement], thresholds: Thresholds = Thresholds()) -> LesionMetrics {
        var lesion = Lesion(id: "L1", site: .lowerLeg, laterality: .right, morphology: .stone)
        lesion.measurements = measurements
        return LesionMetrics.evaluate(lesion, thresholds: thresholds)
    }

    // MARK: - Area [11.1]

    @Test("Ellipse area π/4 × L × W [clinical-spec 11.1 (Kundin); case-format.md Area]")
    func ellipse() {
        let r = Self.metrics([Self.m(0, l: 4, w: 3)])
        #expect(r.areas[0].areaCm2 == Double.pi / 4 * 12)
        #expect(r.latestAreaCm2 == 9.42)
        #expect(r.areaMethod == "ellipse")
        #expect(r.healed == false)
    }

    @Test("Planimetry area used when given, even with length and width [clinical-spec 11.1; case-format.md Area]")
    func planimetry() {
        let r = Self.metrics([Self.m(0, l: 4, w: 3, area: 7.5)])
        #expect(r.latestAreaCm2 == 7.5)
        #expect(r.areaMethod == "planimetry")
    }

    @Test("Healed measurement has area 0 [case-format.md lesions[].measurements healed; clinical-spec 5.1]",
          arguments: [m(0, l: 0, w: 0, healed: true), m(0, l: 0, w: 0), m(0, area: 0), m(0, l: 3, w: 2, healed: true)])
    func healedArea(_ measurement: LesionMeasurement) {
        let r = Self.metrics([measurement])
        #expect(r.latestAreaCm2 == 0)
        #expect(r.areaMethod == "healed")
        #expect(r.healed == true)
    }

    // MARK: - PAR at 4 weeks [11.2]

    struct PARCase: Sendable, CustomTestStringConvertible {
        let name: String
        let series: [LesionMeasurement]
        let par: Double?
        let day: Int?
        let source: String
        var testDescription: String { "\(name) [\(source)]" }
    }

    static let parCases: [PARCase] = [
        .init(name: "day 20 and day 36 are outside 21-35: no PAR", series: [m(0, area: 10), m(20, area: 5), m(36, area: 2)],
              par: nil, day: nil, source: "case-format.md project decision (21-35 days after baseline)"),
        .init(name: "day 21 is inside the window", series: [m(0, area: 10), m(21, area: 6)], par: 40, day: 21,
              source: "case-format.md project decision (21-35)"),
        .init(name: "day 35 is inside the window", series: [m(0, area: 10), m(35, area: 2.5)], par: 75, day: 35,
              source: "case-format.md project decision (21-35)"),
        .init(name: "closest to day 28 wins (30 over 25)", series: [m(0, area: 10), m(25, area: 6), m(30, area: 5), m(40, area: 1)],
              par: 50, day: 30, source: "Sheehan 2003 via clinical-spec 11.2; case-format.md (closest to day 28)"),
        .init(name: "closest to day 28 wins (27 over 30)", series: [m(0, area: 10), m(27, area: 6), m(30, area: 5)],
              par: 40, day: 27, source: "Sheehan 2003 via clinical-spec 11.2; case-format.md"),
        .init(name: "enlargement gives a negative PAR", series: [m(0, l: 2, w: 1), m(28, l: 3, w: 1)], par: -50, day: 28,
              source: "clinical-spec 11.2 (negative PAR means enlargement)"),
        .init(name: "ellipse reduction (4×3 → 2×3)", series: [m(0, l: 4, w: 3), m(28, l: 2, w: 3)], par: 50, day: 28,
              source: "clinical-spec 11.2 PAR = (A0 − At)/A0 × 100"),
        .init(name: "not computed across area methods", series: [m(0, l: 4, w: 3), m(28, area: 5)], par: nil, day: nil,
              source: "clinical-spec 11.1 (never compare percentage change across area methods)"),
        .init(name: "healed at day 28 is 100 %", series: [m(0, area: 10), m(28, healed: true)], par: 100, day: 28,
              source: "clinical-spec 11.2 (At = 0)"),
        .init(name: "one measurement: no PAR", series: [m(0, area: 10)], par: nil, day: nil, source: "case-format.md (null if none)"),
    ]

    @Test("PAR at 4 weeks", arguments: parCases)
    func par(_ c: PARCase) {
        let r = Self.metrics(c.series)
        #expect(r.par4w == c.par)
        #expect(r.par4wDay == c.day)
    }

    @Test("PAR is null in the JSON when not computed [case-format.md par4w: null if none]")
    func parNullInJSON() throws {
        let json = try TestCases.assessJSON(RuleCaseBuilder.caseJSON(RuleCaseBuilder.lesions([RuleCaseBuilder.lesion()])))
        guard case .array(let lesions)? = json["lesions"] else { Issue.record("lesions missing"); return }
        #expect(lesions.first?["par4w"] == .null)
        #expect(lesions.first?["trend"] == "new")
        #expect(lesions.first?["response"] == "not-assessable")
        #expect(lesions.first?["latestAreaCm2"] == .number(1.57))
        #expect(lesions.first?["areaMethod"] == "ellipse")
    }

    // MARK: - Gilman index [11.3]

    @Test("Gilman index (A1 − A2) / ((P1 + P2) / 2) and per-day rate [clinical-spec 11.3 (Gilman 1990 / Jessup 2006)]")
    func gilman() {
        let r = Self.metrics([Self.m(0, area: 10, p: 12), Self.m(20, area: 6, p: 8)])
        #expect(r.gilmanCm == 0.4)
        #expect(r.gilmanCmPerDay == 0.02)
        #expect(r.sources.contains(Sources.gilman1990))
    }

    @Test("Gilman index uses the last two measurements [clinical-spec 11.3]")
    func gilmanLastTwo() {
        let r = Self.metrics([Self.m(0, area: 20), Self.m(10, area: 12, p: 14), Self.m(30, area: 9, p: 10)])
        #expect(r.gilmanCm == 0.25)          // (12 − 9) / 12
        #expect(r.gilmanCmPerDay == 0.0125)  // over 20 days
    }

    @Test("No Gilman index without both perimeters [clinical-spec 11.3 (requires perimeter; do not approximate)]",
          arguments: [[m(0, area: 10, p: 12), m(20, area: 6)], [m(0, area: 10), m(20, area: 6, p: 8)], [m(0, area: 10), m(20, area: 6)]])
    func gilmanNeedsPerimeters(_ series: [LesionMeasurement]) {
        let r = Self.metrics(series)
        #expect(r.gilmanCm == nil)
        #expect(r.gilmanCmPerDay == nil)
        #expect(!r.sources.contains(Sources.gilman1990))
    }

    // MARK: - Trend

    struct TrendCase: Sendable, CustomTestStringConvertible {
        let name: String
        let series: [LesionMeasurement]
        let trend: String
        let source: String
        var testDescription: String { "\(name) → \(trend) [\(source)]" }
    }

    static let trendCases: [TrendCase] = [
        .init(name: "one measurement", series: [m(0, area: 10)], trend: "new", source: "case-format.md trend (new: one measurement)"),
        .init(name: "latest healed", series: [m(0, area: 10), m(30, healed: true)], trend: "healed", source: "case-format.md trend"),
        .init(name: "open after healed", series: [m(0, area: 10), m(30, healed: true), m(60, area: 2)], trend: "recurred",
              source: "case-format.md trend (recurred: healed before, open now)"),
        .init(name: "+10 % exactly is stable", series: [m(0, area: 10), m(30, area: 11)], trend: "stable",
              source: "case-format.md project decision (±10 % of area is stable)"),
        .init(name: "+10.1 % is worsening", series: [m(0, area: 10), m(30, area: 11.01)], trend: "worsening",
              source: "case-format.md project decision (±10 %)"),
        .init(name: "−10 % exactly is stable", series: [m(0, area: 10), m(30, area: 9)], trend: "stable",
              source: "case-format.md project decision (±10 %)"),
        .init(name: "−10.1 % is improving", series: [m(0, area: 10), m(30, area: 8.99)], trend: "improving",
              source: "case-format.md project decision (±10 %)"),
        .init(name: "unchanged is stable", series: [m(0, area: 10), m(30, area: 10)], trend: "stable", source: "case-format.md"),
        .init(name: "0.1 → 0.09 cm² (−10 % exactly, binary rounding) is stable", series: [m(0, area: 0.1), m(30, area: 0.09)],
              trend: "stable", source: "case-format.md project decision (±10 % is stable)"),
        .init(name: "1.13 → 1.243 cm² (+10 % exactly, binary rounding) is stable", series: [m(0, area: 1.13), m(30, area: 1.243)],
              trend: "stable", source: "case-format.md project decision (±10 % is stable)"),
        .init(name: "ellipse 2×1 → 2.2×1 (+10 % exactly) is stable", series: [m(0, l: 2, w: 1), m(30, l: 2.2, w: 1)],
              trend: "stable", source: "case-format.md project decision (±10 % is stable)"),
        .init(name: "compares with the previous, not the baseline", series: [m(0, area: 2), m(30, area: 10), m(60, area: 9.5)],
              trend: "stable", source: "case-format.md (latest vs previous)"),
        .init(name: "different methods are not compared", series: [m(0, l: 4, w: 3), m(30, area: 5)], trend: "not-comparable",
              source: "clinical-spec 11.1 (never compare across area methods)"),
    ]

    @Test("Trend", arguments: trendCases)
    func trend(_ c: TrendCase) {
        #expect(Self.metrics(c.series).trend == c.trend)
    }

    // MARK: - Response [5.1]

    struct ResponseCase: Sendable, CustomTestStringConvertible {
        let name: String
        let series: [LesionMeasurement]
        let response: String
        let source: String
        var testDescription: String { "\(name) → \(response) [\(source)]" }
    }

    static let responseCases: [ResponseCase] = [
        .init(name: "one measurement", series: [m(0, area: 10)], response: "not-assessable",
              source: "case-format.md response (not-assessable: one measurement)"),
        .init(name: "healed at latest, never recurred", series: [m(0, area: 10), m(60, area: 4), m(90, healed: true)], response: "complete",
              source: "clinical-spec 5.1 COMPLETE (Róbert 2020 via Seed-2); case-format.md"),
        .init(name: "89.9 % of baseline", series: [m(0, area: 10), m(60, area: 8.99)], response: "partial",
              source: "case-format.md project decision (below 90 % of baseline: partial)"),
        .init(name: "90 % of baseline", series: [m(0, area: 10), m(60, area: 9)], response: "none",
              source: "case-format.md project decision (90 % of baseline or larger: none)"),
        .init(name: "0.09 of 0.1 cm² (90 % exactly, binary rounding)", series: [m(0, area: 0.1), m(60, area: 0.09)], response: "none",
              source: "case-format.md project decision (90 % of baseline or larger: none)"),
        .init(name: "larger than baseline", series: [m(0, area: 10), m(60, area: 14)], response: "none",
              source: "clinical-spec 5.1 NONE (persistence or progression)"),
        .init(name: "healed then recurred (larger than baseline)", series: [m(0, area: 4), m(60, healed: true), m(120, area: 6)],
              response: "partial", source: "clinical-spec 5.1 PARTIAL (recurrence of the healed lesion); case-format.md"),
        .init(name: "healed, recurred, healed again", series: [m(0, area: 4), m(60, healed: true), m(120, area: 6), m(180, healed: true)],
              response: "partial", source: "clinical-spec 5.1 (COMPLETE needs no recurrence); case-format.md"),
        .init(name: "baseline and latest by different methods", series: [m(0, l: 4, w: 3), m(60, area: 2)], response: "not-assessable",
              source: "clinical-spec 11.1 (never compare across area methods)"),
    ]

    @Test("Response category", arguments: responseCases)
    func response(_ c: ResponseCase) {
        #expect(Self.metrics(c.series).response == c.response)
    }

    @Test("Response 90 % boundary follows the configurable threshold [clinical-spec 5.1 (configurable regression threshold)]")
    func responseThresholdOverride() throws {
        let series = [Self.m(0, area: 10), Self.m(60, area: 8.5)]
        #expect(Self.metrics(series).response == "partial")
        let strict = try Thresholds(overrides: ["response.noneFraction": 0.8])
        #expect(Self.metrics(series, thresholds: strict).response == "none")
    }

    // MARK: - Seed-2

    @Test("Seed-2 right tibia: healed at 23 months, recurred 2016, improved by April 2018 [Seed-2 (Mourad & Louis 2021); clinical-spec 5.1]")
    func seed2RightTibia() throws {
        let decoded = try RuleCaseBuilder.decodeSeed("seed-2-followup")
        let a = Assessor().assess(decoded)
        let tibia = try #require(a.lesions.first { $0.id == "right-tibia" })
        #expect(tibia.areas.map(\.method) == [.ellipse, .ellipse, .healed, .ellipse, .ellipse])
        #expect(tibia.areas.map { rounded($0.areaCm2, places: 2) } == [0.79, 5.5, 0, 2.95, 0.39])
        #expect(tibia.baselineAreaCm2 == 0.79)
        #expect(tibia.latestAreaCm2 == 0.39)
        #expect(tibia.areaMethod == "ellipse")
        #expect(tibia.par4w == nil)
        #expect(tibia.gilmanCm == nil)
        #expect(tibia.trend == "improving")
        #expect(tibia.everRecurred)
        #expect(tibia.healed == false)
        #expect(tibia.response == "partial")
        let left = try #require(a.lesions.first { $0.id == "left-leg" })
        #expect(left.latestAreaCm2 == 2.36)
        #expect(left.trend == "worsening")
        #expect(left.response == "none")
    }
}
