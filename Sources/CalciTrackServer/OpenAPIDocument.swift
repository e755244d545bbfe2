import CalciTrackCore
import Foundation

/// The OpenAPI 3.1 description of the JSON API, served at /openapi.json.
///
/// It is built from the same vocabularies, ranges and route lists the validators use
/// (`BodySite.allCases`, `PlausibleRanges`, `Units.accepted(for:)`, `RecordInfo`, ...), so an
/// added enum value or a changed range shows up here without editing this file. Everything a
/// schema declares must be true of the server: `Tests/e2e/schemathesis.sh` checks every response
/// against it. Rules JSON Schema cannot state (a date not after today + 1 day, stop on or after
/// start, a lesionId of the same patient, a siteId of one of your sites, unique MRNs and lesion
/// labels) are written in the descriptions and answered with 422.
enum OpenAPIDocument {
    static let json: JSONValue = build()

    static func build() -> JSONValue {
        var paths = PathTable()
        Routes.system(&paths)
        Routes.auth(&paths)
        Routes.admin(&paths)
        Routes.patients(&paths)
        Routes.assessment(&paths)
        for record in RecordDocs.all { Routes.records(record, &paths) }

        var schemas: [(String, JSONValue)] = Components.schemas
        for record in RecordDocs.all {
            schemas.append((record.schemaName + "Input", record.input))
            schemas.append((record.schemaName, record.output))
            schemas.append((record.schemaName + "List", S.object([("items", S.array(S.ref(record.schemaName)))], required: ["items"])))
        }
        return S.obj([
            ("openapi", "3.1.0"),
            ("info", S.obj([
                ("title", "CalciTrack API"),
                ("version", "1"),
                ("summary", "Registry and clinical decision support for calcinosis cutis in systemic sclerosis."),
                ("description", .string(Text.info)),
            ])),
            ("jsonSchemaDialect", "https://spec.openapis.org/oas/3.1/dialect/base"),
            ("servers", .array([S.obj([("url", "/")])])),
            ("security", .array([S.obj([("bearerAuth", .array([]))]), S.obj([("cookieSession", .array([]))])])),
            ("tags", .array(Text.tags.map { S.obj([("name", .string($0.0)), ("description", .string($0.1))]) })),
            ("paths", paths.json),
            ("components", S.obj([
                ("securitySchemes", Components.securitySchemes),
                ("parameters", Components.parameters),
                ("headers", Components.headers),
                ("responses", Components.responses),
                ("schemas", .object(JSONObject(schemas))),
            ])),
        ])
    }
}

// MARK: - JSON Schema builders

/// Small builders for JSON Schema 2020-12 (the dialect of OpenAPI 3.1). `nullable` means the
/// server reads null as "absent" (every optional input field does).
private enum S {
    static func obj(_ pairs: [(String, JSONValue?)]) -> JSONValue { .object(JSONObject(compacting: pairs)) }
    static func ref(_ name: String) -> JSONValue { obj([("$ref", .string("#/components/schemas/\(name)"))]) }
    static func type(_ name: String, _ nullable: Bool) -> JSONValue { nullable ? .array([.string(name), "null"]) : .string(name) }
    static func describe(_ text: String?) -> JSONValue? { text.map { .string($0) } }

    static func string(maxLength: Int? = nil, minLength: Int? = nil, pattern: String? = nil, format: String? = nil,
                       nullable: Bool = false, _ description: String? = nil) -> JSONValue {
        obj([("type", type("string", nullable)), ("format", format.map { .string($0) }), ("minLength", .optional(minLength)),
             ("maxLength", .optional(maxLength)), ("pattern", pattern.map { .string($0) }), ("description", describe(description))])
    }

    /// A string holding at least one character that is not blank (the validators trim with
    /// Foundation's `.whitespaces`: Unicode Zs and tab).
    static func nonBlank(maxLength: Int, _ description: String? = nil) -> JSONValue {
        string(maxLength: maxLength, pattern: Patterns.notOnlyZsOrTab, description)
    }

    static func number(minimum: Double? = nil, maximum: Double? = nil, exclusiveMinimum: Double? = nil, nullable: Bool = false,
                       _ description: String? = nil) -> JSONValue {
        obj([("type", type("number", nullable)), ("minimum", .optional(minimum)), ("exclusiveMinimum", .optional(exclusiveMinimum)),
             ("maximum", .optional(maximum)), ("description", describe(description))])
    }

    /// A number in one of the engine's plausible ranges (values outside are impossible input).
    static func plausible(_ range: PlausibleRange, nullable: Bool = true) -> JSONValue {
        number(minimum: range.lowInclusive ? range.low : nil, maximum: range.high,
               exclusiveMinimum: range.lowInclusive ? nil : range.low, nullable: nullable, range.unit)
    }

    static func integer(minimum: Int? = nil, maximum: Int? = nil, nullable: Bool = false, _ description: String? = nil) -> JSONValue {
        obj([("type", type("integer", nullable)), ("minimum", .optional(minimum)), ("maximum", .optional(maximum)),
             ("description", describe(description))])
    }

    static func boolean(nullable: Bool = false, _ description: String? = nil) -> JSONValue {
        obj([("type", type("boolean", nullable)), ("description", describe(description))])
    }

    static func enumeration(_ values: [String], nullable: Bool = false, _ description: String? = nil) -> JSONValue {
        obj([("type", type("string", nullable)), ("enum", .array(values.map { .string($0) } + (nullable ? [.null] : []))),
             ("description", describe(description))])
    }

    static func vocabulary<V: CaseVocabulary>(_ type: V.Type, nullable: Bool = false, _ description: String? = nil) -> JSONValue {
        enumeration(V.allCases.map(\.rawValue), nullable: nullable, description)
    }

    static func constant(_ value: JSONValue) -> JSONValue { obj([("const", value)]) }

    /// A calendar date `YYYY-MM-DD` (years 0001-9999; 2023-02-30 is not a date).
    static func date(nullable: Bool = false, _ description: String? = nil) -> JSONValue {
        string(pattern: Patterns.isoDate, format: "date", nullable: nullable, description)
    }

