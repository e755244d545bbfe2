import CalciTrackCore
import Fluent
import Vapor

/// A procedure on a lesion or the patient: the surgical and physical options of clinical-spec
/// section 10 (debridement, excision, burr, CO2 laser, ESWL, NPWT, incision and drainage, flap)
/// plus biopsy and other. No SNOMED CT codes are given for these in clinical-spec 12.1, so none
/// are invented here.
final class ProcedureRecord: PatientRecord, @unchecked Sendable {
    static let schema = "procedures"
    static let info = RecordInfo(path: "procedures", name: "procedure", dateKey: "date", parent: .patient)
    static let kinds = ["debridement", "excision", "burr", "co2-laser", "eswl", "npwt", "incision-and-drainage", "flap", "biopsy", "other"]

    @ID(key: .id) var id: UUID?
    @Field(key: "patient_id") var patientID: UUID
    @OptionalField(key: "lesion_id") var lesionID: UUID?
    @Field(key: "date") var date: String
    @Field(key: "kind") var kind: String
    @OptionalField(key: "note") var note: String?
    @Field(key: "version") var version: Int
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?
    @Timestamp(key: "deleted_at", on: .delete) var deletedAt: Date?
    @Field(key: "created_by") var createdBy: String
    @Field(key: "updated_by") var updatedBy: String
    var clinicalDates: [(field: String, value: String?)] { [("date", date)] }

    init() {}

    var referencedLesionID: UUID? { lesionID }

    func apply(_ body: JSONObject, today: LocalDate) throws(APIError) {
        var v = FieldValidator(body, today: today)
        let date = v.date("date", required: true)
        let kind = v.vocabulary("kind", Self.kinds, required: true)
        let lesion = v.uuid("lesionId")
        let note = v.string("note")
        try v.finish()
        self.date = date?.description ?? ""
        self.kind = kind ?? ""
        self.lesionID = lesion
        self.note = note
    }

    func apiFields(_ shift: DateShift) -> [(String, JSONValue?)] {
        [("date", shift(date)), ("kind", .string(kind)), ("lesionId", .optional(lesionID?.lowercasedString)),
         ("note", shift.days == 0 ? .optional(note) : nil)]
    }
}
