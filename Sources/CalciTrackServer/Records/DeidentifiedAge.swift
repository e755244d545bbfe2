import CalciTrackCore

/// Ages in de-identified views (researchers). HIPAA Safe Harbor, 45 CFR 164.514(b)(2)(i)(C):
/// "all ages over 89 and all elements of dates (including year) indicative of such age" are
/// removed, "except that such ages and elements may be aggregated into a single category of age
/// 90 or older". A date shift keeps intervals and so keeps ages: a 97-year-old stays 97 and is rare
/// enough to be found. So a patient who is 90 or older today is shown with the birth date that makes
/// them exactly 90 today (then date-shifted like every other date), and a de-identified age is at
/// most 90, which reads "90 or older".
enum DeidentifiedAge {
    static let ceiling = 90
    static let label = "90 or older"

    /// The birth date a de-identified view starts from (before its shift): the stored one, or for a
    /// patient 90 or older today, the day 90 years before today (28 February for a 29 February).
    static func birthDate(_ iso: String?, today: LocalDate) -> String? {
        guard let iso, let born = LocalDate(iso: iso), born.wholeYears(until: today) >= ceiling else { return iso }
        let t = today.components
        let topCoded = LocalDate(year: t.year - ceiling, month: t.month, day: t.day) ?? LocalDate(year: t.year - ceiling, month: t.month, day: t.day - 1)
        return topCoded?.description ?? iso
    }

    /// An age as a de-identified view shows it: at most 90 ("90 or older").
    static func age(_ years: Int) -> Int { min(years, ceiling) }

    /// An age for display: "90 or older" at the ceiling.
    static func text(_ years: Int) -> String { years >= ceiling ? label : String(years) }
}