    static let uuid = string(format: "uuid")
    static let nullableUUID = string(format: "uuid", nullable: true)
    static let timestamp = string(format: "date-time", "UTC, to the second")
    static let version = integer(minimum: 1, "increases by one with every update; the ETag")

    static func array(_ items: JSONValue, nullable: Bool = false, _ description: String? = nil) -> JSONValue {
        obj([("type", type("array", nullable)), ("items", items), ("description", describe(description))])
    }

    /// An object. `closed`: unknown keys are rejected (request bodies) or never sent (responses).
    static func object(_ properties: [(String, JSONValue)], required: [String] = [], closed: Bool = true, nullable: Bool = false,
                       _ description: String? = nil, extra: [(String, JSONValue?)] = []) -> JSONValue {
        obj([("type", type("object", nullable)), ("description", describe(description)),
             ("properties", .object(JSONObject(properties))),
             ("required", required.isEmpty ? nil : .array(required.map { .string($0) })),
             ("additionalProperties", closed ? .bool(false) : nil)] + extra)
    }

    /// Keys a client may echo back from a response; the server ignores them (any value).
    static func ignored(_ keys: [String]) -> [(String, JSONValue)] {
        keys.sorted().map { ($0, obj([("description", "read-only; ignored when sent (it comes from the URL, If-Match or the server)")])) }
    }
}

private enum Patterns {
    static let isoDate = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
    /// Some character other than tab or a Unicode space separator (Zs).
    static let notOnlyZsOrTab = "[^\t \u{00A0}\u{1680}\u{2000}-\u{200A}\u{202F}\u{205F}\u{3000}]"
    /// Some character that is not Unicode White_Space (Swift's `Character.isWhitespace`).
    static let notOnlyWhiteSpace = "[^\t\n\u{0B}\u{0C}\r \u{85}\u{A0}\u{1680}\u{2000}-\u{200A}\u{2028}\u{2029}\u{202F}\u{205F}\u{3000}]"
    static let yearOnly = "^([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])$"
    static let etag = "^\"[1-9][0-9]*\"$"
}

// MARK: - Case-format pieces (shared by patient bodies, record bodies and POST /assess)

/// Schemas of the case format's parts (../shared/case-format.md), as the engine's decoder
/// validates them. `closed` is true for registry bodies (an unknown key is a 422) and false
/// inside a case given to POST /assess (unknown keys only become `inputWarnings`).
private enum CaseSchemas {
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

// MARK: - Registry records

/// One kind of clinical record: its URL segments (from `RecordInfo`), body and response.
private struct RecordDoc {
    let info: RecordInfo
    let schemaName: String
    /// For operation ids: listLesions, listVitals, listImagingStudies.
    let plural: String
    let input: JSONValue
    let output: JSONValue
    /// DELETE answers 409 while dependents exist (a lesion's measurements, a medication's holds).
    var conflictOnDelete = false

    var parentSegment: String {
        switch info.parent {
        case .patient: "patients"
        case .lesion: "lesions"
        case .medication: "medications"
        }
    }
    var parentName: String {
        switch info.parent {
        case .patient: "patient"
        case .lesion: "lesion"
        case .medication: "medication"
        }
    }

    /// A request body: `fields`, plus the read-only keys every record's JSON carries.
    static func body(_ fields: [(String, JSONValue)], required: [String], alsoIgnored: [String] = [], _ description: String,
                     extra: [(String, JSONValue?)] = []) -> JSONValue {
        S.object(fields + S.ignored(Array(RecordFields.common) + alsoIgnored), required: required, closed: true,
                 description + " Unknown keys are rejected (422). Null means absent for every optional field.", extra: extra)
    }

    /// A response: id, patientId, the kind's fields, version and timestamps. createdBy/updatedBy
    /// (and free-text notes) are left out of de-identified (researcher) reads.
    static func response(_ fields: [(String, JSONValue)], required: [String]) -> JSONValue {
        S.object([("id", S.uuid), ("patientId", S.uuid)] + fields
            + [("version", S.version), ("createdAt", S.timestamp), ("updatedAt", S.timestamp), ("createdBy", S.string()), ("updatedBy", S.string())],
            required: ["id", "patientId"] + required + ["version"], closed: true,
            "dates are shifted by the patient's offset in de-identified (researcher) reads")
    }
}

private enum RecordDocs {
    static let noteInput = S.string(maxLength: 2000, nullable: true, "free text; left out of de-identified reads")
    static let noteOutput = S.string()
    static let painInput = S.number(minimum: 0, maximum: 10, nullable: true, "pain, 0-10 visual analogue scale")

    static let all: [RecordDoc] = [lesion, measurement, visit, lab, vitals, medication, hold, procedure, infectionEpisode, imaging]

    static let lesion = RecordDoc(
        info: LesionRecord.info, schemaName: "Lesion", plural: "Lesions",
        input: RecordDoc.body([("label", S.nonBlank(maxLength: 64, "unique among the patient's lesions; the case format's lesion id"))]
            + CaseSchemas.lesionFields(closed: true)
            + [("status", S.enumeration(LesionRecord.statuses, nullable: true, "default active")), ("note", noteInput)],
            required: ["label"], "A calcinosis lesion."),
        output: RecordDoc.response([("label", S.string())] + CaseSchemas.lesionFields(closed: false).map { ($0.0, strip($0.1)) }
            + [("status", S.enumeration(LesionRecord.statuses)), ("note", noteOutput)], required: ["label", "status"]),
        conflictOnDelete: true)

