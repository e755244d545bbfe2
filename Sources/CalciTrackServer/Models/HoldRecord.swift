import CalciTrackCore
import Fluent
import Vapor

/// An interruption of a medication (e.g. mycophenolate held during sepsis, HOLD-01), with reason.
final class HoldRecord: PatientRecord, @unchecked Sendable {
    static let schema = "medication_holds"
    static let info = RecordInfo(path: "holds", name: "medication hold", dateKey: "start", parent: .medication)

    @ID(key: .id) var id: UUID?
    @Field(key: "patient_id") var patientID: UUID
    @Field(key: "medication_id") var medicationID: UUID
    @Field(key: "start") var start: String
    @OptionalField(key: "end") var end: String?
    @Field(key: "reason") var reason: String
    @Field(key: "version") var version: Int
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?
    @Timestamp(key: "deleted_at", on: .delete) var deletedAt: Date?
    @Field(key: "created_by") var createdBy: String
    @Field(key: "updated_by") var updatedBy: String
    var clinicalDates: [(field: String, value: String?)] { [("start", start), ("end", end)] }

    init() {}

    var parentID: UUID? { get { medicationID } set { if let newValue { medicationID = newValue } } }

    func apply(_ body: JSONObject, today: LocalDate) throws(APIError) {
        var v = FieldValidator(body, today: today)
        let start = v.date("start", required: true)
        let endValue = body["end"]
        var end: LocalDate?
        if case .string(let s)? = endValue {
            // A planned resumption may lie in the future.
            if let d = LocalDate(iso: s) { end = d } else { v.fail("end", endValue, "end must be a calendar date written YYYY-MM-DD") }
        } else if let endValue, endValue != .null {
            v.fail("end", endValue, "end must be a date (YYYY-MM-DD) or null")
        }
        v.accept(["end"])
        let reason = v.string("reason", required: true, maxLength: 500)
        if let start, let end, end < start { v.fail("end", endValue, "end must not be before start (\(start))") }
        try v.finish(ignoring: RecordFields.common.union(["medicationId"]))
        self.start = start?.description ?? ""
        self.end = end?.description
        self.reason = reason ?? ""
    }

    func apiFields(_ shift: DateShift) -> [(String, JSONValue?)] {
        [("medicationId", .string(medicationID.lowercasedString)), ("start", shift(start)), ("end", shift(end) ?? .null),
         ("reason", shift.days == 0 ? .string(reason) : nil)]
    }
}
