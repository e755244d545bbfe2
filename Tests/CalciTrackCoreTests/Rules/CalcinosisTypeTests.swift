@testable import CalciTrackCore
import Foundation
import Testing

private typealias B = RuleCaseBuilder

/// Ca×P product (clinical-spec 1.2) and the subtype rules R1-R7 (clinical-spec 1.3), with the
/// project decisions of case-format.md (all rules evaluated, fixed precedence, > 70 mg²/dL²,
/// upper limits 10.5 mg/dL and 4.5 mg/dL, 180-day iatrogenic window).
@Suite("Calcinosis type and Ca×P product")
struct CalcinosisTypeTests {

    // MARK: - Ca×P product

    struct ProductCase: Sendable, CustomTestStringConvertible {
        let name: String
        let labs: [String]
        let mg2dl2: Double?
        let mmol2l2: Double?
        let above: Bool?
        let calciumType: String?
        let sameDay: Bool?
        let calciumDate: String?
        let source: String
        var testDescription: String { "\(name) [\(source)]" }
    }

    static let productCases: [ProductCase] = [
        .init(name: "Ca 10 × P 7.0 = 70 is not above the threshold", labs: [B.lab("calcium", 10, "mg/dL"), B.lab("phosphate", 7.0, "mg/dL")],
              mg2dl2: 70, mmol2l2: 5.64, above: false, calciumType: "total", sameDay: true, calciumDate: B.asOf,
              source: "clinical-spec 1.2 (> 70 mg²/dL²); case-format.md project decision"),
        .init(name: "Ca 10 × P 7.01 = 70.1 is above", labs: [B.lab("calcium", 10, "mg/dL"), B.lab("phosphate", 7.01, "mg/dL")],
              mg2dl2: 70.1, mmol2l2: 5.65, above: true, calciumType: "total", sameDay: true, calciumDate: B.asOf,
              source: "clinical-spec 1.2; case-format.md project decision"),
        .init(name: "mmol/L: Ca 2.5 × P 2.2 = 5.50 mmol²/L² (68.27 mg²/dL²) not above",
              labs: [B.lab("calcium", 2.5, "mmol/L"), B.lab("phosphate", 2.2, "mmol/L")],
              mg2dl2: 68.27, mmol2l2: 5.5, above: false, calciumType: "total", sameDay: true, calciumDate: B.asOf,
              source: "clinical-spec 1.2 SI conversion (4.008, 3.097, factor 12.414)"),
        .init(name: "mmol/L: Ca 2.4 × P 2.34 = 5.62 mmol²/L² (< 5.639) not above",
              labs: [B.lab("calcium", 2.4, "mmol/L"), B.lab("phosphate", 2.34, "mmol/L")],
              mg2dl2: 69.71, mmol2l2: 5.62, above: false, calciumType: "total", sameDay: true, calciumDate: B.asOf,
              source: "clinical-spec 1.2; case-format.md (70 ≈ 5.639 mmol²/L²)"),
        .init(name: "mmol/L: Ca 2.4 × P 2.35 = 5.64 mmol²/L² (> 5.639) above",
              labs: [B.lab("calcium", 2.4, "mmol/L"), B.lab("phosphate", 2.35, "mmol/L")],
              mg2dl2: 70.01, mmol2l2: 5.64, above: true, calciumType: "total", sameDay: true, calciumDate: B.asOf,
              source: "clinical-spec 1.2; case-format.md (70 ≈ 5.639 mmol²/L²)"),
        .init(name: "mmol/L: Ca 2.5 × P 2.3 = 5.75 mmol²/L² above",
              labs: [B.lab("calcium", 2.5, "mmol/L"), B.lab("phosphate", 2.3, "mmol/L")],
              mg2dl2: 71.37, mmol2l2: 5.75, above: true, calciumType: "total", sameDay: true, calciumDate: B.asOf,
              source: "clinical-spec 1.2 SI conversion"),
        .init(name: "same-day pair preferred over a later calcium without phosphate",
              labs: [B.lab("calcium", 9.0, "mg/dL", date: "2024-01-01"), B.lab("phosphate", 4.0, "mg/dL", date: "2024-01-01"),
                     B.lab("calcium", 9.5, "mg/dL", date: "2024-01-05")],
              mg2dl2: 36, mmol2l2: 2.9, above: false, calciumType: "total", sameDay: true, calciumDate: "2024-01-01",
              source: "clinical-spec 1.2 (same specimen); case-format.md project decision (same day, else latest of each)"),
        .init(name: "same-day pair preferred over a later phosphate without calcium",
              labs: [B.lab("calcium", 9.0, "mg/dL", date: "2024-01-01"), B.lab("phosphate", 4.0, "mg/dL", date: "2024-01-01"),
                     B.lab("phosphate", 4.4, "mg/dL", date: "2024-01-06")],
              mg2dl2: 36, mmol2l2: 2.9, above: false, calciumType: "total", sameDay: true, calciumDate: "2024-01-01",
              source: "clinical-spec 1.2; case-format.md project decision"),
        .init(name: "no same-day pair: latest of each",
              labs: [B.lab("calcium", 9.0, "mg/dL", date: "2024-01-01"), B.lab("phosphate", 4.0, "mg/dL", date: "2024-01-03"),
                     B.lab("calcium", 10.0, "mg/dL", date: "2024-01-05")],
              mg2dl2: 40, mmol2l2: 3.22, above: false, calciumType: "total", sameDay: false, calciumDate: "2024-01-05",
              source: "case-format.md project decision (else the latest of each)"),
        .init(name: "corrected calcium used when no total calcium is given",
              labs: [B.lab("calciumCorrected", 9.6, "mg/dL"), B.lab("phosphate", 4.0, "mg/dL")],
              mg2dl2: 38.4, mmol2l2: 3.09, above: false, calciumType: "correctedForAlbumin", sameDay: true, calciumDate: B.asOf,
              source: "case-format.md project decision (corrected if only that is given); clinical-spec 1.2 (store which)"),
        .init(name: "total calcium wins over a same-day corrected calcium",
              labs: [B.lab("calcium", 9.0, "mg/dL", date: "2024-01-01"), B.lab("calciumCorrected", 9.6, "mg/dL", date: "2024-01-05"),
                     B.lab("phosphate", 4.0, "mg/dL", date: "2024-01-05")],
              mg2dl2: 36, mmol2l2: 2.9, above: false, calciumType: "total", sameDay: false, calciumDate: "2024-01-01",
              source: "case-format.md project decision (total calcium; corrected only if that alone is given)"),
        .init(name: "ionised calcium is never used", labs: [B.lab("calciumIonized", 1.25, "mmol/L"), B.lab("phosphate", 4.0, "mg/dL")],
              mg2dl2: nil, mmol2l2: nil, above: nil, calciumType: nil, sameDay: nil, calciumDate: nil,
              source: "clinical-spec 1.2 (never compute a product from ionised calcium); case-format.md labs[]"),
        .init(name: "phosphate missing: not computed, never 'normal'", labs: [B.lab("calcium", 9.0, "mg/dL")],
              mg2dl2: nil, mmol2l2: nil, above: nil, calciumType: nil, sameDay: nil, calciumDate: nil,
              source: "clinical-spec 0.3 rule 3 (indeterminate, never default to normal)"),
    ]