    static let measurement = RecordDoc(
        info: MeasurementRecord.info, schemaName: "Measurement", plural: "Measurements",
        input: RecordDoc.body(CaseSchemas.measurementFields + [("painVas", painInput), ("findings", measurementFindings(closed: true))], required: ["date"],
                              alsoIgnored: ["lesionId"],
                              "One size of a lesion: lengthCm and widthCm, or areaCm2, or healed: true; optionally the findings seen that day.",
                              extra: [CaseSchemas.measurementSize]),
        output: RecordDoc.response([("lesionId", S.uuid)] + CaseSchemas.measurementFields.map { ($0.0, strip($0.1)) }
            + [("painVas", S.number()), ("findings", measurementFindings(closed: false))], required: ["lesionId", "date"]))

    /// Dated findings (migration 011): a case as of a date takes each lesion's findings from its
    /// latest measurement with findings on or before that date, else from the lesion.
    static func measurementFindings(closed: Bool) -> JSONValue {
        S.object(CaseSchemas.findingKeys.map { ($0, S.boolean(nullable: true)) }, closed: closed, nullable: true,
                 "findings seen at this measurement (case-format lesion findings keys; absent means no); they supersede the lesion's findings from this date on")
    }

    static let visit = RecordDoc(
        info: VisitRecord.info, schemaName: "Visit", plural: "Visits",
        input: RecordDoc.body(CaseSchemas.visitFields + [("painVas", painInput), ("note", noteInput)], required: ["date"],
                              "A contact with the patient; date not after today + 1 day."),
        output: RecordDoc.response(CaseSchemas.visitFields.map { ($0.0, strip($0.1)) } + [("painVas", S.number()), ("note", noteOutput)],
                                   required: ["date"]))

    static let lab = RecordDoc(
        info: LabRecord.info, schemaName: "Lab", plural: "Labs",
        input: RecordDoc.body(CaseSchemas.labFields, required: ["test", "value", "unit", "date"],
                              alsoIgnored: ["valueNormalised", "unitNormalised", "loinc"],
                              "A laboratory result; date not after today + 1 day.", extra: [CaseSchemas.labUnitsAndRanges]),
        output: RecordDoc.response([("test", S.vocabulary(LabTest.self)), ("value", S.number()), ("unit", S.string()), ("date", S.date()),
                                    ("valueNormalised", S.number()), ("unitNormalised", S.string()), ("loinc", S.string())],
                                   required: ["test", "value", "unit", "date", "valueNormalised", "unitNormalised"]))

    static let vitals = RecordDoc(
        info: VitalsRecord.info, schemaName: "Vitals", plural: "Vitals",
        input: RecordDoc.body(CaseSchemas.vitalsFields, required: ["date"], "Vital signs on a date (not after today + 1 day)."),
        output: RecordDoc.response(CaseSchemas.vitalsFields.map { ($0.0, strip($0.1)) }, required: ["date"]))

    static let medication = RecordDoc(
        info: MedicationRecord.info, schemaName: "Medication", plural: "Medications",
        input: RecordDoc.body(CaseSchemas.medicationFields + [("indication", S.string(maxLength: 200, nullable: true))],
                              required: ["drug"], alsoIgnored: ["rxnorm", "recognized"],
                              "A medication course; start not after today + 1 day, stop on or after start."),
        output: RecordDoc.response([("drug", S.string()), ("recognized", S.boolean()), ("rxnorm", S.string()),
                                    ("doseMg", S.number()), ("frequency", S.vocabulary(Frequency.self)), ("route", S.vocabulary(Route.self)),
                                    ("start", S.date()), ("stop", S.date(nullable: true)), ("indication", S.string())],
                                   required: ["drug", "recognized", "stop"]),
        conflictOnDelete: true)

    static let hold = RecordDoc(
        info: HoldRecord.info, schemaName: "Hold", plural: "Holds",
        input: RecordDoc.body([("start", S.date("not after today + 1 day")),
                               ("end", S.date(nullable: true, "planned or actual resumption; may lie in the future; not before start")),
                               ("reason", S.nonBlank(maxLength: 500))],
                              required: ["start", "reason"], alsoIgnored: ["medicationId"], "An interruption of a medication."),
        output: RecordDoc.response([("medicationId", S.uuid), ("start", S.date()), ("end", S.date(nullable: true)), ("reason", S.string())],
                                   required: ["medicationId", "start", "end"]))

    static let procedure = RecordDoc(
        info: ProcedureRecord.info, schemaName: "Procedure", plural: "Procedures",
        input: RecordDoc.body([("date", S.date("not after today + 1 day")), ("kind", S.enumeration(ProcedureRecord.kinds)),
                               ("lesionId", S.string(format: "uuid", nullable: true, "a lesion of the same patient")), ("note", noteInput)],
                              required: ["date", "kind"], "A procedure on a lesion or the patient."),
        output: RecordDoc.response([("date", S.date()), ("kind", S.enumeration(ProcedureRecord.kinds)), ("lesionId", S.uuid), ("note", noteOutput)],
                                   required: ["date", "kind"]))

    static let infectionEpisode: RecordDoc = {
        let I = InfectionEpisodeRecord.self
        let input: [(String, JSONValue)] = [
            ("onset", S.date("not after today + 1 day")),
            ("lesionId", S.string(format: "uuid", nullable: true, "a lesion of the same patient")),
            ("organism", S.string(maxLength: 200, nullable: true)), ("mrsa", S.boolean(nullable: true)),
            ("cultureSource", S.enumeration(I.cultureSources, nullable: true)), ("cultureResult", S.enumeration(I.cultureResults, nullable: true)),
            ("antibiotic", S.string(maxLength: 100, nullable: true, "stored lower-cased")),
            ("antibioticRoute", S.vocabulary(Route.self, nullable: true)),
            ("antibioticStart", S.date(nullable: true, "not after today + 1 day")),
            ("antibioticStop", S.date(nullable: true, "not after today + 1 day; not before antibioticStart")),
            ("outcome", S.enumeration(I.outcomes, "an ongoing episode has no resolvedDate")),
            ("resolvedDate", S.date(nullable: true, "not after today + 1 day; not before onset")),
            ("note", noteInput),
        ]
        let output: [(String, JSONValue)] = [
            ("onset", S.date()), ("lesionId", S.uuid), ("organism", S.string()), ("mrsa", S.boolean()),
            ("cultureSource", S.enumeration(I.cultureSources)), ("cultureResult", S.enumeration(I.cultureResults)),
            ("antibiotic", S.string()), ("antibioticRoute", S.vocabulary(Route.self)), ("antibioticStart", S.date()),
            ("antibioticStop", S.date()), ("outcome", S.enumeration(I.outcomes)), ("resolvedDate", S.date()), ("note", noteOutput),
        ]
        return RecordDoc(info: I.info, schemaName: "InfectionEpisode", plural: "InfectionEpisodes",
                         input: RecordDoc.body(input, required: ["onset", "outcome"], "An infection episode; active while ongoing without resolvedDate."),
                         output: RecordDoc.response(output, required: ["onset", "outcome"]))
    }()

