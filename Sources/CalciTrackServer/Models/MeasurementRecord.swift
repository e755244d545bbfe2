import CalciTrackCore
import Fluent
import Vapor

/// One size of a lesion on a date (case-format `lesions[].measurements[]`: length × width in cm,
/// optional depth, planimetry area, perimeter, healed), with the pain score of that visit and the
/// findings seen that day (case-format `lesions[].findings` keys, migration 011): the dated
/// history of a lesion's findings. A case built as of a date takes each lesion's findings from its
/// latest measurement on or before that date that has findings (`RegistryCase`).
final class MeasurementRecord: PatientRecord, @unchecked Sendable {
    static let schema = "lesion_measurements"
    static let info = RecordInfo(path: "measurements", name: "lesion measurement", dateKey: "date", parent: .lesion)
    static let caseKeys = ["date", "lengthCm", "widthCm", "depthCm", "areaCm2", "perimeterCm", "healed"]

    @ID(key: .id) var id: UUID?
    @Field(key: "patient_id") var patientID: UUID
    @Field(key: "lesion_id") var lesionID: UUID
    @Field(key: "date") var date: String
    @OptionalField(key: "length_cm") var lengthCm: Double?
    @OptionalField(key: "width_cm") var widthCm: Double?
    @OptionalField(key: "depth_cm") var depthCm: Double?
    @OptionalField(key: "area_cm2") var areaCm2: Double?
    @OptionalField(key: "perimeter_cm") var perimeterCm: Double?
    @OptionalField(key: "healed") var healed: Bool?
    /// Pain on a 0-10 visual analogue scale (no LOINC code exists: clinical-spec 12.4 NF).
    @OptionalField(key: "pain_vas") var painVAS: Double?
    /// The findings object as entered (validated as case-format lesion findings), JSON text.
    @OptionalField(key: "findings") var findings: String?
    @Field(key: "version") var version: Int
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?
    @Timestamp(key: "deleted_at", on: .delete) var deletedAt: Date?
    @Field(key: "created_by") var createdBy: String
    @Field(key: "updated_by") var updatedBy: String
    var clinicalDates: [(field: String, value: String?)] { [("date", date)] }

    init() {}

    var parentID: UUID? { get { lesionID } set { if let newValue { lesionID = newValue } } }

    func apply(_ body: JSONObject, today: LocalDate) throws(APIError) {
        var v = FieldValidator(body, today: today)
        let pain = v.number("painVas", range: 0...10, unit: "0-10 visual analogue scale")
        let decoded = v.caseFragment(Self.caseKeys, at: ["lesions", "measurements"])
        // Findings are a lesion's in the case format: validated there, inside a stub lesion.
        if body["findings"] != nil, body["findings"] != .null {
            _ = v.caseFragment(["findings"], at: ["lesions"], adding: [("id", .string("stub"))])
        } else {
            v.accept(["findings"])
        }
        try v.finish(ignoring: RecordFields.common.union(["lesionId"]))
        guard let m = decoded?.lesions.first?.measurements.first else { throw APIError.invalid("date", nil, "date is required") }
        date = m.date.description
        lengthCm = m.lengthCm; widthCm = m.widthCm; depthCm = m.depthCm
        areaCm2 = m.areaCm2; perimeterCm = m.perimeterCm; healed = m.healed
        painVAS = pain
        if case .object(let f)? = body["findings"] { findings = JSONWriter.write(.object(f), pretty: false) } else { findings = nil }
    }

    var findingsJSON: JSONValue? { findings.flatMap { try? JSONParser.parse($0) } }

    func apiFields(_ shift: DateShift) -> [(String, JSONValue?)] {
        [("lesionId", .string(lesionID.lowercasedString)), ("date", shift(date)),
         ("lengthCm", .optional(lengthCm)), ("widthCm", .optional(widthCm)), ("depthCm", .optional(depthCm)),
         ("areaCm2", .optional(areaCm2)), ("perimeterCm", .optional(perimeterCm)), ("healed", .optional(healed)),
         ("painVas", .optional(painVAS)), ("findings", findingsJSON)]
    }
}
