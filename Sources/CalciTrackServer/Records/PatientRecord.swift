import CalciTrackCore
import Fluent
import Vapor

/// A clinical record that belongs to one patient (lesion, measurement, visit, lab, vitals row,
/// medication, hold, procedure, infection episode, imaging study). `RecordController` gives each
/// kind the same API: list, create, read, update with `If-Match`, delete with `If-Match`.
protocol PatientRecord: Model, Sendable, BulkInsertRow where IDValue == UUID {
    static var info: RecordInfo { get }
    var patientID: UUID { get set }
    /// The lesion or medication a measurement or hold belongs to (nil for patient-level kinds).
    var parentID: UUID? { get set }
    var version: Int { get set }
    /// Settable for bulk inserts that bypass Fluent's create (`BulkRecordInsert`).
    var createdAt: Date? { get set }
    var updatedAt: Date? { get set }
    /// Set when the record was (soft) deleted; FHIR reads answer 410 Gone for it.
    var deletedAt: Date? { get }
    var createdBy: String { get set }
    var updatedBy: String { get set }
    init()
    /// Validates a whole body (create or full update) and sets every field from it.
    func apply(_ body: JSONObject, today: LocalDate) throws(APIError)
    /// A lesion the body refers to (procedures, infection episodes); checked to be the same patient's.
    var referencedLesionID: UUID? { get }
    /// The record's own fields for the API; dates are moved by `shift` for de-identified reads.
    func apiFields(_ shift: DateShift) -> [(String, JSONValue?)]
    /// The dates of what happened (API field names), none of which can be before birth (`BirthDateCheck`).
    var clinicalDates: [(field: String, value: String?)] { get }
}

extension PatientRecord {
    func setTimestamps(_ now: Date) { createdAt = now; updatedAt = now }

    var referencedLesionID: UUID? { nil }
    var clinicalDates: [(field: String, value: String?)] { [] }
    var parentID: UUID? { get { nil } set {} }

    func apiJSON(_ shift: DateShift, includeAuthors: Bool) -> JSONValue {
        var pairs: [(String, JSONValue?)] = [("id", .optional(id?.lowercasedString)), ("patientId", .string(patientID.lowercasedString))]
        pairs += apiFields(shift)
        pairs += [("version", .number(Double(version))), ("createdAt", .optional(createdAt)), ("updatedAt", .optional(updatedAt))]
        if includeAuthors { pairs += [("createdBy", .string(createdBy)), ("updatedBy", .string(updatedBy))] }
        return .object(JSONObject(compacting: pairs))
    }
}

struct RecordInfo: Sendable {
    /// URL segment and audit resource type, e.g. "labs".
    let path: String
    /// Singular, for messages: "lab result".
    let name: String
    /// The column lists are ordered by, newest last.
    let dateKey: FieldKey
    let parent: RecordParent
}

enum RecordParent: Sendable {
    case patient, lesion, medication

    /// The column that holds the parent's id.
    var key: FieldKey {
        switch self {
        case .patient: "patient_id"
        case .lesion: "lesion_id"
        case .medication: "medication_id"
        }
    }
}

/// The per-patient offset that de-identified reads add to every date (REDCap-style date
/// shifting: intervals and ages are kept, calendar dates are not).
struct DateShift: Sendable {
    let days: Int
    static let none = DateShift(days: 0)

    func callAsFunction(_ iso: String?) -> JSONValue? {
        guard let iso else { return nil }
        guard days != 0 else { return .string(iso) }
        guard let date = LocalDate(iso: iso) else {
            // A bare year (diagnosisDate) is already coarse; keep it.
            return .string(iso)
        }
        return .string(date.adding(days: days).description)
    }
}

/// Common columns of every record table.
enum RecordColumns {
    static func add(to builder: SchemaBuilder) -> SchemaBuilder {
        versioned(builder
            .id()
            .field("patient_id", .uuid, .required, .references("patients", "id")))
    }

    /// Version, timestamps, soft delete and authors: every table of patient data has them.
    static func versioned(_ builder: SchemaBuilder) -> SchemaBuilder {
        builder
            .field("version", .int, .required)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("deleted_at", .datetime)
            .field("created_by", .string, .required)
            .field("updated_by", .string, .required)
    }
}
