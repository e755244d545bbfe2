import CalciTrackCore
import Fluent
import Vapor

/// A row of vital signs on a date (case-format `vitals[]`); any value may be absent.
final class VitalsRecord: PatientRecord, @unchecked Sendable {
    static let schema = "vital_signs"
    static let info = RecordInfo(path: "vitals", name: "vital signs", dateKey: "date", parent: .patient)
    static let caseKeys = ["date", "temperatureC", "heartRate", "respiratoryRate", "systolicBP", "alteredMentation"]

    @ID(key: .id) var id: UUID?
    @Field(key: "patient_id") var patientID: UUID
    @Field(key: "date") var date: String
    @OptionalField(key: "temperature_c") var temperatureC: Double?
    @OptionalField(key: "heart_rate") var heartRate: Double?
    @OptionalField(key: "respiratory_rate") var respiratoryRate: Double?
    @OptionalField(key: "systolic_bp") var systolicBP: Double?
    @OptionalField(key: "altered_mentation") var alteredMentation: Bool?
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
        v.notFuture("date")
        let decoded = v.caseFragment(Self.caseKeys, at: ["vitals"])
        try v.finish()
        guard let row = decoded?.vitals.first else { throw APIError.invalid("date", nil, "date is required") }
        date = row.date.description
        temperatureC = row.temperatureC; heartRate = row.heartRate; respiratoryRate = row.respiratoryRate
        systolicBP = row.systolicBP; alteredMentation = row.alteredMentation
    }

    func apiFields(_ shift: DateShift) -> [(String, JSONValue?)] {
        [("date", shift(date)), ("temperatureC", .optional(temperatureC)), ("heartRate", .optional(heartRate)),
         ("respiratoryRate", .optional(respiratoryRate)), ("systolicBP", .optional(systolicBP)), ("alteredMentation", .optional(alteredMentation))]
    }
}