    @Test("Ca×P product", arguments: productCases)
    func product(_ c: ProductCase) throws {
        let a = try TestCases.assess(B.caseJSON(B.labs(c.labs)))
        let p = a.calciumPhosphateProduct
        #expect(p.mg2dl2 == c.mg2dl2)
        #expect(p.mmol2l2 == c.mmol2l2)
        #expect(p.aboveThreshold == c.above)
        #expect(p.calciumType == c.calciumType)
        #expect(p.sameDay == c.sameDay)
        #expect(p.calcium?.date.description == c.calciumDate)
        #expect(p.thresholdMg2dl2 == 70)
        if let mg = p.mg2dl2, let mmol = p.mmol2l2 {
            // clinical-spec 1.2: CaxP[mmol²/L²] = CaxP[mg²/dL²] / 12.414 (shown to 2 decimals).
            #expect(abs(mmol - mg / 12.414) < 0.006)
        }
        if c.name.hasPrefix("ionised") {
            #expect(p.basis.contains("ionised calcium is never used"))
        }
    }

    @Test("Threshold override: Ca×P 65 is above 60 but not 70 [clinical-spec 1.2 'keep configurable; default 70'; Thresholds(overrides:)]")
    func productThresholdOverride() throws {
        let text = B.caseJSON(B.labs([B.lab("calcium", 10, "mg/dL"), B.lab("phosphate", 6.5, "mg/dL")]))
        let standard = try TestCases.assess(text)
        #expect(standard.calciumPhosphateProduct.mg2dl2 == 65)
        #expect(standard.calciumPhosphateProduct.aboveThreshold == false)
        let lowered = try TestCases.assess(text, thresholds: try Thresholds(overrides: ["caxp.metastatic": 60]))
        #expect(lowered.calciumPhosphateProduct.aboveThreshold == true)
        #expect(lowered.calciumPhosphateProduct.thresholdMg2dl2 == 60)
        let engine = AssessmentJSON.encode(lowered)["engine"]?["thresholdOverrides"]
        #expect(engine?["caxp.metastatic"] == .number(60))
    }

