import CalciTrackCore
import Fluent
import Vapor

/// A contact with the patient (case-format `visits[]`: date, kind, nextDue), with the pain score
/// and a free-text note.
final class VisitRecord: PatientRecord, @unchecked Sendable {
    static let schema = "visits"
    static let info = RecordInfo(path: "visits", name: "visit", dateKey: "date", parent: .patient)
    static let caseKeys = ["date", "kind", "nextDue"]

    @ID(key: .id) var id: UUID?
    @Field(key: "patient_id") var patientID: UUID
    @Field(key: "date") var date: String
    @OptionalField(key: "kind") var kind: String?
    @OptionalField(key: "next_due") var nextDue: String?
    @OptionalField(key: "pain_vas") var painVAS: Double?
    @OptionalField(key: "note") var note: String?
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
        let pain = v.number("painVas", range: 0...10, unit: "0-10 visual analogue scale")
        let note = v.string("note")
        v.notFuture("date")
        let decoded = v.caseFragment(Self.caseKeys, at: ["visits"])
        try v.finish()
        guard let visit = decoded?.visits.first else { throw APIError.invalid("date", nil, "date is required") }
        date = visit.date.description
        kind = visit.kind?.rawValue
        nextDue = visit.nextDue?.description
        painVAS = pain
        self.note = note
    }

    func apiFields(_ shift: DateShift) -> [(String, JSONValue?)] {
        [("date", shift(date)), ("kind", .optional(kind)), ("nextDue", shift(nextDue)), ("painVas", .optional(painVAS)),
         ("note", shift.days == 0 ? .optional(note) : nil)]
    }
}
