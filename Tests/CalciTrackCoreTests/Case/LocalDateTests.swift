import Testing
@testable import CalciTrackCore

/// Dates: case-format.md Field rules ("Dates are ISO 8601 `YYYY-MM-DD`; a bare year `YYYY` is accepted
/// for `diagnosisDate`; any other date text is an error"), proleptic Gregorian calendar.
struct LocalDateTests {
    @Test("leap years: divisible by 4, except centuries not divisible by 400 (Gregorian calendar)",
          arguments: [(2024, true), (2023, false), (2000, true), (1900, false), (2100, false), (1600, true), (1996, true)])
    func leapYears(year: Int, leap: Bool) {
        #expect(LocalDate.isLeap(year) == leap)
        #expect((LocalDate(year: year, month: 2, day: 29) != nil) == leap)
        #expect(LocalDate(year: year, month: 2, day: 28) != nil)
        #expect(LocalDate(year: year, month: 2, day: 30) == nil)
    }

    @Test("days in each month")
    func daysInMonth() {
        #expect((1...12).map { LocalDate.daysIn(month: $0, year: 2023) } == [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
        #expect(LocalDate.daysIn(month: 2, year: 2024) == 29)
    }

    @Test("valid ISO dates parse and print back unchanged (case-format: YYYY-MM-DD)",
          arguments: ["2024-02-29", "2000-02-29", "2023-06-15", "1970-01-01", "0001-01-01", "9999-12-31", "2023-12-31", "2023-04-30"])
    func validISO(text: String) throws {
        let date = try #require(LocalDate(iso: text))
        #expect(date.description == text)
    }

    @Test("any other date text is nil (case-format: \"any other date text is an error\")",
          arguments: ["2023-02-29", "2023-02-30", "1900-02-29", "2023-04-31", "2023-13-01", "2023-00-10", "2023-01-00", "2023-01-32",
                      "0000-01-01", "2023/01/01", "2023-1-1", "2023-01-1", "23-01-01", "2023-01-01T00:00:00Z", "2023-01-01 ",
                      " 2023-01-01", "20230101", "2023", "2023-01", "", "+023-01-01", "2023-0a-01", "2023-01-01Z", "2023–01–01",
                      "２０２３-01-01"])
    func invalidISO(text: String) {
        #expect(LocalDate(iso: text) == nil)
    }

    @Test("component initialiser rejects out-of-range parts")
    func invalidComponents() {
        #expect(LocalDate(year: 0, month: 1, day: 1) == nil)
        #expect(LocalDate(year: 10_000, month: 1, day: 1) == nil)
        #expect(LocalDate(year: 2023, month: 0, day: 1) == nil)
        #expect(LocalDate(year: 2023, month: 11, day: 31) == nil)
        #expect(LocalDate(year: 2023, month: 12, day: 31) != nil)
    }

    @Test("days since 1970-01-01 (checked against `date -u +%s` / 86400)")
    func epochDays() {
        #expect(LocalDate(iso: "1970-01-01")?.daysSinceEpoch == 0)
        #expect(LocalDate(iso: "1969-12-31")?.daysSinceEpoch == -1)
        #expect(LocalDate(iso: "2000-03-01")?.daysSinceEpoch == 11_017)
        #expect(LocalDate(iso: "2023-06-15")?.daysSinceEpoch == 19_523)
        #expect(LocalDate(iso: "2024-01-10")?.daysSinceEpoch == 19_732)
        #expect(LocalDate(daysSinceEpoch: 19_523).description == "2023-06-15")
        #expect(LocalDate(daysSinceEpoch: -1).description == "1969-12-31")
    }