    static let imaging: RecordDoc = {
        let scores = S.obj([("type", .array(["object", "null"])), ("description", "named scores of a calcinosis rubric, e.g. {\"sctcTotal\": 12}"),
                            ("additionalProperties", S.number(minimum: 0, maximum: 1000))])
        return RecordDoc(
            info: ImagingRecord.info, schemaName: "ImagingStudy", plural: "ImagingStudies",
            input: RecordDoc.body(CaseSchemas.imagingFields + [("findings", S.string(maxLength: 4000, nullable: true)), ("scores", scores)],
                                  required: ["date", "modality"], "An imaging study; date not after today + 1 day."),
            output: RecordDoc.response(CaseSchemas.imagingFields.map { ($0.0, strip($0.1)) }
                + [("findings", S.string()), ("scores", S.obj([("type", "object"), ("additionalProperties", S.number())]))],
                required: ["date", "modality"]))
    }()

    /// The response form of an input field schema: the server omits absent fields instead of
    /// sending null, and sends stored values in any order.
    static func strip(_ schema: JSONValue) -> JSONValue {
        guard case .object(var o) = schema else { return schema }
        if case .array(let types)? = o["type"] {
            let rest = types.filter { $0 != .null }
            o["type"] = rest.count == 1 ? rest[0] : .array(rest)
        }
        if case .array(let values)? = o["enum"] { o["enum"] = .array(values.filter { $0 != .null }) }
        return .object(o)
    }
}

// MARK: - Shared components

private enum Components {
    static let securitySchemes = S.obj([
        ("bearerAuth", S.obj([("type", "http"), ("scheme", "bearer"),
                              ("description", "a token from `calcitrack token issue USER` (ctk_...)")])),
        ("cookieSession", S.obj([("type", "apiKey"), ("in", "cookie"), ("name", "calcitrack_session"),
                                 ("description", "the session of POST /api/v1/auth/login; unsafe methods must also send X-CSRF-Token (403 otherwise)")])),
    ])

    static let parameters = S.obj([
        ("Id", S.obj([("name", "id"), ("in", "path"), ("required", true), ("schema", S.uuid),
                      ("description", "a record id; an id that is not a UUID names no record (404)")])),
        ("IfMatch", S.obj([("name", "If-Match"), ("in", "header"), ("required", true),
                           ("description", "the version the change is based on: the ETag of the last read, e.g. \"3\". Missing: 428; not a version or stale: 412"),
                           ("schema", S.string(pattern: "^[ \t]*(W/)?\"?[+]?[0-9]*[1-9][0-9]*\"?[ \t]*$"))])),
        ("AsOf", S.obj([("name", "asOf"), ("in", "query"), ("required", false), ("schema", S.date()),
                        ("description", "assess as of this date (default today; for researchers in shifted time)")])),
        ("Format", S.obj([("name", "format"), ("in", "query"), ("required", false),
                          ("schema", S.enumeration(AssessmentFormats.all)), ("description", "json (default) or a plain-text report")])),
    ])

    static let headers = S.obj([
        ("ETag", S.obj([("description", "the record's version, quoted; send it back in If-Match"), ("required", true),
                        ("schema", S.string(pattern: Patterns.etag))])),
        ("Location", S.obj([("description", "the new record's URL"), ("required", true), ("schema", S.string(pattern: "^/api/v1/"))])),
    ])

    static func error(_ description: String, headers: JSONValue? = nil) -> JSONValue {
        S.obj([("description", .string(description)), ("headers", headers),
               ("content", S.obj([("application/json", S.obj([("schema", S.ref("Error"))]))]))])
    }

    static let responses = S.obj([
        ("Unauthorized", error("not signed in: no valid bearer token or session",
                               headers: S.obj([("WWW-Authenticate", S.obj([("schema", S.string())]))]))),
        ("Forbidden", error("the role may not do this, the patient is not of your sites, or (cookie sessions) the CSRF token is missing")),
        ("NotFound", error("no such record (or a deleted one), or an id that is not a UUID")),
        ("Conflict", error("the record still has dependent records")),
        ("PreconditionFailed", error("If-Match is not a version, or the record was changed since (reload it)")),
        ("PreconditionRequired", error("If-Match is missing")),
        ("ValidationFailed", S.obj([("description", "invalid input: every problem, each naming the field, the value given and what is allowed"),
                                    ("content", S.obj([("application/json", S.obj([("schema", S.ref("ValidationErrors"))]))]))])),
    ])

    static let fieldIssue = S.object([
        ("field", S.string("path of the field, e.g. labs[0].value, or body")),
        ("value", S.obj([("description", "the value given; null when missing")])),
        ("message", S.string()),
    ], required: ["field", "value", "message"])

    static let site = S.object([("id", S.uuid), ("code", S.string()), ("name", S.string())], required: ["id", "code", "name"])

