import Foundation
import NIOConcurrencyHelpers
import Vapor

/// Slows password guessing at sign-in (`POST /api/v1/auth/login`, the web form): after
/// `maxPerUser` failed attempts for one username, or `maxPerAddress` from one IP address, within
/// `window`, further attempts are refused with 429 Too Many Requests and `Retry-After` until the
/// oldest of those failures leaves the window. A refused attempt's password is not checked, so
/// guessing stops; a success clears the username's failures. NIST SP 800-63B 5.2.2 (rate limiting
/// failed attempts on an account) and the OWASP Authentication Cheat Sheet ("Protect against
/// automated attacks": throttle per account and per source, rather than lock accounts for good).
///
/// In memory, per server process: the failures are also in the audit log (`login-failed`), but
/// several processes behind one PostgreSQL database each count their own.
final class LoginThrottle: Sendable {
    struct Limits: Sendable {
        var maxPerUser = 5
        var maxPerAddress = 20
        var window: TimeInterval = 15 * 60
    }

    let limits: Limits
    private let now: @Sendable () -> Date
    /// "user:<name>" or "ip:<address>" → times of recent failures, oldest first.
    private let failures = NIOLockedValueBox<[String: [Date]]>([:])

    init(limits: Limits = Limits(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.limits = limits
        self.now = now
    }

    /// Usernames compare case-insensitively here, so "Admin" and "admin" share their failures.
    private static func userKey(_ username: String) -> String { "user:" + username.lowercased() }

    /// Seconds until an attempt for `username` from `address` is allowed again; nil: allowed now.
    func retryAfter(username: String, address: String?) -> Int? {
        let now = now()
        return failures.withLockedValue { table in
            var wait: TimeInterval = 0
            for (key, limit) in keys(username, address) {
                let recent = Self.prune(&table, key, now: now, window: limits.window)
                if recent.count >= limit, let oldest = recent.first {
                    wait = max(wait, oldest.addingTimeInterval(limits.window).timeIntervalSince(now))
                }
            }
            return wait > 0 ? Int(wait.rounded(.up)) : nil
        }
    }

    func recordFailure(username: String, address: String?) {
        let now = now()
        failures.withLockedValue { table in
            // Keys whose failures all left the window are dropped now and then, so that a flood of
            // made-up usernames does not grow the table for good.
            if table.count > 10_000 {
                table = table.filter { $0.value.last.map { now.timeIntervalSince($0) < limits.window } ?? false }
            }
            for (key, _) in keys(username, address) {
                _ = Self.prune(&table, key, now: now, window: limits.window)
                table[key, default: []].append(now)
            }
        }
    }

    func recordSuccess(username: String) {
        _ = failures.withLockedValue { $0.removeValue(forKey: Self.userKey(username)) }
    }

    private func keys(_ username: String, _ address: String?) -> [(String, Int)] {
        [(Self.userKey(username), limits.maxPerUser)] + (address.map { [("ip:" + $0, limits.maxPerAddress)] } ?? [])
    }

    /// The key's failures within the window (older ones removed).
    private static func prune(_ table: inout [String: [Date]], _ key: String, now: Date, window: TimeInterval) -> [Date] {
        guard var times = table[key] else { return [] }
        times.removeAll { now.timeIntervalSince($0) >= window }
        table[key] = times.isEmpty ? nil : times
        return times
    }

    /// The refusal: 429 with Retry-After (RFC 6585 section 4; RFC 9110 10.2.3).
    static func refusal(retryAfter seconds: Int) -> Abort {
        Abort(.tooManyRequests, headers: ["Retry-After": String(seconds)],
              reason: "too many failed sign-in attempts; try again in \(seconds) seconds")
    }
}

private struct LoginThrottleKey: StorageKey { typealias Value = LoginThrottle }

extension Application {
    /// Set once in `configure`.
    var loginThrottle: LoginThrottle {
        get { storage.required(LoginThrottleKey.self, "app.loginThrottle") }
        set { storage[LoginThrottleKey.self] = newValue }
    }
}
