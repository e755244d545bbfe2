@testable import CalciTrackCore
import Testing

/// IDSA 2014 systemic signs, SIRS (Bone 1992) and qSOFA (Sepsis-3): three separate rule sets
/// (clinical-spec 0.3 rule 1, 6.1-6.3), both sides of every threshold.
@Suite("Systemic signs: IDSA 2014, SIRS, qSOFA")
struct SystemicSignsTests {
    typealias F = TriageFixtures

    /// One row of a threshold table: the inputs, the expected rule output and where the expectation comes from.
    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        var vitals: [String] = []
        var labs: [String] = []
        let expected: [String]
        let source: String
        var testDescription: String { "\(name) → \(expected) [\(source)]" }
    }

    static func assess(_ row: Row) throws -> Assessment {
        try TestCases.assess(F.caseJSON(vitals: row.vitals, labs: row.labs))
    }

    // MARK: IDSA 2014 systemic signs of infection

    static let idsaRows: [Row] = [
        Row(name: "T 38.0", vitals: [F.vitals(t: 38.0)], expected: [], source: "IDSA 2014 Fig 1 'T > 38' via clinical-spec 6.2"),
        Row(name: "T 38.1", vitals: [F.vitals(t: 38.1)], expected: ["temperature"], source: "IDSA 2014 Fig 1 'T > 38' via clinical-spec 6.2"),
        Row(name: "HR 90", vitals: [F.vitals(hr: 90)], expected: [], source: "IDSA 2014 Fig 1 'HR > 90' via clinical-spec 6.2"),
        Row(name: "HR 91", vitals: [F.vitals(hr: 91)], expected: ["heartRate"], source: "IDSA 2014 Fig 1 'HR > 90' via clinical-spec 6.2"),
        Row(name: "RR 24", vitals: [F.vitals(rr: 24)], expected: [], source: "IDSA 2014 Fig 1 'RR > 24' via clinical-spec 6.2"),
        Row(name: "RR 25", vitals: [F.vitals(rr: 25)], expected: ["respiratoryRate"], source: "IDSA 2014 Fig 1 'RR > 24' via clinical-spec 6.2"),
        Row(name: "RR 21 (SIRS, not IDSA)", vitals: [F.vitals(rr: 21)], expected: [], source: "clinical-spec 6.2: RR threshold > 24, not > 20"),
        Row(name: "WBC 12 x10^9/L", labs: [F.lab("wbc", 12, "10*9/L")], expected: [], source: "IDSA 2014 WBC > 12 (V2-interpretation) via clinical-spec 6.2"),
        Row(name: "WBC 12.1 x10^9/L", labs: [F.lab("wbc", 12.1, "10*9/L")], expected: ["wbc"], source: "IDSA 2014 WBC > 12 (V2-interpretation) via clinical-spec 6.2"),
        Row(name: "WBC 4 x10^9/L", labs: [F.lab("wbc", 4, "10*9/L")], expected: [], source: "IDSA 2014 WBC < 4 (V2-interpretation) via clinical-spec 6.2"),
        Row(name: "WBC 3.9 x10^9/L", labs: [F.lab("wbc", 3.9, "10*9/L")], expected: ["wbc"], source: "IDSA 2014 WBC < 4 (V2-interpretation) via clinical-spec 6.2"),
        Row(name: "WBC 12000 /mm3", labs: [F.lab("wbc", 12000, "/mm3")], expected: [], source: "clinical-spec 6.2 '> 12 000 /uL'; case-format.md wbc unit /mm3"),
        Row(name: "WBC 12100 /mm3", labs: [F.lab("wbc", 12100, "/mm3")], expected: ["wbc"], source: "clinical-spec 6.2 '> 12 000 /uL'; case-format.md wbc unit /mm3"),
        Row(name: "WBC 4000 /mm3", labs: [F.lab("wbc", 4000, "/mm3")], expected: [], source: "clinical-spec 6.2 '< 4 000 /uL'; case-format.md wbc unit /mm3"),
        Row(name: "WBC 3900 /mm3", labs: [F.lab("wbc", 3900, "/mm3")], expected: ["wbc"], source: "clinical-spec 6.2 '< 4 000 /uL'; case-format.md wbc unit /mm3"),
        Row(name: "WBC 3000 /mm3 (between the typo's 400 and 4 000)", labs: [F.lab("wbc", 3000, "/mm3")], expected: ["wbc"],
            source: "clinical-spec 6.2: '<400' is a typo, implement < 4 000"),
        Row(name: "WBC 12.1 10*3/uL", labs: [F.lab("wbc", 12.1, "10*3/uL")], expected: ["wbc"], source: "case-format.md wbc unit 10*3/uL = 10^9/L"),
        Row(name: "T 35.0 (no IDSA hypothermia sign)", vitals: [F.vitals(t: 35.0)], expected: [], source: "clinical-spec 6.2: no hypothermia criterion"),
        Row(name: "Seed-1 admission T 38.6, HR 104, WBC 17000 /mm3", vitals: [F.vitals(t: 38.6, hr: 104)], labs: [F.lab("wbc", 17000, "/mm3")],
            expected: ["temperature", "heartRate", "wbc"], source: "clinical-spec 6.7 Seed-1 cross-check"),
        Row(name: "all four signs", vitals: [F.vitals(t: 39, hr: 120, rr: 30)], labs: [F.lab("wbc", 20, "10*9/L")],
            expected: ["temperature", "heartRate", "respiratoryRate", "wbc"], source: "IDSA 2014 Fig 1 via clinical-spec 6.2"),
    ]

    @Test("IDSA 2014 systemic signs, both sides of each threshold", arguments: idsaRows)
    func idsaThresholds(_ row: Row) throws {
        let signs = try Self.assess(row).infection.systemicSigns
        #expect(signs.present == row.expected)
    }

    @Test("IDSA basis shows the WBC typo and its V2-interpretation (clinical-spec 6.2)")
    func idsaWBCAmbiguityInBasis() throws {
        let signs = try Self.assess(Row(name: "", labs: [F.lab("wbc", 3.9, "10*9/L")], expected: [], source: "")).infection.systemicSigns
        #expect(signs.basis.contains("V2-interpretation"))
        #expect(signs.basis.contains("<12 000 or <400"))
        #expect(signs.basis.contains("> 12 000 or < 4 000"))
        #expect(signs.sources == [Sources.idsa2014])
        // The thresholds table carries the same tag (clinical-spec 0.1, 6.2).
        #expect(Thresholds.definition(.idsaWBCHigh).tag == .secondaryInterpretation)
        #expect(Thresholds.definition(.idsaWBCLow).tag == .secondaryInterpretation)
        #expect(Thresholds()[.idsaWBCLow] == 4)
        #expect(Thresholds()[.idsaWBCHigh] == 12)
    }

    @Test("IDSA has no hypothermia sign while SIRS counts T < 36 (clinical-spec 6.1 vs 6.2)")
    func hypothermiaIsSIRSOnly() throws {
        let infection = try TestCases.assess(F.caseJSON(vitals: [F.vitals(t: 35.0)])).infection
        #expect(infection.systemicSigns.present.isEmpty)
        #expect(infection.sirs.criteria == ["temperature"])
        #expect(infection.sirs.criteriaMet == 1)
        // No IDSA low-temperature threshold exists in the thresholds table.
        #expect(!Thresholds.definitions.contains { $0.key.hasPrefix("idsa.temperature.low") })
        #expect(Thresholds.definition(.idsaTemp).note?.contains("no hypothermia") == true)
    }

    @Test("IDSA lists what it could not assess (clinical-spec 0.3 rule 3)")
    func idsaNotAssessed() throws {
        let signs = try Self.assess(Row(name: "", vitals: [F.vitals(t: 38.5)], expected: [], source: "")).infection.systemicSigns
        #expect(signs.present == ["temperature"])
        #expect(signs.notAssessed == ["heartRate", "respiratoryRate", "wbc"])
        let none = try TestCases.assess(F.caseJSON()).infection.systemicSigns
        #expect(none.present.isEmpty)
        #expect(none.notAssessed == ["temperature", "heartRate", "respiratoryRate", "wbc"])
    }

    // MARK: SIRS (Bone 1992)

    static let sirsRows: [Row] = [
        Row(name: "T 38", vitals: [F.vitals(t: 38)], expected: [], source: "Bone 1992 'T > 38' via clinical-spec 6.1"),
        Row(name: "T 38.1", vitals: [F.vitals(t: 38.1)], expected: ["temperature"], source: "Bone 1992 'T > 38' via clinical-spec 6.1"),
        Row(name: "T 36", vitals: [F.vitals(t: 36)], expected: [], source: "Bone 1992 'T < 36' via clinical-spec 6.1"),
        Row(name: "T 35.9", vitals: [F.vitals(t: 35.9)], expected: ["temperature"], source: "Bone 1992 'T < 36' via clinical-spec 6.1"),
        Row(name: "HR 90", vitals: [F.vitals(hr: 90)], expected: [], source: "Bone 1992 'HR > 90' via clinical-spec 6.1"),
        Row(name: "HR 91", vitals: [F.vitals(hr: 91)], expected: ["heartRate"], source: "Bone 1992 'HR > 90' via clinical-spec 6.1"),
        Row(name: "RR 20", vitals: [F.vitals(rr: 20)], expected: [], source: "Bone 1992 'RR > 20' via clinical-spec 6.1"),
        Row(name: "RR 21", vitals: [F.vitals(rr: 21)], expected: ["respiration"], source: "Bone 1992 'RR > 20' via clinical-spec 6.1"),
        Row(name: "PaCO2 32 mmHg", labs: [F.lab("paco2", 32, "mm[Hg]")], expected: [], source: "Bone 1992 'PaCO2 < 32 mmHg' via clinical-spec 6.1"),
        Row(name: "PaCO2 31.9 mmHg", labs: [F.lab("paco2", 31.9, "mm[Hg]")], expected: ["respiration"], source: "Bone 1992 'PaCO2 < 32 mmHg' via clinical-spec 6.1"),
        // 4.3 kPa × 7.50062 = 32.25 mmHg: the mmHg threshold governs; 4.2 kPa = 31.5 mmHg.
        Row(name: "PaCO2 4.3 kPa (32.25 mmHg)", labs: [F.lab("paco2", 4.3, "kPa")], expected: [], source: "clinical-spec 6.1 '< 32 mmHg (4.3 kPa)'; case-format.md paco2 kPa"),
        Row(name: "PaCO2 4.2 kPa (31.5 mmHg)", labs: [F.lab("paco2", 4.2, "kPa")], expected: ["respiration"], source: "clinical-spec 6.1 '< 32 mmHg (4.3 kPa)'; case-format.md paco2 kPa"),
        // Ambiguity: 4.28 kPa is < 4.3 kPa but 32.10 mmHg is not < 32 mmHg; the mmHg threshold (Thresholds sirs.paco2) governs.
        Row(name: "PaCO2 4.28 kPa (32.10 mmHg)", labs: [F.lab("paco2", 4.28, "kPa")], expected: [],
            source: "clinical-spec 6.1: threshold is 32 mmHg; '4.3 kPa' is its rounded conversion"),
        Row(name: "PaCO2 4.26 kPa (31.95 mmHg)", labs: [F.lab("paco2", 4.26, "kPa")], expected: ["respiration"],
            source: "clinical-spec 6.1 '< 32 mmHg'"),
        Row(name: "RR 18 with PaCO2 31 mmHg", vitals: [F.vitals(rr: 18)], labs: [F.lab("paco2", 31, "mm[Hg]")], expected: ["respiration"],
            source: "Bone 1992 'RR > 20 or PaCO2 < 32' via clinical-spec 6.1"),
        Row(name: "WBC 12", labs: [F.lab("wbc", 12, "10*9/L")], expected: [], source: "Bone 1992 'WBC > 12' via clinical-spec 6.1"),
        Row(name: "WBC 12.1", labs: [F.lab("wbc", 12.1, "10*9/L")], expected: ["wbc"], source: "Bone 1992 'WBC > 12' via clinical-spec 6.1"),
        Row(name: "WBC 4", labs: [F.lab("wbc", 4, "10*9/L")], expected: [], source: "Bone 1992 'WBC < 4' via clinical-spec 6.1"),
        Row(name: "WBC 3.9", labs: [F.lab("wbc", 3.9, "10*9/L")], expected: ["wbc"], source: "Bone 1992 'WBC < 4' via clinical-spec 6.1"),
        Row(name: "WBC 12100 /mm3", labs: [F.lab("wbc", 12100, "/mm3")], expected: ["wbc"], source: "Bone 1992 '> 12 000 /mm3' via clinical-spec 6.1"),
        Row(name: "bands 10 %", labs: [F.lab("bands", 10, "%")], expected: [], source: "Bone 1992 '> 10 % bands' via clinical-spec 6.1"),
        Row(name: "bands 10.1 %", labs: [F.lab("bands", 10.1, "%")], expected: ["wbc"], source: "Bone 1992 '> 10 % bands' via clinical-spec 6.1"),
        Row(name: "WBC 8 with bands 11 %", labs: [F.lab("wbc", 8, "10*9/L"), F.lab("bands", 11, "%")], expected: ["wbc"],
            source: "Bone 1992 WBC criterion includes bands via clinical-spec 6.1"),
    ]

    @Test("SIRS criteria, both sides of each threshold", arguments: sirsRows)
    func sirsThresholds(_ row: Row) throws {
        let sirs = try Self.assess(row).infection.sirs
        #expect(sirs.criteria == row.expected)
        #expect(sirs.criteriaMet == row.expected.count)
        #expect(sirs.positive == false) // a single criterion never makes SIRS
    }

    @Test("SIRS is positive at 2 criteria, not at 1 (Bone 1992 via clinical-spec 6.1)",
          arguments: [
            ([F.vitals(t: 38.1)], [String](), 1, false),
            ([F.vitals(t: 38.1, hr: 91)], [], 2, true),
            ([F.vitals(t: 35.9, rr: 21)], [], 2, true),
            ([F.vitals(t: 38.1, hr: 91, rr: 21)], [F.lab("wbc", 17000, "/mm3")], 4, true),
            ([F.vitals(t: 37, hr: 80, rr: 16)], [F.lab("wbc", 8, "10*9/L")], 0, false),
          ])
    func sirsCount(vitals: [String], labs: [String], met: Int, positive: Bool) throws {
        let sirs = try TestCases.assess(F.caseJSON(vitals: vitals, labs: labs)).infection.sirs
        #expect(sirs.criteriaMet == met)
        #expect(sirs.positive == positive)
        #expect(sirs.basis.contains("\(met)/4"))
    }

    @Test("SIRS lists unassessed criteria and never defaults them to normal (clinical-spec 0.3 rule 3)")
    func sirsNotAssessed() throws {
        let sirs = try TestCases.assess(F.caseJSON(vitals: [F.vitals(hr: 95)])).infection.sirs
        #expect(sirs.criteria == ["heartRate"])
        #expect(sirs.notAssessed == ["temperature", "respiration", "wbc"])
        #expect(sirs.sources == [Sources.bone1992])
    }

    // MARK: qSOFA (Sepsis-3)

    struct QRow: Sendable, CustomTestStringConvertible {
        let name: String
        let vitals: String
        let score: Int
        let positive: Bool
        var testDescription: String { "\(name) → \(score)" }
    }

    static let qsofaRows: [QRow] = [
        // Seymour 2016 via clinical-spec 6.3: RR ≥ 22, SBP ≤ 100, altered mentation; positive ≥ 2.
        QRow(name: "RR 21", vitals: F.vitals(rr: 21), score: 0, positive: false),
        QRow(name: "RR 22", vitals: F.vitals(rr: 22), score: 1, positive: false),
        QRow(name: "SBP 101", vitals: F.vitals(sbp: 101), score: 0, positive: false),
        QRow(name: "SBP 100", vitals: F.vitals(sbp: 100), score: 1, positive: false),
        QRow(name: "mentation normal", vitals: F.vitals(mentation: false), score: 0, positive: false),
        QRow(name: "altered mentation", vitals: F.vitals(mentation: true), score: 1, positive: false),
        QRow(name: "RR 22 + SBP 100", vitals: F.vitals(rr: 22, sbp: 100), score: 2, positive: true),
        QRow(name: "RR 22 + altered mentation", vitals: F.vitals(rr: 22, mentation: true), score: 2, positive: true),
        QRow(name: "SBP 100 + altered mentation", vitals: F.vitals(sbp: 100, mentation: true), score: 2, positive: true),
        QRow(name: "RR 21 + SBP 101 + normal mentation", vitals: F.vitals(rr: 21, sbp: 101, mentation: false), score: 0, positive: false),
        QRow(name: "RR 21 + SBP 100 + altered", vitals: F.vitals(rr: 21, sbp: 100, mentation: true), score: 2, positive: true),
        QRow(name: "all three", vitals: F.vitals(rr: 30, sbp: 80, mentation: true), score: 3, positive: true),
    ]

    @Test("qSOFA items and positivity (Seymour 2016 via clinical-spec 6.3)", arguments: qsofaRows)
    func qsofaThresholds(_ row: QRow) throws {
        let qsofa = try #require(try TestCases.assess(F.caseJSON(vitals: [row.vitals])).infection.qsofa)
        #expect(qsofa.score == row.score)
        #expect(qsofa.positive == row.positive)
    }

    @Test("qSOFA is null when RR, SBP and mentation are all absent (case-format.md project decision)",
          arguments: [[F.vitals(t: 38.5, hr: 110)], []])
    func qsofaNull(vitals: [String]) throws {
        let assessment = try TestCases.assess(F.caseJSON(vitals: vitals))
        #expect(assessment.infection.qsofa == nil)
        let json = AssessmentJSON.encode(assessment)
        #expect(json["infection"]?["qsofa"] == .null)
    }

    @Test("qSOFA with partial inputs names what is missing (clinical-spec 0.3 rule 3)")
    func qsofaPartial() throws {
        let qsofa = try #require(try TestCases.assess(F.caseJSON(vitals: [F.vitals(rr: 22)])).infection.qsofa)
        #expect(qsofa.score == 1)
        #expect(qsofa.notAssessed == ["alteredMentation", "systolicBP"])
        #expect(qsofa.basis.contains("may be higher"))
    }

    // MARK: which vitals row and lab

    @Test("The latest vitals row on or before asOf is used; later rows are ignored (case-format.md vitals rule)")
    func latestVitalsRowOnOrBeforeAsOf() throws {
        let text = F.caseJSON(
            vitals: [
                // After asOf: would be 4 IDSA signs, SIRS 3/4 and qSOFA 3 if it were read.
                F.vitals(F.day(2), t: 40, hr: 130, rr: 30, sbp: 80, mentation: true),
                F.vitals(F.day(0), t: 37, hr: 80),
                F.vitals(F.day(-5), t: 39, hr: 120, rr: 28),
            ],
            labs: [F.lab("wbc", 17, "10*9/L", date: F.day(-5)), F.lab("wbc", 8, "10*9/L"), F.lab("wbc", 25, "10*9/L", date: F.day(1))])
        let assessment = try TestCases.assess(text)
        let infection = assessment.infection
        #expect(infection.systemicSigns.present.isEmpty)
        #expect(infection.systemicSigns.notAssessed == ["respiratoryRate"])
        #expect(infection.systemicSigns.basis.contains("vitals of \(F.asOf)"))
        #expect(infection.sirs.criteriaMet == 0)
        #expect(infection.sirs.notAssessed == ["respiration"])
        // The asOf row has no RR, SBP or mentation: qSOFA is null even though a later row has all three.
        #expect(infection.qsofa == nil)
        #expect(assessment.ignoredRecordCount == 2)
        #expect(!F.alertIDs(assessment).contains("SEPSIS-QSOFA"))
    }

    @Test("An earlier row is used when it is the latest on or before asOf (case-format.md vitals rule)")
    func earlierRowUsedWhenLatest() throws {
        let text = F.caseJSON(vitals: [F.vitals(F.day(-3), t: 38.5, hr: 100, rr: 22, sbp: 100),
                                       F.vitals(F.day(1), t: 36.8, hr: 70, rr: 12, sbp: 130, mentation: false)])
        let infection = try TestCases.assess(text).infection
        #expect(infection.systemicSigns.present == ["temperature", "heartRate"])
        #expect(infection.sirs.criteria == ["temperature", "heartRate", "respiration"])
        let qsofa = try #require(infection.qsofa)
        #expect(qsofa.score == 2)
        #expect(qsofa.basis.contains(F.day(-3)))
    }

    @Test("Rule functions agree with the assessment (direct call on the case context)")
    func directEvaluation() throws {
        let ctx = try F.context(F.caseJSON(vitals: [F.vitals(t: 38.6, hr: 104)], labs: [F.lab("wbc", 17000, "/mm3")]))
        #expect(IDSASystemicSigns.evaluate(ctx).present == ["temperature", "heartRate", "wbc"])
        let sirs = SIRS.evaluate(ctx)
        #expect(sirs.criteriaMet == 3)
        #expect(sirs.positive)
        #expect(QSOFA.evaluate(ctx) == nil)
    }
}
