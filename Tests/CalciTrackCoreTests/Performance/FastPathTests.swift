import Foundation
import Testing
@testable import CalciTrackCore

/// The shortcuts taken for speed (BENCHMARKS.md) must give exactly what the plain code gives:
/// class bits against the class sets, number text against `String(Double)`, parsed numbers
/// against `Double(String)`, and basis texts written on read against an explicit override.
struct FastPathTests {
    @Test func classBitsAreDistinctAndMatchTheClassSets() {
        let bits = DrugClass.allCases.map(\.bit)
        #expect(Set(bits).count == DrugClass.allCases.count)
        for drug in DrugCatalog.drugs {
            for drugClass in DrugClass.allCases {
                #expect(drug.is(drugClass) == drug.classes.contains(drugClass), "\(drug.name) \(drugClass)")
            }
            #expect(drug.classNames == DrugClass.allCases.filter(drug.classes.contains).map(\.rawValue))
        }
    }

    @Test func hundredthsPrintAsTheShortestRoundTripForm() {
        var values: [Double] = [0.01, 0.05, 0.1, 0.5, 1.5, 9.42, 38.6, -2.25, -0.07, 123456.78, 999_999_999_999.99, 0.3]
        for k in -20_000...20_000 { values.append(Double(k) / 100) }
        for x in stride(from: -50.0, through: 50.0, by: 0.0137) { values.append(rounded(x, places: 2)); values.append(x) }
        for value in values {
            let expected = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
            #expect(JSONWriter.formatNumber(value) == expected, "\(value)")
            var bytes: [UInt8] = []
            JSONWriter.appendNumber(value, into: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == expected, "\(value)")
        }
    }

    @Test func parsedNumbersEqualDoubleParsing() throws {
        let texts = ["0", "-0", "0.5", "-0.0", "38.6", "17000", "9.8", "0.1", "2.62", "123456789012345", "1234567890123456",
                     "0.000000000000001", "3.14159265358979", "1e3", "2.5E-3", "-12.75", "99999999999999.9"]
        for text in texts {
            let parsed = try JSONParser.parse("[\(text)]")
            #expect(parsed == .array([.number(Double(text)!)]), "\(text)")
            if case .array(let items) = parsed, case .number(let n) = items[0] {
                #expect(n.bitPattern == Double(text)!.bitPattern, "\(text)")
            }
        }
    }

    @Test func parsedStringsKeepEscapesAndUnicode() throws {
        let parsed = try JSONParser.parse(#"{"a": "plain", "b": "caf\u00e9 \"q\" \\ é", "c": "ünïcode"}"#)
        #expect(parsed["a"] == .string("plain"))
        #expect(parsed["b"] == .string("café \"q\" \\ é"))
        #expect(parsed["c"] == .string("ünïcode"))
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(#"{"a": 1, "a": 2}"#) }
        let many = (0..<40).map { "\"k\($0)\": \($0)" }.joined(separator: ", ")
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse("{\(many), \"k7\": 0}") }
    }

    @Test func basisTextsCanStillBeSet() throws {
        let url = TestCases.sharedDirectory.appendingPathComponent("cases/seed-1-admission.case.json")
        var assessment = try TestCases.assess(String(decoding: try Data(contentsOf: url), as: UTF8.self))
        let encoded = AssessmentJSON.encode(assessment)
        #expect(!assessment.infection.basis.isEmpty && !assessment.alerts[0].basis.isEmpty)
        assessment.infection.basis = "set by hand"
        assessment.alerts[0].basis = "set by hand"
        assessment.lesions[0].basis = "set by hand"
        #expect(assessment.infection.basis == "set by hand")
        #expect(assessment.alerts[0].basis == "set by hand")
        #expect(assessment.lesions[0].basis == "set by hand")
        #expect(AssessmentJSON.encode(assessment) != encoded)
    }

    /// Texts written when read (`Deferred`) stay settable, and a therapy option's fixed fields
    /// are copied on change: the shared catalog row, and so the next assessment, is untouched.
    @Test func deferredTextsCanStillBeSet() throws {
        let url = TestCases.sharedDirectory.appendingPathComponent("cases/seed-1-admission.case.json")
        let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        var a = try TestCases.assess(text)
        let encoded = AssessmentJSON.encode(a)
        a.alerts[0].message = "m"; a.alerts[0].action = nil
        a.calcinosisType.basis = "c"; a.calciumPhosphateProduct.basis = "p"; a.followUp.basis = "f"
        a.infection.presentReasons = ["r"]; a.infection.severityReasons = ["s"]; a.infection.mrsaReasons = []
        a.therapyOptions[0].name = "n"; a.therapyOptions[0].basis = "b"; a.therapyOptions[0].sources = ["x"]
        #expect(a.alerts[0].message == "m" && a.alerts[0].action == nil)
        #expect(a.calcinosisType.basis == "c" && a.calciumPhosphateProduct.basis == "p" && a.followUp.basis == "f")
        #expect(a.infection.presentReasons == ["r"] && a.infection.severityReasons == ["s"] && a.infection.mrsaReasons.isEmpty)
        #expect(a.therapyOptions[0].name == "n" && a.therapyOptions[0].basis == "b" && a.therapyOptions[0].sources == ["x"])
        if !a.imaging.isEmpty { a.imaging[0].reason = "i"; #expect(a.imaging[0].reason == "i") }
        if !a.dosing.doses.isEmpty { a.dosing.doses[0].basis = "d"; #expect(a.dosing.doses[0].basis == "d") }
        if !a.riskFactors.isEmpty { a.riskFactors[0].basis = "k"; #expect(a.riskFactors[0].basis == "k") }
        if !a.infection.empiricOptions.isEmpty {
            a.infection.empiricOptions[0].weightBasedDose = "w"
            #expect(a.infection.empiricOptions[0].weightBasedDose == "w")
        }
        let again = try TestCases.assess(text)
        #expect(AssessmentJSON.encode(again) == encoded)
        #expect(again.therapyOptions[0].name == TherapyCatalog.entries[0].name)
    }
}
