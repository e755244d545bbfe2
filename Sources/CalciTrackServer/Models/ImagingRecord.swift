import CalciTrackCore
import Fluent
import Vapor

/// An imaging study (case-format `imagingStudies[]`: date, modality, inconclusive) with the
/// report's findings and optional scores of a calcinosis rubric (e.g. the SCTC radiographic
/// scoring items), kept as named numbers because the rubric has no standard codes (12.4 NF).
final class ImagingRecord: PatientRecord, @unchecked Sendable {
    static let schema = "imaging_studies"
    static let info = RecordInfo(path: "imaging-studies", name: "imaging study", dateKey: "date", parent: .patient)
    static let caseKeys = ["date", "modality", "inconclusive"]

    @ID(key: .id) var id: UUID?
    @Field(key: "patient_id") var patientID: UUID
    @Field(key: "date") var date: String
    @Field(key: "modality") var modality: String
    @OptionalField(key: "inconclusive") var inconclusive: Bool?
    @OptionalField(key: "findings") var findings: String?
    @OptionalField(key: "scores") var scores: String?
    @Field(key: "version") var version: Int
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?
    @Timestamp(key: "deleted_at", on: .delete) var deletedAt: Date?
    @Field(key: "created_by") var createdBy: String
    @Field(key: "updated_by") var updatedBy: String
    var clinicalDates: [(field: String, value: String?)] { [("date", date)] }

    init() {}

    func apply(_ body: JSONObject, today: LocalDate) throws(APIError) {
        var v = FieldValidator(body, today: today)
        let findings = v.string("findings", maxLength: 4000)
        v.accept(["scores"])
        var scores: JSONObject?
        if let raw = body["scores"], raw != .null {
            if case .object(let object) = raw {
                for (key, value) in object.entries {
                    guard case .number(let n) = value, n.isFinite, n >= 0, n <= 1000 else {
                        v.fail("scores.\(key)", value, "each score must be a number between 0 and 1000"); continue
                    }
                }
                scores = object
            } else {
                v.fail("scores", raw, "scores must be an object of named numbers, e.g. {\"sctcTotal\": 12}")
            }
        }
        v.notFuture("date")
        let decoded = v.caseFragment(Self.caseKeys, at: ["imagingStudies"])
        try v.finish()
        guard let study = decoded?.imagingStudies.first else { throw APIError.invalid("date", nil, "date is required") }
        date = study.date.description
        modality = study.modality.rawValue
        inconclusive = study.inconclusive
        self.findings = findings
        self.scores = scores.map { JSONWriter.write(.object($0), pretty: false) }
    }

    func apiFields(_ shift: DateShift) -> [(String, JSONValue?)] {
        [("date", shift(date)), ("modality", .string(modality)), ("inconclusive", .optional(inconclusive)),
         ("findings", shift.days == 0 ? .optional(findings) : nil), ("scores", scores.flatMap { try? JSONParser.parse($0) })]
    }
}