    static let summary = S.object([
        ("followUpStatus", S.enumeration(["lost", "overdue", "due", "ok", "no-visits"])),
        ("lastContact", S.date()), ("nextDue", S.date()),
        ("hasUnhealedLesion", S.boolean()), ("activeInfection", S.boolean()),
        ("infectionSeverity", S.string()), ("worseningLesion", S.boolean()),
        ("bodySites", S.array(S.vocabulary(BodySite.self))),
        ("infectionAtOnset", S.object([("onset", S.date()), ("severity", S.string()), ("sepsisScreen", S.string())], required: ["onset"],
                                      "an open infection episode that today's assessment does not classify: the engine's triage as of its onset")),
        ("sepsisScreenPositive", S.boolean()), ("sepsisScreen", S.string("criteria of today's positive SIRS or qSOFA screen, with an infection")),
        ("highAlert", S.boolean()), ("highAlerts", S.array(S.string("ID: message of a high-severity alert of today's assessment (de-identified reads: the ID only)"))),
    ], required: ["followUpStatus", "hasUnhealedLesion", "activeInfection", "worseningLesion", "sepsisScreenPositive", "highAlert"],
       "computed by the engine at every write; the worklist filters on it")

    static let patientSections: [(String, JSONValue)] = [
        ("ssc", CaseSchemas.ssc(closed: true)),
        ("otherConnectiveTissueDisease", CaseSchemas.otherConnectiveTissueDisease),
        ("history", CaseSchemas.history(closed: true)),
        ("infection", CaseSchemas.infection(closed: true)),
        ("workup", CaseSchemas.workup(closed: true)),
    ]

    static let patientInput = S.object(
        [("siteId", S.string(format: "uuid", "one of your sites (GET /api/v1/sites)")),
         ("mrn", S.nonBlank(maxLength: 64, "unique within the site, deleted patients included")),
         ("familyName", S.nonBlank(maxLength: 200)), ("givenName", S.nonBlank(maxLength: 200))]
            + CaseSchemas.patient(closed: true).map { $0.0 == "sex" ? ($0.0, S.vocabulary(Sex.self)) : $0 }
            + patientSections
            + S.ignored(Array(RecordFields.common) + ["summary", "siteCode"]),
        required: ["siteId", "mrn", "familyName", "givenName", "sex"], closed: true,
        "identity plus the case format's patient fields and sections. Unknown keys (at any level) are rejected (422); null means absent.")

    static let patient = S.object(
        [("id", S.uuid), ("siteId", S.uuid), ("siteCode", S.string()),
         ("mrn", S.string()), ("familyName", S.string()), ("givenName", S.string()),
         ("sex", S.vocabulary(Sex.self)), ("birthDate", S.date()), ("weightKg", S.number()), ("pregnant", S.boolean())]
            + patientSections.map { ($0.0, RecordDocs.strip($0.1)) }
            + [("summary", summary), ("version", S.version), ("createdAt", S.timestamp), ("updatedAt", S.timestamp),
               ("createdBy", S.string()), ("updatedBy", S.string())],
        required: ["id", "siteId", "sex", "summary", "version"], closed: true,
        "de-identified (researcher) reads leave out mrn, names and authors and shift every date by the patient's offset")

    static let auditEntry = S.object([
        ("seq", S.integer(minimum: 1)), ("at", S.timestamp), ("actor", S.string()), ("role", S.string()), ("action", S.string()),
        ("resourceType", S.string()), ("resourceId", S.string()), ("patientId", S.string()), ("ip", S.string()),
        ("detail", S.string()), ("hash", S.string()),
    ], required: ["seq", "at", "actor", "role", "action", "resourceType", "detail", "hash"])

    static let user = S.object([
        ("id", S.uuid), ("username", S.string()), ("role", S.enumeration(Role.allCases.map(\.rawValue))),
        ("active", S.boolean()), ("sites", S.array(S.string(), "site codes")),
    ], required: ["id", "username", "role", "active", "sites"])

    static var schemas: [(String, JSONValue)] {
        [
            ("Error", S.object([("error", S.object([("status", S.integer(minimum: 400, maximum: 599)), ("reason", S.string())],
                                                   required: ["status", "reason"]))], required: ["error"])),
            ("FieldIssue", fieldIssue),
            ("ValidationErrors", S.object([("errors", S.obj([("type", "array"), ("items", S.ref("FieldIssue")), ("minItems", 1)]))],
                                          required: ["errors"])),
            ("Site", site),
            ("SiteInput", S.object([("code", S.nonBlank(maxLength: 32, "unique")), ("name", S.nonBlank(maxLength: 200)),
                                    ("id", S.obj([("description", "ignored")]))], required: ["code", "name"])),
            ("SiteList", S.object([("items", S.array(S.ref("Site")))], required: ["items"])),
            ("User", user),
            ("UserList", S.object([("items", S.array(S.ref("User")))], required: ["items"])),
            ("AuditEntry", auditEntry),
            ("AuditList", S.object([("items", S.array(S.ref("AuditEntry")))], required: ["items"])),
            ("AuditVerification", S.object([("entries", S.integer(minimum: 0)), ("intact", S.boolean()),
                                            ("firstBrokenSeq", S.integer()), ("reason", S.string())], required: ["entries", "intact"])),
            ("Login", S.object([("username", S.string(minLength: 1)), ("password", S.string(minLength: 1))],
                               required: ["username", "password"], closed: false)),
            ("LoginResult", S.object([("username", S.string()), ("role", S.enumeration(Role.allCases.map(\.rawValue))),
                                      ("csrfToken", S.string("send it as X-CSRF-Token on unsafe requests of this session"))],
                                     required: ["username", "role", "csrfToken"])),
            ("Me", S.object([("username", S.string()), ("role", S.enumeration(Role.allCases.map(\.rawValue))),
                             ("sites", S.array(S.ref("Site"))), ("csrfToken", S.string("only for cookie sessions"))],
                            required: ["username", "role", "sites"])),
            ("PatientSummary", summary),
            ("PatientInput", patientInput),
            ("Patient", patient),
            ("PatientPage", S.object([("total", S.integer(minimum: 0)), ("limit", S.integer(minimum: 1, maximum: 200)),
                                      ("offset", S.integer(minimum: 0)), ("items", S.array(S.ref("Patient")))],
                                     required: ["total", "limit", "offset", "items"])),
            ("Case", CaseSchemas.wholeCase),
            ("Assessment", CaseSchemas.assessment),
            ("Health", S.object([("status", S.enumeration(["ok", "unavailable"])), ("database", S.string())], required: ["status", "database"])),
        ]
    }
}

private enum AssessmentFormats {
    static let all = ["json", "text"]
}

// MARK: - Paths

/// Paths in order, each with its operations.
private struct PathTable {
    private var order: [String] = []
    private var operations: [String: [(String, JSONValue)]] = [:]

