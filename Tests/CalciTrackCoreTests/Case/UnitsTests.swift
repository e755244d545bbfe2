import Testing
@testable import CalciTrackCore

/// Lab unit conversion to the canonical unit per test (case-format.md Field rules: `labs[].test`
/// and accepted units; clinical-spec 1.2 for the Ca and P factors, 12.6 for UCUM spellings).
struct UnitsTests {
    struct Conversion: Sendable, CustomTestStringConvertible {
        let test: LabTest
        let value: Double
        let unit: String
        let expected: Double
        var testDescription: String { "\(test.rawValue) \(value) \(unit) = \(expected) \(Units.canonicalUnit(for: test))" }
    }

    static let conversions: [Conversion] = [
        // clinical-spec 1.2: Ca[mg/dL] = Ca[mmol/L] × 4.008
        .init(test: .calcium, value: 2.5, unit: "mmol/L", expected: 10.02),
        .init(test: .calcium, value: 9.1, unit: "mg/dL", expected: 9.1),
        .init(test: .calciumCorrected, value: 2.2, unit: "mmol/L", expected: 8.8176),
        .init(test: .calciumCorrected, value: 8.8, unit: "mg/dL", expected: 8.8),
        // clinical-spec 1.2: P[mg/dL] = P[mmol/L] × 3.097
        .init(test: .phosphate, value: 1.2, unit: "mmol/L", expected: 3.7164),
        .init(test: .phosphate, value: 4.0, unit: "mg/dL", expected: 4.0),
        // creatinine: 1 mg/dL = 88.42 umol/L (molar mass 113.12 g/mol; Units.swift header)
        .init(test: .creatinine, value: 88.42, unit: "umol/L", expected: 1.0),
        .init(test: .creatinine, value: 176.84, unit: "umol/L", expected: 2.0),
        .init(test: .creatinine, value: 1.1, unit: "mg/dL", expected: 1.1),
        // egfr: case-format spelling and the UCUM annotation form of clinical-spec 12.6
        .init(test: .egfr, value: 60, unit: "mL/min/1.73m2", expected: 60),
        .init(test: .egfr, value: 45, unit: "mL/min/{1.73_m2}", expected: 45),
        // wbc: 1/mm3 = 1/uL = 10^-3 × 10^9/L; 10*3/uL = 10*9/L (clinical-spec 12.6)
        .init(test: .wbc, value: 7500, unit: "/mm3", expected: 7.5),
        .init(test: .wbc, value: 12_500, unit: "/mm3", expected: 12.5),
        .init(test: .wbc, value: 7.5, unit: "10*3/uL", expected: 7.5),
        .init(test: .wbc, value: 3.9, unit: "10*9/L", expected: 3.9),
        .init(test: .bands, value: 12, unit: "%", expected: 12),
        // crp: 1 mg/dL = 10 mg/L
        .init(test: .crp, value: 1.5, unit: "mg/dL", expected: 15),
        .init(test: .crp, value: 15, unit: "mg/L", expected: 15),
        // albumin: 10 g/L = 1 g/dL
        .init(test: .albumin, value: 35, unit: "g/L", expected: 3.5),
        .init(test: .albumin, value: 3.5, unit: "g/dL", expected: 3.5),
        .init(test: .pth, value: 65, unit: "pg/mL", expected: 65),
        .init(test: .inr, value: 2.4, unit: "1", expected: 2.4),
        // paco2: 1 kPa = 7.50062 mm Hg
        .init(test: .paco2, value: 5.3, unit: "kPa", expected: 39.753286),
        .init(test: .paco2, value: 40, unit: "mm[Hg]", expected: 40),
        // ionised calcium is kept in mmol/L (case-format: "calciumIonized (mmol/L; never used for Ca×P)")
        .init(test: .calciumIonized, value: 1.2, unit: "mmol/L", expected: 1.2),
    ]

