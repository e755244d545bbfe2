/// A calendar date without time zone (ISO 8601 `YYYY-MM-DD`), stored as days since 1970-01-01.
/// The engine never reads a clock: today is whatever the caller passes as `asOf`.
public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let daysSinceEpoch: Int

    public init(daysSinceEpoch: Int) { self.daysSinceEpoch = daysSinceEpoch }

    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...LocalDate.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        daysSinceEpoch = LocalDate.days(fromCivil: year, month, day)
    }

    /// Parses exactly `YYYY-MM-DD`; anything else (times, slashes, 2023-02-30) is nil.
    public init?(iso text: String) {
        let u = Array(text.utf8)
        guard u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"),
            let y = LocalDate.digits(u[0..<4]), let m = LocalDate.digits(u[5..<7]), let d = LocalDate.digits(u[8..<10])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public var components: (year: Int, month: Int, day: Int) { LocalDate.civil(fromDays: daysSinceEpoch) }
    public var year: Int { components.year }

    public var description: String {
        let (y, m, d) = components
        // Built from ASCII digits directly, into the string's own (inline) storage: dates are
        // formatted in every basis line.
        return String(unsafeUninitializedCapacity: 10) { digits in
            (digits[0], digits[1], digits[2], digits[3], digits[4]) =
                (UInt8(48 + y / 1000 % 10), UInt8(48 + y / 100 % 10), UInt8(48 + y / 10 % 10), UInt8(48 + y % 10), UInt8(ascii: "-"))
            (digits[5], digits[6], digits[7], digits[8], digits[9]) =
                (UInt8(48 + m / 10), UInt8(48 + m % 10), UInt8(ascii: "-"), UInt8(48 + d / 10), UInt8(48 + d % 10))
            return 10
        }
    }

    public func adding(days: Int) -> LocalDate { LocalDate(daysSinceEpoch: daysSinceEpoch + days) }
    public func days(until other: LocalDate) -> Int { other.daysSinceEpoch - daysSinceEpoch }

    /// Whole years from `self` to `other` (birthdays), as age is counted.
    public func wholeYears(until other: LocalDate) -> Int {
        let a = components, b = other.components
        var years = b.year - a.year
        if (b.month, b.day) < (a.month, a.day) { years -= 1 }
        return years
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }
    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's civil-date algorithms (public domain): exact for the proleptic Gregorian calendar.
    static func days(fromCivil y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civil(fromDays z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func digits(_ slice: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in slice {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}

/// A date that may be known only to the year (`diagnosisDate: "2009"`). Keeps the earliest and
/// latest day it can mean, so that rules can say when an answer depends on the missing precision.
public struct PartialDate: Sendable, Hashable, CustomStringConvertible {
    public let earliest: LocalDate
    public let latest: LocalDate
    public let text: String

    public init?(text: String, allowYearOnly: Bool) {
        if let full = LocalDate(iso: text) {
            earliest = full; latest = full; self.text = text
        } else if allowYearOnly, text.utf8.count == 4, let y = LocalDate.digits(ArraySlice(text.utf8)),
            let first = LocalDate(year: y, month: 1, day: 1), let last = LocalDate(year: y, month: 12, day: 31)
        {
            earliest = first; latest = last; self.text = text
        } else {
            return nil
        }
    }

    public var isExact: Bool { earliest == latest }
    public var description: String { text }
}