    mutating func add(_ method: String, _ path: String, _ operation: JSONValue) {
        if operations[path] == nil { order.append(path); operations[path] = [] }
        operations[path]!.append((method, operation))
    }

    var json: JSONValue {
        .object(JSONObject(order.map { path in
            let ops = operations[path]!
            let hasID = path.contains("{id}")
            return (path, .object(JSONObject((hasID ? [("parameters", .array([Param.id]))] : []) + ops)))
        }))
    }
}

private enum Param {
    static let id = S.obj([("$ref", "#/components/parameters/Id")])
    static let ifMatch = S.obj([("$ref", "#/components/parameters/IfMatch")])
    static let asOf = S.obj([("$ref", "#/components/parameters/AsOf")])
    static let format = S.obj([("$ref", "#/components/parameters/Format")])

    static func query(_ name: String, _ schema: JSONValue, _ description: String) -> JSONValue {
        S.obj([("name", .string(name)), ("in", "query"), ("required", false), ("schema", schema), ("description", .string(description))])
    }
}

private enum Resp {
    static func ref(_ name: String) -> JSONValue { S.obj([("$ref", .string("#/components/responses/\(name)"))]) }
    static let e401 = ("401", ref("Unauthorized"))
    static let e403 = ("403", ref("Forbidden"))
    static let e404 = ("404", ref("NotFound"))
    static let e409 = ("409", ref("Conflict"))
    static let e412 = ("412", ref("PreconditionFailed"))
    static let e422 = ("422", ref("ValidationFailed"))
    static let e428 = ("428", ref("PreconditionRequired"))

    static func json(_ description: String, _ schema: JSONValue, headers: [(String, JSONValue)] = [], links: [(String, JSONValue)] = []) -> JSONValue {
        S.obj([("description", .string(description)),
               ("headers", headers.isEmpty ? nil : .object(JSONObject(headers))),
               ("content", S.obj([("application/json", S.obj([("schema", schema)]))])),
               ("links", links.isEmpty ? nil : .object(JSONObject(links)))])
    }

    static func text(_ description: String, _ mediaType: String = "text/plain") -> JSONValue {
        S.obj([("description", .string(description)), ("content", S.obj([(mediaType, S.obj([("schema", S.string())]))]))])
    }

    static let noContent = S.obj([("description", "done; no body")])
    static let etag: (String, JSONValue) = ("ETag", S.obj([("$ref", "#/components/headers/ETag")]))
    static let location: (String, JSONValue) = ("Location", S.obj([("$ref", "#/components/headers/Location")]))

    /// An OpenAPI link to an operation on a record whose id (and ETag) this response gives.
    static func link(_ operationId: String, id: String = "$response.body#/id", withVersion: Bool = false) -> (String, JSONValue) {
        var parameters: [(String, JSONValue)] = [("path.id", .string(id))]
        if withVersion { parameters.append(("header.If-Match", "$response.header.ETag")) }
        return (operationId, S.obj([("operationId", .string(operationId)), ("parameters", .object(JSONObject(parameters)))]))
    }

    /// A link that takes the version from the body (a list item) rather than the ETag header.
    static func versionedLink(_ operationId: String, id: String, version: String) -> (String, JSONValue) {
        (operationId, S.obj([("operationId", .string(operationId)),
                             ("parameters", S.obj([("path.id", .string(id)), ("header.If-Match", .string(version))]))]))
    }
}

private func operation(_ id: String, _ tag: String, _ summary: String, description: String? = nil, parameters: [JSONValue] = [],
                       body: JSONValue? = nil, bodyMediaTypes: [String] = ["application/json"], responses: [(String, JSONValue)],
                       security: JSONValue? = nil) -> JSONValue {
    S.obj([
        ("operationId", .string(id)), ("tags", .array([.string(tag)])), ("summary", .string(summary)),
        ("description", description.map { .string($0) }),
        ("parameters", parameters.isEmpty ? nil : .array(parameters)),
        ("requestBody", body.map { schema in
            S.obj([("required", true), ("content", .object(JSONObject(bodyMediaTypes.map { ($0, S.obj([("schema", schema)])) })))])
        }),
        ("responses", .object(JSONObject(responses))),
        ("security", security),
    ])
}

/// No authentication needed.
private let open: JSONValue = .array([])

private enum Routes {
    static func system(_ paths: inout PathTable) {
        paths.add("get", "/health", operation("getHealth", "system", "Liveness and database check", responses: [
            ("200", Resp.json("the server and its database answer", S.ref("Health"))),
            ("503", Resp.json("the database does not answer", S.ref("Health"))),
        ], security: open))
        paths.add("get", "/metrics", operation("getMetrics", "system", "Prometheus metrics (text exposition format 0.0.4)", responses: [
            ("200", Resp.text("request counters and timers")),
        ], security: open))
        paths.add("get", "/openapi.json", operation("getOpenAPI", "system", "This document", responses: [
            ("200", Resp.json("the OpenAPI 3.1 document", S.obj([("type", "object")]))),
        ], security: open))
    }

