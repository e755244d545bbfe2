@testable import CalciTrackCore
import Foundation
import Testing

private typealias B = RuleCaseBuilder

/// The seed cases of ../shared/cases, assessed and checked by ../shared/tools/check-assessment.py
/// against their expectation files (Seed-1: Martínez Camacho 2023; Seed-2: Mourad & Louis 2021),
/// plus the fixed keys of the assessment contract (case-format.md "Assessment (output)").
@Suite("Seed cases")
struct SeedCasesTests {

    struct CheckerRun {
        let status: Int32
        let output: String
    }

    static func runChecker(assessment: URL, expected: URL) throws -> CheckerRun {
        let script = TestCases.sharedDirectory.appendingPathComponent("tools").appendingPathComponent("check-assessment.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, assessment.path, expected.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CheckerRun(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    static func assessmentJSON(_ name: String) throws -> JSONValue {
        AssessmentJSON.encode(Assessor().assess(try B.decodeSeed(name)))
    }

    @Test("Seed assessment passes check-assessment.py [seed expectation files in ../shared/cases]", arguments: B.seedNames)
    func checker(_ name: String) throws {
        let text = JSONWriter.write(try Self.assessmentJSON(name))
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("calcitrack-seedcase-\(name)-\(UUID().uuidString).json")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let run = try Self.runChecker(assessment: file, expected: B.seedURL(name, "expected"))
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains(" 0 failed"), "\(run.output)")
        #expect(!run.output.contains("FAIL"), "\(run.output)")
        #expect(!run.output.contains("\n0 passed"), "checker ran no expectation: \(run.output)")
    }

