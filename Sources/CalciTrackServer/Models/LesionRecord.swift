import CalciTrackCore
import Fluent
import Vapor

/// A calcinosis lesion: body site, laterality, morphology and findings (case-format `lesions[]`),
/// plus its status in the registry. Sizes over time are `MeasurementRecord`s.
final class LesionRecord: PatientRecord, @unchecked Sendable {
    static let schema = "lesions"
    static let info = RecordInfo(path: "lesions", name: "lesion", dateKey: "created_at", parent: .patient)
    static let statuses = ["active", "healed", "excised", "resolved"]
    static let caseKeys = ["site", "laterality", "morphology", "periarticularMass", "findings"]

    @ID(key: .id) var id: UUID?
    @Field(key: "patient_id") var patientID: UUID
    @Field(key: "label") var label: String
    @OptionalField(key: "site") var site: String?
    @OptionalField(key: "laterality") var laterality: String?
    @OptionalField(key: "morphology") var morphology: String?
    @OptionalField(key: "periarticular_mass") var periarticularMass: Bool?
    /// The findings object as entered (validated), JSON text.
    @OptionalField(key: "findings") var findings: String?
    @Field(key: "status") var status: String
    @OptionalField(key: "note") var note: String?
    @Field(key: "version") var version: Int
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?
    @Timestamp(key: "deleted_at", on: .delete) var deletedAt: Date?
    @Field(key: "created_by") var createdBy: String
    @Field(key: "updated_by") var updatedBy: String

    init() {}

    func apply(_ body: JSONObject, today: LocalDate) throws(APIError) {
        var v = FieldValidator(body, today: today)
        let label = v.string("label", required: true, maxLength: 64)
        let status = v.vocabulary("status", Self.statuses) ?? "active"
        let note = v.string("note")
        // The case format's lesion id is the registry's label (the record id is a UUID).
        _ = v.caseFragment(Self.caseKeys, at: ["lesions"], adding: [("id", .string(label ?? "lesion"))])
        try v.finish()
        self.label = label ?? ""
        self.site = body["site"]?.stringValue
        self.laterality = body["laterality"]?.stringValue
        self.morphology = body["morphology"]?.stringValue
        if case .bool(let b)? = body["periarticularMass"] { periarticularMass = b } else { periarticularMass = nil }
        if case .object(let f)? = body["findings"] { findings = JSONWriter.write(.object(f), pretty: false) } else { findings = nil }
        self.status = status
        self.note = note
    }

    var findingsJSON: JSONValue? { findings.flatMap { try? JSONParser.parse($0) } }

    func apiFields(_ shift: DateShift) -> [(String, JSONValue?)] {
        [("label", .string(label)), ("site", .optional(site)), ("laterality", .optional(laterality)),
         ("morphology", .optional(morphology)), ("periarticularMass", .optional(periarticularMass)),
         ("findings", findingsJSON), ("status", .string(status)), ("note", shift.days == 0 ? .optional(note) : nil)]
    }
}
