import CalciTrackCore

/// A record's clinical dates cannot be before the patient was born: a lab, a visit, a medication
/// start or an infection onset dated earlier is an entry error (a wrong patient or a typo in the
/// year), and the engine's case as of that date would have no patient. The JSON API, the visit
/// form and every FHIR write (HTTP, Bundles, `calcitrack import`) refuse it naming the field.
/// Not checked: a planned date (a visit's next due date), and records already stored when a
/// patient's birth date is changed later.
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
}