    static func auth(_ paths: inout PathTable) {
        paths.add("post", "/api/v1/auth/login", operation("login", "auth", "Sign in (web UI): starts a cookie session and returns its CSRF token",
                                                          description: "A failed attempt is audited.", body: S.ref("Login"),
                                                          bodyMediaTypes: ["application/json", "application/x-www-form-urlencoded"], responses: [
            ("200", Resp.json("signed in; the session cookie is set", S.ref("LoginResult"))), Resp.e401, Resp.e403, Resp.e422,
        ], security: open))
        paths.add("post", "/api/v1/auth/logout", operation("logout", "auth", "Sign out: ends the session (any caller)",
                                                           responses: [("204", Resp.noContent), Resp.e403],
                                                           security: .array([S.obj([]), S.obj([("bearerAuth", .array([]))]), S.obj([("cookieSession", .array([]))])])))
        paths.add("get", "/api/v1/auth/me", operation("getMe", "auth", "Who am I: role, sites (and the CSRF token of a cookie session)",
                                                      responses: [("200", Resp.json("the signed-in user", S.ref("Me"))), Resp.e401]))
    }

    static func admin(_ paths: inout PathTable) {
        paths.add("get", "/api/v1/sites", operation("listSites", "admin", "List sites (every signed-in user)",
                                                    responses: [("200", Resp.json("all sites by code", S.ref("SiteList"))), Resp.e401]))
        paths.add("post", "/api/v1/sites", operation("createSite", "admin", "Create a site (admin)", body: S.ref("SiteInput"), responses: [
            ("201", Resp.json("created", S.ref("Site"))), Resp.e401, Resp.e403, Resp.e422,
        ]))
        paths.add("get", "/api/v1/users", operation("listUsers", "admin", "List users (admin)", responses: [
            ("200", Resp.json("all users by name", S.ref("UserList"))), Resp.e401, Resp.e403,
        ]))
        paths.add("get", "/api/v1/audit", operation("listAudit", "admin", "Audit log, newest first (admin)", parameters: [
            Param.query("limit", S.integer(minimum: 1, maximum: 1000), "how many entries (default 100)"),
            Param.query("patientId", S.string(), "only entries about this patient (id)"),
            Param.query("actor", S.string(), "only entries by this username"),
        ], responses: [("200", Resp.json("entries", S.ref("AuditList"))), Resp.e401, Resp.e403, Resp.e422]))
        paths.add("get", "/api/v1/audit/verify", operation("verifyAudit", "admin", "Verify the audit log's hash chain (admin)", responses: [
            ("200", Resp.json("the result; intact false names the first broken entry", S.ref("AuditVerification"))), Resp.e401, Resp.e403,
        ]))
    }

    /// Links from a patient id to everything under it.
    static func patientLinks(id: String, withVersion: Bool) -> [(String, JSONValue)] {
        var links = [Resp.link("getPatient", id: id), Resp.link("getPatientAssessment", id: id), Resp.link("getPatientCase", id: id)]
        if withVersion { links += [Resp.link("updatePatient", id: id, withVersion: true), Resp.link("deletePatient", id: id, withVersion: true)] }
        for record in RecordDocs.all where record.info.parent == .patient {
            links += [Resp.link("list\(record.plural)", id: id), Resp.link("create\(record.schemaName)", id: id)]
        }
        return links
    }

    static func patients(_ paths: inout PathTable) {
        let list = operation("listPatients", "patients", "Search and worklist (clinicians: their sites; researchers: all, de-identified)", parameters: [
            Param.query("q", S.string(), "name or MRN prefix (clinicians only; a researcher's non-empty q is a 422)"),
            Param.query("site", S.string(format: "uuid"), "only this site"),
            Param.query("activeInfection", S.enumeration(["true", "false"]), "with (or without) an active infection episode"),
            Param.query("worsening", S.enumeration(["true", "false"]), "with (or without) a worsening lesion"),
            Param.query("sepsisScreen", S.enumeration(["true", "false"]), "with (or without) a positive sepsis screen today (SIRS or qSOFA, with an infection)"),
            Param.query("highAlert", S.enumeration(["true", "false"]), "with (or without) a high-severity medication-safety alert today"),
            Param.query("followUp", S.enumeration(PatientController.followUpFilters), "follow-up status"),
            Param.query("bodySite", S.vocabulary(BodySite.self), "with a lesion at this body site"),
            Param.query("sort", S.enumeration(PatientController.sortOrders),
                        "default: with followUp=lost, lastContact (longest lost first); with another followUp filter except no-visits, nextDue (most overdue first); otherwise name"),
            Param.query("limit", S.integer(minimum: 1, maximum: 200), "page size (default 50)"),
            Param.query("offset", S.integer(minimum: 0, maximum: 10_000_000), "default 0"),
        ], responses: [
            ("200", Resp.json("a page of patients", S.ref("PatientPage"), links: patientLinks(id: "$response.body#/items/0/id", withVersion: false))),
            Resp.e401, Resp.e403, Resp.e422,
        ])
        paths.add("get", "/api/v1/patients", list)
        paths.add("post", "/api/v1/patients", operation("createPatient", "patients", "Register a patient (clinicians)", body: S.ref("PatientInput"), responses: [
            ("201", Resp.json("created", S.ref("Patient"), headers: [Resp.etag, Resp.location], links: patientLinks(id: "$response.body#/id", withVersion: true))),
            Resp.e401, Resp.e403, Resp.e422,
        ]))
        paths.add("get", "/api/v1/patients/{id}", operation("getPatient", "patients", "Read a patient", responses: [
            ("200", Resp.json("the patient", S.ref("Patient"), headers: [Resp.etag],
                              links: [Resp.link("updatePatient", withVersion: true), Resp.link("deletePatient", withVersion: true)])),
            Resp.e401, Resp.e403, Resp.e404,
        ]))
        paths.add("put", "/api/v1/patients/{id}", operation("updatePatient", "patients", "Replace a patient (clinicians of the site)",
                                                            parameters: [Param.ifMatch], body: S.ref("PatientInput"), responses: [
            ("200", Resp.json("updated", S.ref("Patient"), headers: [Resp.etag])),
            Resp.e401, Resp.e403, Resp.e404, Resp.e412, Resp.e422, Resp.e428,
        ]))
        paths.add("delete", "/api/v1/patients/{id}", operation("deletePatient", "patients", "Delete a patient (soft: kept, hidden)",
                                                               parameters: [Param.ifMatch], responses: [
            ("204", Resp.noContent), Resp.e401, Resp.e403, Resp.e404, Resp.e412, Resp.e428,
        ]))
    }

