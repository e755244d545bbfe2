import CalciTrackCore
import Foundation

/// The one place the executable reads the clock; the core never does.
enum Clock {
    static func today() -> LocalDate {
        let parts = Calendar.current.dateComponents([.year, .month, .day], from: Date())
        return LocalDate(year: parts.year!, month: parts.month!, day: parts.day!)!
    }
}
