import CalciTrackCore
import Fluent
import Vapor

/// A medication course (case-format `medications[]`: drug, dose, frequency, route, start, stop),
/// with the RxNorm ingredient code when the engine knows the drug (clinical-spec 12.5).
/// Interruptions are `HoldRecord`s.
final class MedicationRecord: PatientRecord, @unchecked Sendable {
    static let schema = "medications"
    static let info = RecordInfo(path: "medications", name: "medication", dateKey: "start", parent: .patient)
    static let caseKeys = ["drug", "doseMg", "frequency", "route", "start", "stop"]

    @ID(key: .id) var id: UUID?
    @Field(key: "patient_id") var patientID: UUID
    @Field(key: "drug") var drug: String
    @OptionalField(key: "rxnorm") var rxnorm: String?
    @OptionalField(key: "dose_mg") var doseMg: Double?
    @OptionalField(key: "frequency") var frequency: String?
    @OptionalField(key: "route") var route: String?
    @OptionalField(key: "start") var start: String?
    @OptionalField(key: "stop") var stop: String?
    @OptionalField(key: "indication") var indication: String?
    @Field(key: "version") var version: Int
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?
    @Timestamp(key: "deleted_at", on: .delete) var deletedAt: Date?
    @Field(key: "created_by") var createdBy: String
    @Field(key: "updated_by") var updatedBy: String
    var clinicalDates: [(field: String, value: String?)] { [("start", start), ("stop", stop)] }

    init() {}

    func apply(_ body: JSONObject, today: LocalDate) throws(APIError) {
        var v = FieldValidator(body, today: today)
        let indication = v.string("indication", maxLength: 200)
        v.notFuture("start")
        let decoded = v.caseFragment(Self.caseKeys, at: ["medications"])
        if let m = decoded?.medications.first, let start = m.start, let stop = m.stop, stop < start {
            v.fail("stop", .string(stop.description), "stop must not be before start (\(start))")
        }
        try v.finish(ignoring: RecordFields.common.union(["rxnorm", "recognized"]))
        guard let m = decoded?.medications.first else { throw APIError.invalid("drug", nil, "drug is required") }
        drug = m.drug
        rxnorm = m.drugInfo?.rxnorm
        doseMg = m.doseMg
        frequency = m.frequency?.rawValue
        route = m.route?.rawValue
        start = m.start?.description
        stop = m.stop?.description
        self.indication = indication
    }

    func apiFields(_ shift: DateShift) -> [(String, JSONValue?)] {
        [("drug", .string(drug)), ("recognized", .bool(DrugCatalog.drug(named: drug) != nil)), ("rxnorm", .optional(rxnorm)),
         ("doseMg", .optional(doseMg)), ("frequency", .optional(frequency)), ("route", .optional(route)),
         ("start", shift(start)), ("stop", shift(stop) ?? .null), ("indication", .optional(indication))]
    }
}
