import CalciTrackCore
import Foundation

extension OpenAPIDocument {
    // MARK: - Registry records

    /// One kind of clinical record: its URL segments (from `RecordInfo`), body and response.
    struct RecordDoc {
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

    enum RecordDocs {
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
}