    @Test("days between dates, across leap days and years")
    func daysBetween() throws {
        func d(_ s: String) throws -> LocalDate { try #require(LocalDate(iso: s)) }
        #expect(try d("2023-01-01").days(until: d("2024-01-01")) == 365)
        #expect(try d("2024-01-01").days(until: d("2025-01-01")) == 366)
        #expect(try d("2024-02-28").days(until: d("2024-03-01")) == 2)
        #expect(try d("2023-02-28").days(until: d("2023-03-01")) == 1)
        #expect(try d("2023-06-15").days(until: d("2023-07-15")) == 30)
        #expect(try d("2023-07-15").days(until: d("2023-06-15")) == -30)
        #expect(try d("2023-06-15").days(until: d("2023-06-15")) == 0)
        #expect(try d("1900-01-01").days(until: d("2000-01-01")) == 36_524)
        #expect(try d("2023-12-31").adding(days: 1) == d("2024-01-01"))
        #expect(try d("2024-02-28").adding(days: 1) == d("2024-02-29"))
        #expect(try d("2024-03-01").adding(days: -1) == d("2024-02-29"))
        #expect(try d("2023-06-15").adding(days: 28).description == "2023-07-13")
    }

    @Test("ordering follows the calendar")
    func ordering() throws {
        let a = try #require(LocalDate(iso: "2023-12-31")), b = try #require(LocalDate(iso: "2024-01-01"))
        #expect(a < b)
        #expect(!(b < a))
        #expect([b, a].sorted() == [a, b])
        #expect(LocalDate(iso: "2024-01-01") == b)
    }

    @Test("whole years count birthdays as age is counted")
    func wholeYears() throws {
        func d(_ s: String) throws -> LocalDate { try #require(LocalDate(iso: s)) }
        #expect(try d("1994-02-01").wholeYears(until: d("2023-06-15")) == 29)  // case-format example patient
        #expect(try d("1994-02-01").wholeYears(until: d("2024-01-31")) == 29)
        #expect(try d("1994-02-01").wholeYears(until: d("2024-02-01")) == 30)
        #expect(try d("2009-01-01").wholeYears(until: d("2019-01-01")) == 10)
        #expect(try d("2009-01-01").wholeYears(until: d("2018-12-31")) == 9)
        // born on a leap day: the birthday falls on 1 March in common years
        #expect(try d("2000-02-29").wholeYears(until: d("2001-02-28")) == 0)
        #expect(try d("2000-02-29").wholeYears(until: d("2001-03-01")) == 1)
        #expect(try d("2000-02-29").wholeYears(until: d("2004-02-29")) == 4)
        #expect(try d("2023-06-15").wholeYears(until: d("2023-06-15")) == 0)
    }

    @Test("a year-only PartialDate spans the whole year (case-format: bare year for diagnosisDate)")
    func partialYearOnly() throws {
        let date = try #require(PartialDate(text: "2009", allowYearOnly: true))
        #expect(date.earliest == LocalDate(iso: "2009-01-01"))
        #expect(date.latest == LocalDate(iso: "2009-12-31"))
        #expect(!date.isExact)
        #expect(date.description == "2009")
        let leap = try #require(PartialDate(text: "2024", allowYearOnly: true))
        #expect(leap.earliest.days(until: leap.latest) == 365)
    }

    @Test("a full PartialDate is exact")
    func partialFull() throws {
        let date = try #require(PartialDate(text: "2009-06-01", allowYearOnly: true))
        #expect(date.isExact)
        #expect(date.earliest == LocalDate(iso: "2009-06-01"))
        #expect(date.latest == date.earliest)
        #expect(PartialDate(text: "2009-06-01", allowYearOnly: false)?.isExact == true)
    }

    @Test("a bare year only where allowed; other partial forms never",
          arguments: ["09", "20091", "2009-13", "2009-06", "0000", "-200", "200a", "2009-02-29", ""])
    func partialInvalid(text: String) {
        #expect(PartialDate(text: text, allowYearOnly: true) == nil)
    }

    @Test("year-only text is rejected when not allowed (case-format: the bare year is for diagnosisDate only)")
    func partialYearNotAllowed() {
        #expect(PartialDate(text: "2009", allowYearOnly: false) == nil)
    }
}
