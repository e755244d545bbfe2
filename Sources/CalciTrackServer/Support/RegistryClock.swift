import CalciTrackCore
import Vapor

/// Today's date for the registry (validation limits, worklist follow-up status). Behind a
/// protocol so tests can fix the date.
protocol RegistryClock: Sendable {
    func now() -> Date
}

struct SystemClock: RegistryClock {
    func now() -> Date { Date() }
}

struct FixedClock: RegistryClock {
    let date: Date
    func now() -> Date { date }
}

extension Application {
    private struct ClockKey: StorageKey { typealias Value = any RegistryClock }
    var registryClock: any RegistryClock {
        get { storage[ClockKey.self] ?? SystemClock() }
        set { storage[ClockKey.self] = newValue }
    }
}

extension Request {
    /// Today in UTC.
    var today: LocalDate { LocalDate.utc(application.registryClock.now()) }
}

extension LocalDate {
    static func utc(_ date: Date) -> LocalDate {
        LocalDate(daysSinceEpoch: Int((date.timeIntervalSince1970 / 86_400).rounded(.down)))
    }
}