    @Test("each accepted unit converts to the canonical value", arguments: conversions)
    func converts(_ c: Conversion) throws {
        let value = try Units.toCanonical(c.value, unit: c.unit, test: c.test)
        #expect(abs(value - c.expected) <= 1e-9 * max(1, abs(c.expected)), "got \(value)")
    }

    @Test("the conversion factors (clinical-spec 1.2 for Ca and P; Units.swift header for the others)")
    func factors() {
        #expect(Units.calciumMgDlPerMmolL == 4.008)  // clinical-spec 1.2
        #expect(Units.phosphateMgDlPerMmolL == 3.097)  // clinical-spec 1.2
        #expect(Units.creatinineUmolLPerMgDl == 88.42)
        #expect(Units.mmHgPerKPa == 7.50062)
        // clinical-spec 1.2 quotes the product factor as 12.414 (from unrounded atomic weights);
        // 4.008 × 3.097 = 12.412776. Both put 70 mg²/dL² at ≈ 5.639 mmol²/L² (case-format decisions).
        #expect(abs(Units.caxpMgPerMmol - 12.412776) < 1e-9)
        #expect(abs(Units.caxpMgPerMmol - 12.414) < 0.002)
        #expect(rounded(70 / Units.caxpMgPerMmol, places: 3) == 5.639)
    }

    /// case-format Field rules list exactly these units per test.
    static let acceptedUnits: [(LabTest, [String])] = [
        (.calcium, ["mg/dL", "mmol/L"]), (.calciumCorrected, ["mg/dL", "mmol/L"]), (.calciumIonized, ["mmol/L"]),
        (.phosphate, ["mg/dL", "mmol/L"]), (.creatinine, ["mg/dL", "umol/L"]),
        (.egfr, ["mL/min/1.73m2", "mL/min/{1.73_m2}"]), (.wbc, ["10*9/L", "10*3/uL", "/mm3"]), (.bands, ["%"]),
        (.crp, ["mg/L", "mg/dL"]), (.albumin, ["g/dL", "g/L"]), (.pth, ["pg/mL"]), (.inr, ["1"]), (.paco2, ["mm[Hg]", "kPa"]),
    ]

    @Test("the accepted units per test are those of case-format Field rules (plus the UCUM eGFR form, clinical-spec 12.6)")
    func acceptedUnitLists() {
        #expect(Self.acceptedUnits.count == LabTest.allCases.count)
        for (test, units) in Self.acceptedUnits {
            #expect(Units.accepted(for: test) == units, "\(test)")
            #expect(Units.accepted(for: test).contains(Units.canonicalUnit(for: test)), "\(test)")
        }
    }

    @Test("canonical units: mg/dL for Ca, P and creatinine (clinical-spec 1.2 computes Ca×P in mg²/dL²)")
    func canonicalUnits() {
        #expect(Units.canonicalUnit(for: .calcium) == "mg/dL")
        #expect(Units.canonicalUnit(for: .calciumCorrected) == "mg/dL")
        #expect(Units.canonicalUnit(for: .phosphate) == "mg/dL")
        #expect(Units.canonicalUnit(for: .creatinine) == "mg/dL")
        #expect(Units.canonicalUnit(for: .calciumIonized) == "mmol/L")
        #expect(Units.canonicalUnit(for: .wbc) == "10*9/L")
        #expect(Units.canonicalUnit(for: .crp) == "mg/L")
        #expect(Units.canonicalUnit(for: .albumin) == "g/dL")
        #expect(Units.canonicalUnit(for: .paco2) == "mm[Hg]")
        #expect(Units.canonicalUnit(for: .egfr) == "mL/min/1.73m2")
    }

    struct Rejected: Sendable, CustomTestStringConvertible {
        let test: LabTest
        let unit: String
        var testDescription: String { "\(test.rawValue) in \"\(unit)\"" }
    }