    @Test("Metastatic by Ca×P alone once the threshold is lowered [clinical-spec 1.3 R3; Thresholds(overrides:)]")
    func metastaticByProductOnly() throws {
        // Ca 10 ≤ 10.5 and P 4.5 ≤ 4.5: only the product (45) can make R3 match.
        let text = B.caseJSON(B.ssc(), B.labs([B.lab("calcium", 10, "mg/dL"), B.lab("phosphate", 4.5, "mg/dL"),
                                               B.lab("egfr", 90, "mL/min/1.73m2")]),
                              B.lesions([B.lesion()]))
        let standard = try TestCases.assess(text).calcinosisType
        #expect(standard.value == .dystrophic)
        #expect(standard.matchedRules == [.dystrophic])
        let lowered = try TestCases.assess(text, thresholds: try Thresholds(overrides: ["caxp.metastatic": 40])).calcinosisType
        #expect(lowered.value == .metastatic)
        #expect(lowered.matchedRules == [.metastatic])
        #expect(lowered.matches.first?.reason.contains("Ca×P 45") == true)
    }

    @Test("Unknown threshold key is rejected [clinical-spec 0.3 rule 2]")
    func unknownOverride() {
        #expect(throws: ThresholdError.self) { try Thresholds(overrides: ["caxp.metastatik": 60]) }
    }

    // MARK: - Rules R1-R7

    struct TypeCase: Sendable, CustomTestStringConvertible {
        let name: String
        let parts: [String]
        let value: CalcinosisSubtype
        let matched: [CalcinosisSubtype]
        var missing: [String] = []
        var calciphylaxisStatus: String? = nil
        let source: String
        var testDescription: String { "\(name) [\(source)]" }
    }

    static let ssc = B.ssc()
    static let normal = B.labs(B.normalLabs)
    static let lesion = B.lesions([B.lesion()])
    static func exposures(_ rows: String...) -> String {
        #""history": {"calciumOrPhosphateExposures": [\#(rows.joined(separator: ", "))]}"#
    }
    static func labs(ca: Double = 9.2, caUnit: String = "mg/dL", p: Double = 3.5, pUnit: String = "mg/dL") -> String {
        B.labs([B.lab("calcium", ca, caUnit), B.lab("phosphate", p, pUnit), B.lab("egfr", 90, "mL/min/1.73m2")])
    }

