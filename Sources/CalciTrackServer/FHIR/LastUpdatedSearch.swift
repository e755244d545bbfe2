import CalciTrackCore
import Foundation
import SQLKit

/// `_lastUpdated` (R4 search.html#lastUpdated, a date parameter on `meta.lastUpdated`): what an
/// integration engine polls with, `Observation?_lastUpdated=gt2026-12-07T10:00:00Z`. Every
/// searchable resource's `meta.lastUpdated` is its row's `updated_at` (a derived resource's is
/// its patient's or vitals row's), so the filter is one indexed-free comparison on `t.updated_at`.
///
/// The value is an instant range by its precision (R4 3.1.1.4.2): a year, month or day (UTC, as
/// the registry's timestamps), or a time to the minute, second or fraction with its time zone
/// (required: R4 dateTime "if hours and minutes are specified, a time zone SHALL be populated").
/// The prefixes mean what they mean for the dates: `gt2026-12-07T10:00:00Z` is after that second,
/// so a resource whose `lastUpdated` reads `2026-12-07T10:00:00Z` is not in it.
struct LastUpdatedValue {
    let prefix: FHIRSearch.Prefix
    /// The half-open range [low, high) the value's precision covers.
    let low: Date
    let high: Date

    static let parameter = "_lastUpdated"

    static func parse(_ text: String) throws -> LastUpdatedValue {
        var prefix = FHIRSearch.Prefix.eq
        var rest = Substring(text)
        if let p = FHIRSearch.Prefix.allCases.first(where: { text.hasPrefix($0.rawValue) }) { prefix = p; rest = rest.dropFirst(2) }
        let bad = FHIRError(.badRequest, .value, "\(parameter)=\(text): must be [prefix]YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss[.sss]] with a time zone (Z or +hh:mm); "
                                + "prefixes: \(FHIRSearch.Prefix.allCases.map(\.rawValue).joined(separator: " "))", at: parameter)
        guard let range = range(String(rest)) else { throw bad }
        return LastUpdatedValue(prefix: prefix, low: range.low, high: range.high)
    }

    /// The instant range of a date or dateTime, nil when it is not one.
    static func range(_ text: String) -> (low: Date, high: Date)? {
        let datePart = text.prefix { $0 != "T" }
        let parts = datePart.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              parts[0].count == 4, parts.dropFirst().allSatisfy({ $0.count == 2 }) else { return nil }
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let year = Int(parts[0])!, month = parts.count > 1 ? Int(parts[1])! : 1, day = parts.count > 2 ? Int(parts[2])! : 1
        guard (1...12).contains(month), (1...31).contains(day),
              let start = utc.date(from: DateComponents(year: year, month: month, day: day)),
              utc.component(.day, from: start) == day else { return nil }
        let time = text.dropFirst(datePart.count)
        if time.isEmpty {
            let unit: Calendar.Component = parts.count == 1 ? .year : parts.count == 2 ? .month : .day
            guard let end = utc.date(byAdding: unit, value: 1, to: start) else { return nil }
            return (start, end)
        }
        // T hh:mm[:ss[.fraction]] zone
        guard parts.count == 3 else { return nil }
        var clock = time.dropFirst()
        let zoneStart = clock.firstIndex { $0 == "Z" || $0 == "+" || $0 == "-" }
        guard let zoneStart else { return nil }
        let zone = clock[zoneStart...]
        clock = clock[..<zoneStart]
        let offset: Int
        if zone == "Z" { offset = 0 } else {
            let z = zone.dropFirst().split(separator: ":")
            guard z.count == 2, z[0].count == 2, z[1].count == 2, let h = Int(z[0]), let m = Int(z[1]), h <= 14, m < 60 else { return nil }
            offset = (zone.first == "-" ? -1 : 1) * (h * 3600 + m * 60)
        }
        let fields = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(fields.count), fields[0].count == 2, fields[1].count == 2,
              let hour = Int(fields[0]), let minute = Int(fields[1]), hour < 24, minute < 60 else { return nil }
        var seconds = Double(hour * 3600 + minute * 60)
        var width = 60.0
        if fields.count == 3 {
            let s = fields[2].split(separator: ".", omittingEmptySubsequences: false)
            guard (1...2).contains(s.count), s[0].count == 2, let whole = Int(s[0]), whole < 60 else { return nil }
            seconds += Double(whole)
            width = 1
            if s.count == 2 {
                guard !s[1].isEmpty, s[1].allSatisfy({ $0.isASCII && $0.isNumber }), let fraction = Double("0." + s[1]) else { return nil }
                seconds += fraction
                width = pow(10, -Double(s[1].count))
            }
        }
        let low = start.addingTimeInterval(seconds - Double(offset))
        return (low, low.addingTimeInterval(width))
    }

    /// The condition on a timestamp column.
    func sql(_ column: String) -> SQLQueryString {
        FHIRSearch.rangeSQL(prefix, start: SQLQueryString(column), end: SQLQueryString(column), low: "\(bind: low)", high: "\(bind: high)")
    }
}
