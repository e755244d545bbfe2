import Fluent
import Foundation
import CalciTrackCore

/// A record's clinical dates cannot be before the patient was born: a lab, a visit, a medication
/// start or an infection onset dated earlier is an entry error (a wrong patient or a typo in the
/// year), and the engine's case as of that date would have no patient. The JSON API, the visit
/// form and every FHIR write (HTTP, Bundles, `calcitrack import`) refuse it naming the field.
/// The same holds the other way: a patient's birth date changed to a later one (the JSON API or a
/// FHIR Patient update) is refused when a stored record is dated before it (`storedViolation`).
/// Not checked: a planned date (a visit's next due date).
enum BirthDateCheck {
    /// The first of the record's dates that is before `birthDate` (both ISO dates), if any.
    static func violation(_ record: any PatientRecord, birthDate: String?) -> (field: String, value: String)? {
        guard let born = birthDate.flatMap(LocalDate.init(iso:)) else { return nil }
        for (field, value) in record.clinicalDates {
            if let value, let date = LocalDate(iso: value), date < born { return (field, value) }
        }
        return nil
    }

    /// The JSON API's error for it.
    static func error(_ violation: (field: String, value: String), birthDate: String) -> APIError {
        APIError.invalid(violation.field, .string(violation.value), "\(violation.field) must not be before the patient's birth date (\(birthDate))")
    }

    /// A stored record of the patient dated before `newBirthDate`, when the birth date moves later
    /// (or is given for the first time); nil otherwise. Deleted records do not count. Reads the
    /// patient's records, so only a birth-date change pays for it.
    static func storedViolation(patientID: UUID, oldBirthDate: String?, newBirthDate: String?, on db: any Database) async throws
        -> (record: String, field: String, value: String)? {
        guard let new = newBirthDate.flatMap(LocalDate.init(iso:)) else { return nil }
        if let old = oldBirthDate.flatMap(LocalDate.init(iso:)), new <= old { return nil }
        for kind in RegistryRecordKind.allCases {
            for record in try await kind.all(ofPatient: patientID, on: db) {
                if let (field, value) = violation(record, birthDate: newBirthDate) {
                    return ("\(type(of: record).info.name) \(record.id?.lowercasedString ?? "")", field, value)
                }
            }
        }
        return nil
    }

    /// The JSON API's error for a birth date after a stored record's date.
    static func storedError(_ violation: (record: String, field: String, value: String), birthDate: String) -> APIError {
        APIError.invalid("birthDate", .string(birthDate),
                         "birthDate must not be after the dates of the patient's records: the \(violation.record) has \(violation.field) \(violation.value); correct that record or the birth date")
    }
}