    static let typeCases: [TypeCase] = [
        // R1 iatrogenic
        .init(name: "R1: exposure on the day of the first measurement", parts: [ssc, normal, lesion, exposures(B.exposure(B.asOf))],
              value: .iatrogenic, matched: [.iatrogenic, .dystrophic],
              source: "clinical-spec 1.3 R1; case-format.md project decision (on or before the first measurement)"),
        .init(name: "R1: exposure 180 days before", parts: [ssc, normal, lesion, exposures(B.exposure(B.day(-180)))],
              value: .iatrogenic, matched: [.iatrogenic, .dystrophic],
              source: "case-format.md project decision (at most 180 days before)"),
        .init(name: "R1: exposure 181 days before does not match", parts: [ssc, normal, lesion, exposures(B.exposure(B.day(-181)))],
              value: .dystrophic, matched: [.dystrophic], source: "case-format.md project decision (at most 180 days)"),
        .init(name: "R1: exposure after the lesion's onset does not match",
              parts: [ssc, normal, B.lesions([B.lesion(measurements: [B.measurement(B.day(-10), length: 2, width: 1)])]),
                      exposures(B.exposure(B.day(-5)))],
              value: .dystrophic, matched: [.dystrophic], source: "clinical-spec 1.3 R1 (onset after exposure); case-format.md"),
        .init(name: "R1: exposure at another site does not match", parts: [ssc, normal, lesion, exposures(B.exposure(B.day(-10), site: "hand"))],
              value: .dystrophic, matched: [.dystrophic], source: "clinical-spec 1.3 R1 (lesion at same site); case-format.md"),
        .init(name: "R1: exposure on the other side does not match",
              parts: [ssc, normal, lesion, exposures(B.exposure(B.day(-10), laterality: "left"))],
              value: .dystrophic, matched: [.dystrophic], source: "case-format.md project decision (same site and laterality)"),
        // R2 calciphylaxis
        .init(name: "R2: dialysis with livedo", parts: [ssc, normal, #""history": {"dialysis": true}"#,
                                                      B.lesions([B.lesion(findings: #""livedo": true"#)])],
              value: .calciphylaxis, matched: [.calciphylaxis, .dystrophic], calciphylaxisStatus: "suspected",
              source: "clinical-spec 1.3 R2; case-format.md precedence"),
        .init(name: "R2: eGFR 14.9 with retiform purpura",
              parts: [ssc, B.labs([B.lab("calcium", 9.2, "mg/dL"), B.lab("phosphate", 3.5, "mg/dL"), B.lab("egfr", 14.9, "mL/min/1.73m2")]),
                      B.lesions([B.lesion(findings: #""retiformPurpura": true"#)])],
              value: .calciphylaxis, matched: [.calciphylaxis, .dystrophic], calciphylaxisStatus: "suspected",
              source: "clinical-spec 1.3 R2 (eGFR < 15, KDIGO G5)"),
        .init(name: "R2: eGFR 15 with necrosis is non-uraemic suspected",
              parts: [ssc, B.labs([B.lab("calcium", 9.2, "mg/dL"), B.lab("phosphate", 3.5, "mg/dL"), B.lab("egfr", 15, "mL/min/1.73m2")]),
                      B.lesions([B.lesion(findings: #""necrosis": true"#)])],
              value: .calciphylaxis, matched: [.calciphylaxis, .dystrophic], calciphylaxisStatus: "suspected-nonuremic",
              source: "clinical-spec 1.3 R2 (eGFR < 15; skin criteria without renal failure → suspected non-uraemic)"),
        .init(name: "R2: dialysis without skin signs does not match", parts: [ssc, normal, #""history": {"dialysis": true}"#, lesion],
              value: .dystrophic, matched: [.dystrophic], source: "clinical-spec 1.3 R2 (renal AND skin criteria)"),
        .init(name: "SSc + dialysis + high phosphate + livedo: calciphylaxis, metastatic also matched",
              parts: [ssc, labs(p: 6.0), #""history": {"dialysis": true}"#, B.lesions([B.lesion(findings: #""livedo": true"#)])],
              value: .calciphylaxis, matched: [.calciphylaxis, .metastatic], calciphylaxisStatus: "suspected",
              source: "clinical-spec 1.3 note (SSc and ESRD: evaluate R2 and R3, show all); case-format.md precedence"),
        // R3 metastatic
        .init(name: "R3: calcium 10.5 is at the limit", parts: [ssc, labs(ca: 10.5), lesion],
              value: .dystrophic, matched: [.dystrophic], source: "case-format.md project decision (calcium ULN 10.5 mg/dL)"),
        .init(name: "R3: calcium 10.6 is above", parts: [ssc, labs(ca: 10.6), lesion],
              value: .metastatic, matched: [.metastatic], source: "clinical-spec 1.3 R3; case-format.md (10.5 mg/dL)"),
        .init(name: "R3: calcium 10.51 is above", parts: [ssc, labs(ca: 10.51), lesion],
              value: .metastatic, matched: [.metastatic], source: "clinical-spec 1.3 R3 (> ULN); case-format.md (10.5 mg/dL)"),
        .init(name: "R3: calcium 2.62 mmol/L is at the limit", parts: [ssc, labs(ca: 2.62, caUnit: "mmol/L"), lesion],
              value: .dystrophic, matched: [.dystrophic], source: "case-format.md project decision (10.5 mg/dL = 2.62 mmol/L)"),
        .init(name: "R3: calcium 2.63 mmol/L is above", parts: [ssc, labs(ca: 2.63, caUnit: "mmol/L"), lesion],
              value: .metastatic, matched: [.metastatic], source: "case-format.md project decision (2.62 mmol/L)"),
        .init(name: "R3: phosphate 4.5 is at the limit", parts: [ssc, labs(ca: 9.0, p: 4.5), lesion],
              value: .dystrophic, matched: [.dystrophic], source: "case-format.md project decision (phosphate ULN 4.5 mg/dL)"),
        .init(name: "R3: phosphate 4.6 is above", parts: [ssc, labs(ca: 9.0, p: 4.6), lesion],
              value: .metastatic, matched: [.metastatic], source: "clinical-spec 1.3 R3; case-format.md (4.5 mg/dL)"),
        .init(name: "R3: phosphate 1.45 mmol/L is within range", parts: [ssc, labs(ca: 9.0, p: 1.45, pUnit: "mmol/L"), lesion],
              value: .dystrophic, matched: [.dystrophic], source: "case-format.md project decision (4.5 mg/dL = 1.45 mmol/L)"),
        .init(name: "R3: phosphate 1.46 mmol/L is above", parts: [ssc, labs(ca: 9.0, p: 1.46, pUnit: "mmol/L"), lesion],
              value: .metastatic, matched: [.metastatic], source: "case-format.md project decision (1.45 mmol/L)"),
        .init(name: "R3: Ca×P 70.1 (and phosphate 7.01)", parts: [ssc, labs(ca: 10, p: 7.01), lesion],
              value: .metastatic, matched: [.metastatic], source: "clinical-spec 1.2/1.3 R3"),
        // R4 tumoral
        .init(name: "R4: periarticular mass with a family history",
              parts: [ssc, normal, #""history": {"familyHistoryTumoralCalcinosis": true}"#,
                      B.lesions([B.lesion(site: "hip", extra: #""periarticularMass": true"#)])],
              value: .tumoral, matched: [.tumoral, .dystrophic], source: "clinical-spec 1.3 R4; case-format.md precedence"),
        .init(name: "R4: periarticular mass with high phosphate (metastatic first)",
              parts: [ssc, labs(p: 5.0), B.lesions([B.lesion(site: "hip", extra: #""periarticularMass": true"#)])],
              value: .metastatic, matched: [.metastatic, .tumoral], source: "clinical-spec 1.3 R3/R4; case-format.md precedence"),
        .init(name: "R4: periarticular mass alone does not match",
              parts: [ssc, normal, #""history": {"familyHistoryTumoralCalcinosis": false}"#,
                      B.lesions([B.lesion(site: "hip", extra: #""periarticularMass": true"#)])],
              value: .dystrophic, matched: [.dystrophic], source: "clinical-spec 1.3 R4 (mass AND (P > ULN or family history))"),
        // R5 dystrophic
        .init(name: "R5: SSc with normal labs", parts: [ssc, normal, lesion],
              value: .dystrophic, matched: [.dystrophic], source: "clinical-spec 1.1 (the SSc subtype) and 1.3 R5; Seed-2"),
        .init(name: "R5: dermatomyositis without SSc", parts: [#""otherConnectiveTissueDisease": ["dermatomyositis"]"#, normal, lesion],
              value: .dystrophic, matched: [.dystrophic], source: "clinical-spec 1.3 R5 (ACTD != none)"),
        .init(name: "R5: penetrating trauma without connective-tissue disease",
              parts: [B.ssc("none"), #""history": {"penetratingTrauma": true}"#, normal, lesion],
              value: .dystrophic, matched: [.dystrophic], source: "clinical-spec 1.3 R5 (localTissueInjuryAtSite)"),
        // R6 idiopathic
        .init(name: "R6: no connective-tissue disease, injury or exposure", parts: [B.ssc("none"), normal, lesion],
              value: .idiopathic, matched: [.idiopathic], source: "clinical-spec 1.3 R6"),
        .init(name: "R6: SSc status not recorded is named as missing", parts: [normal, lesion],
              value: .idiopathic, matched: [.idiopathic], missing: ["ssc.subtype"],
              source: "clinical-spec 1.3 R6; 0.3 rule 3 (say what is missing)"),
        // R7 undetermined
        .init(name: "R7: no labs at all", parts: [ssc, lesion],
              value: .undetermined, matched: [], missing: ["calcium", "phosphate", "egfr"],
              source: "clinical-spec 1.3 R7; case-format.md project decision (egfr when neither egfr nor creatinine)"),
        .init(name: "R7: creatinine instead of eGFR is enough for renal function",
              parts: [ssc, B.labs([B.lab("creatinine", 0.8, "mg/dL")]), lesion],
              value: .undetermined, matched: [], missing: ["calcium", "phosphate"], source: "case-format.md project decision"),
        .init(name: "R7: phosphate missing", parts: [ssc, B.labs([B.lab("calcium", 9.2, "mg/dL"), B.lab("egfr", 90, "mL/min/1.73m2")]), lesion],
              value: .undetermined, matched: [], missing: ["phosphate"], source: "clinical-spec 1.3 R7; case-format.md"),
        .init(name: "R7: ionised calcium does not count as calcium",
              parts: [ssc, B.labs([B.lab("calciumIonized", 1.2, "mmol/L"), B.lab("phosphate", 3.5, "mg/dL"), B.lab("egfr", 90, "mL/min/1.73m2")]), lesion],
              value: .undetermined, matched: [], missing: ["calcium"], source: "clinical-spec 1.2 (never ionised); 1.3 R7"),
    ]

    @Test("Calcinosis subtype rules", arguments: typeCases)
    func subtype(_ c: TypeCase) throws {
        let t = try TestCases.assess(B.caseJSON(c.parts)).calcinosisType
        #expect(t.value == c.value)
        #expect(t.matchedRules == c.matched)
        #expect(t.missingInputs == c.missing)
        #expect(t.calciphylaxisStatus == c.calciphylaxisStatus)
        // value is the first match in the fixed order (case-format.md), and matches are listed in that order.
        let order: [CalcinosisSubtype] = [.iatrogenic, .calciphylaxis, .metastatic, .tumoral, .dystrophic, .idiopathic]
        #expect(t.value == (order.first { t.matchedRules.contains($0) } ?? .undetermined))
        #expect(t.matchedRules == t.matchedRules.sorted { order.firstIndex(of: $0)! < order.firstIndex(of: $1)! })
        #expect(!t.sources.isEmpty)
        if c.value == .undetermined && c.missing.contains(where: { $0 == "calcium" || $0 == "phosphate" }) {
            #expect(t.basis.contains("R7"))
        }
    }

    @Test("JSON carries every match and the missing inputs [case-format.md fixed keys]")
    func jsonShape() throws {
        let json = try TestCases.assessJSON(B.caseJSON(Self.ssc, Self.labs(p: 6.0), #""history": {"dialysis": true}"#,
                                                       B.lesions([B.lesion(findings: #""livedo": true"#)])))
        let type = try #require(json["calcinosisType"])
        #expect(type["value"] == "calciphylaxis")
        #expect(type["matchedRules"] == ["calciphylaxis", "metastatic"])
        #expect(type["missingInputs"] == [])
        #expect(type["calciphylaxisStatus"] == "suspected")
        guard case .string(let basis)? = type["basis"] else { Issue.record("basis is not a string"); return }
        #expect(basis.contains("R2 calciphylaxis"))
        #expect(basis.contains("R3 metastatic"))
        #expect(basis.contains("phosphate 6 mg/dL > 4.5"))
    }

    @Test("Without a lesion no subtype is given (R0: calcinosis not confirmed) [clinical-spec 1.3 R0]")
    func noLesion() throws {
        let t = try TestCases.assess(B.caseJSON(Self.ssc, Self.normal)).calcinosisType
        #expect(t.value == .undetermined)
        #expect(t.matchedRules.isEmpty)
        #expect(t.basis.contains("R0"))
    }
}
