import CalciTrackCore
import Fluent
import Vapor

/// A laboratory result (case-format `labs[]`), stored as entered and normalised to the engine's
/// canonical unit, with its LOINC code (clinical-spec 12.4).
final class LabRecord: PatientRecord, @unchecked Sendable {
    static let schema = "lab_results"
    static let info = RecordInfo(path: "labs", name: "lab result", dateKey: "date", parent: .patient)
    static let caseKeys = ["test", "value", "unit", "date"]

    @ID(key: .id) var id: UUID?
    @Field(key: "patient_id") var patientID: UUID
    @Field(key: "test") var test: String
    @Field(key: "value") var value: Double
    @Field(key: "unit") var unit: String
    @Field(key: "value_normalised") var valueNormalised: Double
    @Field(key: "unit_normalised") var unitNormalised: String
    @OptionalField(key: "loinc") var loinc: String?
    @Field(key: "date") var date: String
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
        let decoded = v.caseFragment(Self.caseKeys, at: ["labs"])
        try v.finish(ignoring: RecordFields.common.union(["valueNormalised", "unitNormalised", "loinc"]))
        guard let lab = decoded?.labs.first else { throw APIError.invalid("test", nil, "test is required") }
        test = lab.test.rawValue
        value = lab.value
        unit = lab.unit
        valueNormalised = lab.canonicalValue
        unitNormalised = Units.canonicalUnit(for: lab.test)
        loinc = LabCodes.loinc(for: lab.test, unit: lab.unit)?.loinc
        date = lab.date.description
    }

    func apiFields(_ shift: DateShift) -> [(String, JSONValue?)] {
        [("test", .string(test)), ("value", .number(value)), ("unit", .string(unit)), ("date", shift(date)),
         ("valueNormalised", .number(valueNormalised)), ("unitNormalised", .string(unitNormalised)), ("loinc", .optional(loinc))]
    }
}
