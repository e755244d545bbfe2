import CalciTrackCore
import Fluent
import Vapor

/// An infection of a lesion or nearby tissue: onset, organism and culture, the antibiotic
/// course and the outcome. An episode without a resolution date and with outcome `ongoing`
/// counts as active on the worklist.
final class InfectionEpisodeRecord: PatientRecord, @unchecked Sendable {
    static let schema = "infection_episodes"
    static let info = RecordInfo(path: "infection-episodes", name: "infection episode", dateKey: "onset", parent: .patient)
    static let cultureSources = ["wound-swab", "tissue", "bone", "joint-fluid", "blood", "other"]
    static let cultureResults = ["pending", "positive", "negative", "not-done"]
    static let outcomes = ["ongoing", "resolved", "recurred", "amputation", "death", "unknown"]

    @ID(key: .id) var id: UUID?
    @Field(key: "patient_id") var patientID: UUID
    @OptionalField(key: "lesion_id") var lesionID: UUID?
    @Field(key: "onset") var onset: String
    @OptionalField(key: "organism") var organism: String?
    @OptionalField(key: "mrsa") var mrsa: Bool?
    @OptionalField(key: "culture_source") var cultureSource: String?
    @OptionalField(key: "culture_result") var cultureResult: String?
    @OptionalField(key: "antibiotic") var antibiotic: String?
    @OptionalField(key: "antibiotic_route") var antibioticRoute: String?
    @OptionalField(key: "antibiotic_start") var antibioticStart: String?
    @OptionalField(key: "antibiotic_stop") var antibioticStop: String?
    @Field(key: "outcome") var outcome: String
    @OptionalField(key: "resolved_date") var resolvedDate: String?
    @OptionalField(key: "note") var note: String?
    @Field(key: "version") var version: Int
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?
    @Timestamp(key: "deleted_at", on: .delete) var deletedAt: Date?
    @Field(key: "created_by") var createdBy: String
    @Field(key: "updated_by") var updatedBy: String
    var clinicalDates: [(field: String, value: String?)] { [("onset", onset), ("antibioticStart", antibioticStart), ("antibioticStop", antibioticStop), ("resolvedDate", resolvedDate)] }

    init() {}

    var referencedLesionID: UUID? { lesionID }
    var isActive: Bool { outcome == "ongoing" && resolvedDate == nil }

    func apply(_ body: JSONObject, today: LocalDate) throws(APIError) {
        var v = FieldValidator(body, today: today)
        let onset = v.date("onset", required: true)
        let lesion = v.uuid("lesionId")
        let organism = v.string("organism", maxLength: 200)
        let mrsa = v.bool("mrsa")
        let source = v.vocabulary("cultureSource", Self.cultureSources)
        let result = v.vocabulary("cultureResult", Self.cultureResults)
        let antibiotic = v.string("antibiotic", maxLength: 100)
        let route = v.vocabulary("antibioticRoute", Route.allCases.map(\.rawValue))
        let abxStart = v.date("antibioticStart")
        let abxStop = v.date("antibioticStop")
        let outcome = v.vocabulary("outcome", Self.outcomes, required: true)
        let resolved = v.date("resolvedDate")
        let note = v.string("note")
        if let onset, let resolved, resolved < onset { v.fail("resolvedDate", .string(resolved.description), "resolvedDate must not be before onset (\(onset))") }
        if let abxStart, let abxStop, abxStop < abxStart { v.fail("antibioticStop", .string(abxStop.description), "antibioticStop must not be before antibioticStart (\(abxStart))") }
        if outcome == "ongoing", let resolved { v.fail("resolvedDate", .string(resolved.description), "an ongoing episode has no resolvedDate; set outcome to resolved") }
        try v.finish()
        self.onset = onset?.description ?? ""
        lesionID = lesion
        self.organism = organism; self.mrsa = mrsa; cultureSource = source; cultureResult = result
        self.antibiotic = antibiotic?.lowercased(); antibioticRoute = route
        antibioticStart = abxStart?.description; antibioticStop = abxStop?.description
        self.outcome = outcome ?? "unknown"; resolvedDate = resolved?.description; self.note = note
    }

    func apiFields(_ shift: DateShift) -> [(String, JSONValue?)] {
        [("onset", shift(onset)), ("lesionId", .optional(lesionID?.lowercasedString)), ("organism", .optional(organism)),
         ("mrsa", .optional(mrsa)), ("cultureSource", .optional(cultureSource)), ("cultureResult", .optional(cultureResult)),
         ("antibiotic", .optional(antibiotic)), ("antibioticRoute", .optional(antibioticRoute)),
         ("antibioticStart", shift(antibioticStart)), ("antibioticStop", shift(antibioticStop)),
         ("outcome", .string(outcome)), ("resolvedDate", shift(resolvedDate)), ("note", shift.days == 0 ? .optional(note) : nil)]
    }
}
