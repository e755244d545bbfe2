import CalciTrackCore
import Foundation
import Testing

/// Helpers shared by the rule tests: build a case from a JSON fragment, assess it, read the JSON.
enum TestCases {
    static let today = LocalDate(iso: "2026-11-24")!

    /// A minimal valid case; `extra` is spliced into the root object (e.g. `"vitals": [...]`).
    static func json(asOf: String = "2024-01-10", _ extra: String = "") -> String {
        """
        {"formatVersion": 1, "id": "test", "asOf": "\(asOf)", "patient": {"sex": "female", "birthDate": "1970-01-01"}\(extra.isEmpty ? "" : ", " + extra)}
        """
    }

    static func decode(_ text: String, asOfOverride: LocalDate? = nil) throws -> DecodedCase {
        try CaseDecoder.decode(Array(text.utf8), asOfOverride: asOfOverride, today: today)
    }

    /// Errors of a case that must be rejected; records an issue if it was accepted.
    static func rejection(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [FieldIssue] {
        do {
            _ = try CaseDecoder.decode(Array(text.utf8), today: today)
            Issue.record("case was accepted but should be rejected", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.errors
        }
    }

    static func assess(_ text: String, thresholds: Thresholds = Thresholds()) throws -> Assessment {
        Assessor(thresholds: thresholds).assess(try decode(text))
    }

    /// The assessment as JSON, for checks on the public contract's keys.
    static func assessJSON(_ text: String) throws -> JSONValue {
        AssessmentJSON.encode(try assess(text))
    }

    /// A lesion with the given findings and one measurement (for infection tests).
    static func lesion(id: String = "L1", site: String = "thigh", laterality: String = "right",
                       findings: String = "", measurements: String = #"[{"date": "2024-01-10", "lengthCm": 2, "widthCm": 1}]"#) -> String {
        #"{"id": "\#(id)", "site": "\#(site)", "laterality": "\#(laterality)", "morphology": "stone", "findings": {\#(findings)}, "measurements": \#(measurements)}"#
    }

    /// The folder holding ../shared (seed cases and the checker), found from this source file.
    static var sharedDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared")
    }
}