    static let rejectedUnits: [Rejected] = [
        .init(test: .calciumIonized, unit: "mg/dL"),  // case-format: ionised calcium only in mmol/L
        .init(test: .calcium, unit: "g/L"),
        .init(test: .calcium, unit: "mg/dl"),  // UCUM is case-sensitive
        .init(test: .calcium, unit: "mmol/l"),
        .init(test: .calcium, unit: "mEq/L"),
        .init(test: .phosphate, unit: "mEq/L"),
        .init(test: .creatinine, unit: "µmol/L"),
        .init(test: .creatinine, unit: "mg/L"),
        .init(test: .wbc, unit: "mg/dL"),
        .init(test: .wbc, unit: "10^9/L"),
        .init(test: .egfr, unit: "mL/min"),
        .init(test: .crp, unit: "mg/l"),
        .init(test: .albumin, unit: "g/l"),
        .init(test: .paco2, unit: "mmHg"),
        .init(test: .inr, unit: ""),
        .init(test: .bands, unit: "percent"),
    ]

    @Test("other units are an error naming the accepted ones (case-format Field rules)", arguments: rejectedUnits)
    func rejects(_ r: Rejected) {
        #expect(throws: UnitError(test: r.test, unit: r.unit)) { try Units.toCanonical(1, unit: r.unit, test: r.test) }
        let message = UnitError(test: r.test, unit: r.unit).message
        #expect(message == "unit \"\(r.unit)\" is not accepted for \(r.test.rawValue); use one of: \(Units.accepted(for: r.test).joined(separator: ", "))")
    }

    @Test("ionised calcium error message lists mmol/L only (case-format Field rules)")
    func ionisedMessage() {
        #expect(UnitError(test: .calciumIonized, unit: "mg/dL").message
            == "unit \"mg/dL\" is not accepted for calciumIonized; use one of: mmol/L")
    }

    @Test("the decoder keeps the value as entered and stores the canonical value (case-format: converted before rules)")
    func decodedLabs() throws {
        let json = TestCases.json(#"""
            "labs": [
              {"test": "calcium", "value": 2.5, "unit": "mmol/L", "date": "2024-01-10"},
              {"test": "phosphate", "value": 1.2, "unit": "mmol/L", "date": "2024-01-10"},
              {"test": "wbc", "value": 13500, "unit": "/mm3", "date": "2024-01-10"},
              {"test": "calciumIonized", "value": 1.25, "unit": "mmol/L", "date": "2024-01-10"},
              {"test": "creatinine", "value": 97, "unit": "umol/L", "date": "2024-01-10"}
            ]
            """#)
        let labs = try TestCases.decode(json).case.labs
        #expect(labs.map(\.test) == [.calcium, .phosphate, .wbc, .calciumIonized, .creatinine])
        #expect(labs.map(\.unit) == ["mmol/L", "mmol/L", "/mm3", "mmol/L", "umol/L"])
        #expect(labs.map(\.value) == [2.5, 1.2, 13500, 1.25, 97])
        let canonical = labs.map(\.canonicalValue)
        let expected = [10.02, 3.7164, 13.5, 1.25, 97 / 88.42]
        for (got, want) in zip(canonical, expected) { #expect(abs(got - want) < 1e-9) }
    }

    @Test("LabResult converts on construction and throws for a wrong unit")
    func labResultInit() throws {
        let date = LocalDate(iso: "2024-01-10")!
        let lab = try LabResult(test: .albumin, value: 40, unit: "g/L", date: date)
        #expect(abs(lab.canonicalValue - 4.0) < 1e-12)
        #expect(throws: UnitError(test: .calciumIonized, unit: "mg/dL")) {
            try LabResult(test: .calciumIonized, value: 4.8, unit: "mg/dL", date: date)
        }
    }

    @Test("rounded(_:places:) used for converted values in messages")
    func rounding() {
        #expect(rounded(120.24, places: 3) == 120.24)
        #expect(rounded(5.63935, places: 3) == 5.639)
        #expect(rounded(39.753286, places: 2) == 39.75)
        #expect(rounded(2.5, places: 0) == 3)
    }
}
