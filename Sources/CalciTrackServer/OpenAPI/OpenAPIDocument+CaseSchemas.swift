import CalciTrackCore
import Foundation

extension OpenAPIDocument {
    // MARK: - Case-format pieces (shared by patient bodies, record bodies and POST /assess)

    /// Schemas of the case format's parts (../shared/case-format.md), as the engine's decoder
    /// validates them. `closed` is true for registry bodies (an unknown key is a 422) and false
    /// inside a case given to POST /assess (unknown keys only become `inputWarnings`).
    enum CaseSchemas {
        static func patient(closed: Bool) -> [(String, JSONValue)] {
            [("sex", S.vocabulary(Sex.self, nullable: true)),
             ("birthDate", S.date(nullable: true, "not after asOf (for the registry: today)")),
             ("weightKg", S.plausible(PlausibleRanges.weightKg)),
             ("pregnant", S.boolean(nullable: true))]
        }

        static func ssc(closed: Bool) -> JSONValue {
            let antibodies = ["scl70", "centromere", "pmScl", "rnaPolIII"].map { ($0, S.vocabulary(AntibodyStatus.self, nullable: true)) }
            let diagnosisDate = S.obj([
                ("description", "YYYY-MM-DD or a year YYYY; not before patient.birthDate"),
                ("anyOf", .array([S.date(), S.string(pattern: Patterns.yearOnly), S.obj([("type", "null")])])),
            ])
            return S.object([
                ("subtype", S.vocabulary(SScSubtype.self, nullable: true)),
                ("diagnosisDate", diagnosisDate),
                ("antibodies", S.object(antibodies, closed: closed, nullable: true)),
                ("features", S.array(S.vocabulary(SScFeature.self), nullable: true)),
            ], closed: closed, nullable: true, "systemic sclerosis profile")
        }

        static let otherConnectiveTissueDisease = S.array(S.vocabulary(ConnectiveTissueDisease.self), nullable: true)

        static func history(closed: Bool) -> JSONValue {
            let exposure = S.object([
                ("date", S.date()), ("kind", S.vocabulary(ExposureKind.self)),
                ("site", S.vocabulary(BodySite.self, nullable: true)), ("laterality", S.vocabulary(Laterality.self, nullable: true)),
            ], required: ["date", "kind"], closed: closed)
            let flags = ["dialysis", "mrsaInfectionElsewhere", "mrsaNasalColonization", "injectionDrugUse", "penetratingTrauma",
                         "familyHistoryTumoralCalcinosis"].map { ($0, S.boolean(nullable: true)) }
            return S.object(flags + [("calciumOrPhosphateExposures", S.array(exposure, nullable: true))], closed: closed, nullable: true)
        }

        static func infection(closed: Bool) -> JSONValue {
            S.object(["failedPriorTherapy", "immunocompromised", "hypotension", "organDysfunction", "deepInfectionSigns"]
                .map { ($0, S.boolean(nullable: true)) }, closed: closed, nullable: true, "clinician inputs to infection triage")
        }

        static func workup(closed: Bool) -> JSONValue {
            S.object(["plannedSurgery", "suspectedDeepExtension", "neurovascularSymptoms", "suspectedSoftTissueInflammation"]
                .map { ($0, S.boolean(nullable: true)) }, closed: closed, nullable: true, "inputs to the imaging work-up")
        }

        static let findingKeys = ["ulcerated", "purulent", "abscess", "erythema", "warmth", "edema", "pain", "extrusion", "bullae",
                                  "skinSloughing", "necrosis", "retiformPurpura", "livedo"]

        static func findings(closed: Bool) -> JSONValue {
            S.object(findingKeys.map { ($0, S.boolean(nullable: true)) }, closed: closed, nullable: true, "current findings; absent means no")
        }

        static func lesionFields(closed: Bool) -> [(String, JSONValue)] {
            [("site", S.vocabulary(BodySite.self, nullable: true)), ("laterality", S.vocabulary(Laterality.self, nullable: true)),
             ("morphology", S.vocabulary(Morphology.self, nullable: true)), ("periarticularMass", S.boolean(nullable: true)),
             ("findings", findings(closed: closed))]
        }