    static func assessment(_ paths: inout PathTable) {
        let assessmentContent = S.obj([("description", "the assessment (JSON, or a text report for format=text)"), ("content", S.obj([
            ("application/json", S.obj([("schema", S.ref("Assessment"))])),
            ("text/plain", S.obj([("schema", S.string())])),
        ]))])
        paths.add("get", "/api/v1/patients/{id}/assessment", operation("getPatientAssessment", "assessment",
                                                                        "Assess a stored patient (audited)", parameters: [Param.asOf, Param.format], responses: [
            ("200", assessmentContent), Resp.e401, Resp.e403, Resp.e404, Resp.e422,
        ]))
        paths.add("get", "/api/v1/patients/{id}/case", operation("getPatientCase", "assessment",
                                                                  "The stored patient as a case (case format v1), as of a date", parameters: [Param.asOf], responses: [
            ("200", Resp.json("the case the assessment is built from", S.ref("Case"))), Resp.e401, Resp.e403, Resp.e404, Resp.e422,
        ]))
        paths.add("post", "/api/v1/assess", operation("assess", "assessment", "Assess any case; nothing is stored or audited",
                                                      description: "The body may be up to 4 MB. Unknown keys are reported in inputWarnings, not rejected.",
                                                      parameters: [Param.asOf, Param.format], body: S.ref("Case"), responses: [
            ("200", assessmentContent), Resp.e401, Resp.e403, Resp.e422,
        ]))
    }

    static func records(_ r: RecordDoc, _ paths: inout PathTable) {
        let kind = r.info.path
        let collection = "/api/v1/\(r.parentSegment)/{id}/\(kind)"
        let item = "/api/v1/\(kind)/{id}"
        var createLinks = [Resp.link("get\(r.schemaName)"), Resp.link("update\(r.schemaName)", withVersion: true),
                           Resp.link("delete\(r.schemaName)", withVersion: true)]
        for child in RecordDocs.all where child.parentSegment == kind {
            createLinks += [Resp.link("list\(child.plural)"), Resp.link("create\(child.schemaName)")]
        }
        let first = "$response.body#/items/0"
        let listLinks: [(String, JSONValue)] = [
            Resp.link("get\(r.schemaName)", id: first + "/id"),
            Resp.versionedLink("update\(r.schemaName)", id: first + "/id", version: first + "/version"),
            Resp.versionedLink("delete\(r.schemaName)", id: first + "/id", version: first + "/version"),
        ]
        paths.add("get", collection, operation("list\(r.plural)", "records", "List a \(r.parentName)'s \(r.info.name) records", responses: [
            ("200", Resp.json("oldest first", S.ref(r.schemaName + "List"), links: listLinks)), Resp.e401, Resp.e403, Resp.e404,
        ]))
        paths.add("post", collection, operation("create\(r.schemaName)", "records", "Add a \(r.info.name) to a \(r.parentName)",
                                                body: S.ref(r.schemaName + "Input"), responses: [
            ("201", Resp.json("created (version 1)", S.ref(r.schemaName), headers: [Resp.etag, Resp.location], links: createLinks)),
            Resp.e401, Resp.e403, Resp.e404, Resp.e422,
        ]))
        paths.add("get", item, operation("get\(r.schemaName)", "records", "Read a \(r.info.name)", responses: [
            ("200", Resp.json("the record", S.ref(r.schemaName), headers: [Resp.etag],
                              links: [Resp.link("update\(r.schemaName)", withVersion: true), Resp.link("delete\(r.schemaName)", withVersion: true)])),
            Resp.e401, Resp.e403, Resp.e404,
        ]))
        paths.add("put", item, operation("update\(r.schemaName)", "records", "Replace a \(r.info.name)", parameters: [Param.ifMatch],
                                         body: S.ref(r.schemaName + "Input"), responses: [
            ("200", Resp.json("updated", S.ref(r.schemaName), headers: [Resp.etag])),
            Resp.e401, Resp.e403, Resp.e404, Resp.e412, Resp.e422, Resp.e428,
        ]))
        paths.add("delete", item, operation("delete\(r.schemaName)", "records", "Delete a \(r.info.name) (soft: kept for the audit trail)",
                                            parameters: [Param.ifMatch], responses: [
            ("204", Resp.noContent), Resp.e401, Resp.e403, Resp.e404] + (r.conflictOnDelete ? [Resp.e409] : []) + [Resp.e412, Resp.e428,
        ]))
    }
}

private enum Text {
    static let info = """
        The CalciTrack registry (patients and their clinical records) and the decision-support engine.

        Authentication: a bearer token (`calcitrack token issue USER`), or the cookie session of \
        POST /api/v1/auth/login, which must send its CSRF token in X-CSRF-Token on POST, PUT and DELETE. \
        Roles: clinicians read and write the patients of their sites; researchers read every patient \
        de-identified (no names, MRN, notes or authors; dates shifted by a per-patient offset); admins \
        manage sites and users and read the audit log, and see no patient data.

        Writes: PUT replaces a whole record and DELETE removes it; both need If-Match with the version \
        from the record's ETag (428 without it, 412 when stale). Every write is one transaction with its \
        audit entry.

        Errors: validation failures answer 422 with {"errors": [{"field", "value", "message"}]} listing \
        every problem; every other error answers {"error": {"status", "reason"}}. Dates are YYYY-MM-DD; \
        clinical dates may not lie after today + 1 day.
        """

    static let tags: [(String, String)] = [
        ("system", "health, metrics and this document"),
        ("auth", "sign-in for the web UI"),
        ("admin", "sites, users and the audit log"),
        ("patients", "registry patients and the worklist"),
        ("records", "a patient's clinical records"),
        ("assessment", "the decision-support engine"),
    ]
}