    @Test("The checker does fail a wrong assessment [tools/check-assessment.py exit status 1]")
    func checkerCanFail() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("calcitrack-seedcase-wrong-\(UUID().uuidString).json")
        try #"{"calcinosisType": {"value": "metastatic"}}"#.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let run = try Self.runChecker(assessment: file, expected: B.seedURL("seed-2-followup", "expected"))
        #expect(run.status == 1)
        #expect(!run.output.contains(" 0 failed"))
    }

    static let topKeys = ["formatVersion", "caseId", "asOf", "calcinosisType", "calciumPhosphateProduct", "infection", "alerts",
                          "imaging", "therapyOptions", "doses", "lesions", "followUp", "riskFactors"]
    static let objectKeys: [String: [String]] = [
        "calcinosisType": ["value", "matchedRules", "missingInputs", "basis", "sources"],
        "calciumPhosphateProduct": ["mg2dl2", "mmol2l2", "aboveThreshold"],
        "infection": ["present", "purulent", "systemicSigns", "sirs", "qsofa", "immunocompromised", "severity", "route",
                      "mrsaCoverage", "mrsaReasons", "management", "empiricOptions", "durationDays", "basis", "sources"],
        "infection.sirs": ["criteriaMet", "positive"],
        "followUp": ["status", "lastVisit", "daysSinceLastVisit"],
    ]
    static let elementKeys: [String: [String]] = [
        "alerts": ["id", "level", "message", "drugs", "source"],
        "imaging": ["modality", "reason"],
        "therapyOptions": ["id", "regimen", "evidenceLevel", "source"],
        "doses": ["id", "basis"],
        "lesions": ["id", "latestAreaCm2", "areaMethod", "par4w", "trend", "response"],
        "riskFactors": ["id", "association", "source"],
    ]

    @Test("Fixed keys of the assessment are present [case-format.md Assessment (output), fixed keys]", arguments: B.seedNames)
    func fixedKeys(_ name: String) throws {
        let json = try Self.assessmentJSON(name)
        for key in Self.topKeys {
            #expect(json[key] != nil, "\(name): \(key) missing")
        }
        for (path, keys) in Self.objectKeys {
            let object = try #require(B.value(json, path), "\(name): \(path) missing")
            for key in keys {
                #expect(object[key] != nil, "\(name): \(path).\(key) missing")
            }
        }
        for (path, keys) in Self.elementKeys {
            guard case .array(let items)? = json[path] else {
                Issue.record("\(name): \(path) is not an array")
                continue
            }
            for (i, item) in items.enumerated() {
                for key in keys {
                    #expect(item[key] != nil, "\(name): \(path)[\(i)].\(key) missing")
                }
            }
        }
        #expect(json["formatVersion"] == .number(1))
        #expect(json["caseId"] == .string(name))
    }

    struct SeedFacts: Sendable, CustomTestStringConvertible {
        let name: String
        let asOf: String
        let type: String
        let alerts: [String]
        let imaging: [String]
        let lesions: [String: (area: Double, trend: String, response: String)]
        let followUp: String
        let riskFactors: [String]
        let source: String
        var testDescription: String { "\(name) [\(source)]" }
    }

    static let facts: [SeedFacts] = [
        .init(name: "seed-1-admission", asOf: "2023-09-01", type: "undetermined",
              alerts: ["DDI-11", "HOLD-01", "DDI-03", "LABS-MISSING"], imaging: ["radiograph", "ultrasound"],
              lesions: ["thigh": (9.42, "new", "not-assessable"), "knee": (4.71, "new", "not-assessable")], followUp: "ok",
              riskFactors: ["telangiectasia", "anti-scl70", "disease-duration-over-10-years", "limited-subtype"],
              source: "Seed-1 (no Ca/P reported → R7; mycophenolate during severe infection → DDI-11/HOLD-01; knee → US)"),
        .init(name: "seed-1-discharge", asOf: "2023-09-04", type: "undetermined",
              alerts: ["DDI-02", "HOLD-02", "DDI-03", "LABS-MISSING"], imaging: ["radiograph"],
              lesions: ["thigh": (6.87, "improving", "partial")], followUp: "ok",
              riskFactors: ["telangiectasia", "anti-scl70", "disease-duration-over-10-years", "limited-subtype"],
              source: "Seed-1 discharge (doxycycline with warfarin → DDI-02, HOLD-02)"),
        .init(name: "seed-2-followup", asOf: "2019-06-01", type: "dystrophic",
              alerts: [], imaging: ["radiograph"],
              lesions: ["right-tibia": (0.39, "improving", "partial"), "left-leg": (2.36, "worsening", "none")], followUp: "lost",
              riskFactors: ["digital-ischemia", "telangiectasia", "pulmonary-arterial-hypertension", "disease-duration-over-10-years",
                            "limited-subtype"],
              source: "Seed-2 (normal Ca/P → dystrophic; lost to follow-up from May 2018)"),
    ]

    @Test("Seed assessment values", arguments: facts)
    func values(_ f: SeedFacts) throws {
        let json = try Self.assessmentJSON(f.name)
        #expect(json["asOf"] == .string(f.asOf))
        #expect(B.value(json, "calcinosisType.value") == .string(f.type))
        #expect(B.value(json, "followUp.status") == .string(f.followUp))
        guard case .array(let alerts)? = json["alerts"], case .array(let imaging)? = json["imaging"],
              case .array(let lesions)? = json["lesions"], case .array(let factors)? = json["riskFactors"]
        else { Issue.record("arrays missing"); return }
        #expect(alerts.map { $0["id"] } == f.alerts.map { JSONValue.string($0) })
        #expect(imaging.map { $0["modality"] } == f.imaging.map { JSONValue.string($0) })
        #expect(factors.map { $0["id"] } == f.riskFactors.map { JSONValue.string($0) })
        #expect(lesions.count == f.lesions.count)
        for (id, want) in f.lesions {
            let lesion = try #require(lesions.first { $0["id"] == .string(id) }, "\(id)")
            #expect(lesion["latestAreaCm2"] == .number(want.area), "\(id)")
            #expect(lesion["trend"] == .string(want.trend), "\(id)")
            #expect(lesion["response"] == .string(want.response), "\(id)")
        }
    }
}