        static let measurementFields: [(String, JSONValue)] = [
            ("date", S.date("not after asOf + 1 day (for the registry: today + 1 day)")),
            ("lengthCm", S.plausible(PlausibleRanges.lengthCm)), ("widthCm", S.plausible(PlausibleRanges.lengthCm)),
            ("depthCm", S.plausible(PlausibleRanges.lengthCm)), ("areaCm2", S.plausible(PlausibleRanges.areaCm2)),
            ("perimeterCm", S.plausible(PlausibleRanges.perimeterCm)), ("healed", S.boolean(nullable: true)),
        ]

        /// A measurement needs lengthCm and widthCm, or areaCm2 (planimetry), or healed: true.
        static let measurementSize: (String, JSONValue?) = ("anyOf", .array([
            S.obj([("required", ["lengthCm", "widthCm"]), ("properties", S.obj([("lengthCm", S.obj([("type", "number")])), ("widthCm", S.obj([("type", "number")]))]))]),
            S.obj([("required", ["areaCm2"]), ("properties", S.obj([("areaCm2", S.obj([("type", "number")]))]))]),
            S.obj([("required", ["healed"]), ("properties", S.obj([("healed", S.constant(true))]))]),
        ]))

        static let labFields: [(String, JSONValue)] = [
            ("test", S.vocabulary(LabTest.self)),
            ("value", S.number("in `unit`; converted to the test's canonical unit it must lie in the test's plausible range (x-accepted-units)")),
            ("unit", S.enumeration(allLabUnits, "UCUM spelling; which units a test accepts: x-accepted-units")),
            ("date", S.date()),
        ]

        static let allLabUnits: [String] = LabTest.allCases.flatMap { Units.accepted(for: $0) }.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }

        /// Per test, the accepted units and the value range in each: the value, converted to the
        /// test's canonical unit, lies in `PlausibleRanges.lab(test)`. Bounds are the exact doubles
        /// the server's `value * factor` comparison accepts. (A vendor extension rather than an
        /// anyOf of 27 branches, which multiplies generated test cases without finding more.)
        static let labUnitsAndRanges: (String, JSONValue?) = ("x-accepted-units", .object(JSONObject(LabTest.allCases.map { test in
            (test.rawValue, .object(JSONObject(Units.accepted(for: test).map { unit in
                let range = PlausibleRanges.lab(test)
                let factor = (try? Units.toCanonical(1, unit: unit, test: test)) ?? 1
                return (unit, S.obj([("minimum", .number(lowestAccepted(range.low, factor))), ("maximum", .number(highestAccepted(range.high, factor)))]))
            })))
        })))

        static func lowestAccepted(_ low: Double, _ factor: Double) -> Double {
            var v = low / factor
            while v * factor < low { v = v.nextUp }
            while v.nextDown * factor >= low { v = v.nextDown }
            return v
        }

        static func highestAccepted(_ high: Double, _ factor: Double) -> Double {
            var v = high / factor
            while v * factor > high { v = v.nextDown }
            while v.nextUp * factor <= high { v = v.nextUp }
            return v
        }

        static let vitalsFields: [(String, JSONValue)] = [
            ("date", S.date()),
            ("temperatureC", S.plausible(PlausibleRanges.temperatureC)), ("heartRate", S.plausible(PlausibleRanges.heartRate)),
            ("respiratoryRate", S.plausible(PlausibleRanges.respiratoryRate)), ("systolicBP", S.plausible(PlausibleRanges.systolicBP)),
            ("alteredMentation", S.boolean(nullable: true)),
        ]

        static let medicationFields: [(String, JSONValue)] = [
            ("drug", S.string(pattern: Patterns.notOnlyWhiteSpace, "generic name; stored trimmed and lower-cased")),
            ("doseMg", S.plausible(PlausibleRanges.doseMg)),
            ("frequency", S.vocabulary(Frequency.self, nullable: true)), ("route", S.vocabulary(Route.self, nullable: true)),
            ("start", S.date(nullable: true)), ("stop", S.date(nullable: true, "on or after start")),
        ]

        static let visitFields: [(String, JSONValue)] = [
            ("date", S.date()), ("kind", S.vocabulary(VisitKind.self, nullable: true)),
            ("nextDue", S.date(nullable: true, "on or after date")),
        ]

        static let imagingFields: [(String, JSONValue)] = [
            ("date", S.date()), ("modality", S.vocabulary(ImagingModality.self)), ("inconclusive", S.boolean(nullable: true)),
        ]

        /// A whole case (format version 1) for POST /assess. Unknown keys are accepted and reported
        /// back as `inputWarnings`, so no object here is closed.
        static var wholeCase: JSONValue {
            let lesion = S.object([("id", S.string(minLength: 1, "unique within the case"))] + lesionFields(closed: false)
                + [("measurements", S.array(S.object(measurementFields, required: ["date"], closed: false, extra: [measurementSize]), nullable: true))],
                required: ["id"], closed: false)
            return S.object([
                ("formatVersion", S.constant(1)),
                ("id", S.string(nullable: true)),
                ("asOf", S.date(nullable: true, "the assessment date; the asOf query parameter overrides it; default today")),
                ("patient", S.object(patient(closed: false), closed: false, "required; all its fields are optional")),
                ("ssc", ssc(closed: false)),
                ("otherConnectiveTissueDisease", otherConnectiveTissueDisease),
                ("history", history(closed: false)),
                ("labs", S.array(S.object(labFields, required: ["test", "value", "unit", "date"], closed: false, extra: [labUnitsAndRanges]), nullable: true)),
                ("vitals", S.array(S.object(vitalsFields, required: ["date"], closed: false), nullable: true)),
                ("medications", S.array(S.object(medicationFields, required: ["drug"], closed: false), nullable: true)),
                ("lesions", S.array(lesion, nullable: true)),
                ("infection", infection(closed: false)),
                ("visits", S.array(S.object(visitFields, required: ["date"], closed: false), nullable: true)),
                ("imagingStudies", S.array(S.object(imagingFields, required: ["date", "modality"], closed: false), nullable: true)),
                ("workup", workup(closed: false)),
            ], required: ["formatVersion", "patient"], closed: false, "a case in case format version 1 (../shared/case-format.md)")
        }

        /// The assessment (`calcitrack assess --format json`); every key is always present. Nested
        /// parts are described by case-format.md "Output".
        static let assessment: JSONValue = {
            let keys: [(String, JSONValue)] = [
                ("formatVersion", S.integer()), ("caseId", S.string(nullable: true)), ("asOf", S.date()),
                ("engine", S.obj([("type", "object")])), ("calcinosisType", S.obj([("type", "object")])),
                ("calciumPhosphateProduct", S.obj([("type", "object")])), ("infection", S.obj([("type", "object")])),
                ("alerts", S.array(S.obj([("type", "object")]))), ("imaging", S.array(S.obj([("type", "object")]))),
                ("therapyOptions", S.array(S.obj([("type", "object")]))), ("doses", S.array(S.obj([("type", "object")]))),
                ("doseNotes", S.array(S.string())), ("lesions", S.array(S.obj([("type", "object")]))),
                ("followUp", S.obj([("type", "object")])), ("riskFactors", S.array(S.obj([("type", "object")]))),
                ("riskFactorNote", S.string()), ("medications", S.array(S.obj([("type", "object")]))),
                ("unrecognizedDrugs", S.array(S.string())), ("inputWarnings", S.array(S.ref("FieldIssue"))),
                ("ignoredRecords", S.integer(minimum: 0)), ("references", S.obj([("type", "object"), ("additionalProperties", S.string())])),
                ("disclaimer", S.string()),
            ]
            return S.object(keys, required: keys.map(\.0), closed: false, "the engine's assessment (case-format.md \"Output\")")
        }()
    }
}
