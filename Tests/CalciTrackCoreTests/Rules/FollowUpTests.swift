@testable import CalciTrackCore
import Foundation
import Testing

private typealias B = RuleCaseBuilder

/// Follow-up status (case-format.md project decision `followUp.status`: the first of no-visits,
/// lost, overdue, due, ok; lesion measurement dates count as visits). asOf is 2024-01-10.
@Suite("Follow-up status")
struct FollowUpTests {
    static func followUp(_ parts: String...) throws -> FollowUp {
        try TestCases.assess(B.caseJSON(parts)).followUp
    }

    /// One open lesion measured on `date` (so that date is also a visit).
    static func openLesion(measured date: String) -> String {
        B.lesions([B.lesion(measurements: [B.measurement(date, length: 2, width: 1)])])
    }

    @Test("No visit and no measurement: no-visits [case-format.md followUp.status]")
    func noVisits() throws {
        let f = try Self.followUp(B.ssc())
        #expect(f.status == "no-visits")
        #expect(f.lastVisit == nil)
        #expect(f.daysSinceLastVisit == nil)
    }

    struct LostCase: Sendable, CustomTestStringConvertible {
        let name: String
        let daysSince: Int
        let healed: Bool
        let status: String
        let source: String
        var testDescription: String { "\(name) [\(source)]" }
    }

    static let lostCases: [LostCase] = [
        .init(name: "366 days with an unhealed lesion: lost", daysSince: 366, healed: false, status: "lost",
              source: "case-format.md project decision (no visit for more than 365 days while any lesion is unhealed); Seed-2"),
        .init(name: "365 days with an unhealed lesion: not lost", daysSince: 365, healed: false, status: "ok",
              source: "case-format.md project decision (more than 365 days)"),
        .init(name: "366 days with every lesion healed: not lost", daysSince: 366, healed: true, status: "ok",
              source: "case-format.md project decision (while any lesion is unhealed)"),
    ]

    @Test("Lost to follow-up", arguments: lostCases)
    func lost(_ c: LostCase) throws {
        let last = B.day(-c.daysSince)
        let measurements = c.healed
            ? [B.measurement(B.day(-c.daysSince - 60), length: 2, width: 1), B.measurement(last, healed: true)]
            : [B.measurement(last, length: 2, width: 1)]
        let f = try Self.followUp(B.lesions([B.lesion(measurements: measurements)]), B.visits([B.visit(last)]))
        #expect(f.status == c.status)
        #expect(f.lastVisit?.description == last)
        #expect(f.daysSinceLastVisit == c.daysSince)
    }

    @Test("Lost comes before overdue [case-format.md: the first status that applies]")
    func lostBeforeOverdue() throws {
        let f = try Self.followUp(Self.openLesion(measured: B.day(-400)), B.visits([B.visit(B.day(-400), nextDue: B.day(-370))]))
        #expect(f.status == "lost")
    }

    @Test("No lesion at all is never lost [case-format.md (while any lesion is unhealed)]")
    func noLesionNotLost() throws {
        let f = try Self.followUp(B.visits([B.visit(B.day(-500))]))
        #expect(f.status == "ok")
        #expect(f.daysSinceLastVisit == 500)
    }

    struct DueCase: Sendable, CustomTestStringConvertible {
        let daysPastDue: Int
        let status: String
        let source: String
        var testDescription: String { "\(daysPastDue) days past nextDue → \(status) [\(source)]" }
    }

    static let dueCases: [DueCase] = [
        .init(daysPastDue: 31, status: "overdue", source: "case-format.md project decision (more than 30 days: overdue)"),
        .init(daysPastDue: 30, status: "due", source: "case-format.md project decision (1-30 days: due)"),
        .init(daysPastDue: 1, status: "due", source: "case-format.md project decision (1-30 days: due)"),
        .init(daysPastDue: 0, status: "ok", source: "case-format.md project decision (not past nextDue: ok)"),
        .init(daysPastDue: -5, status: "ok", source: "case-format.md project decision (nextDue in the future: ok)"),
    ]

    @Test("Overdue and due", arguments: dueCases)
    func due(_ c: DueCase) throws {
        let visitDate = B.day(-60)
        let f = try Self.followUp(Self.openLesion(measured: visitDate), B.visits([B.visit(visitDate, nextDue: B.day(-c.daysPastDue))]))
        #expect(f.status == c.status)
        #expect(f.nextDue?.description == B.day(-c.daysPastDue))
        #expect(f.daysPastDue == max(c.daysPastDue, 0))
        #expect(f.lastVisit?.description == visitDate)
        #expect(f.daysSinceLastVisit == 60)
    }

    @Test("A later visit meets the due date [case-format.md (past the latest nextDue)]", arguments: [-35, -40])
    func laterVisitMeetsDue(_ laterVisit: Int) throws {
        // Due 40 days ago (would be overdue); a visit on or after the due date meets it.
        let f = try Self.followUp(Self.openLesion(measured: B.day(-60)),
                                  B.visits([B.visit(B.day(-60), nextDue: B.day(-40)), B.visit(B.day(laterVisit))]))
        #expect(f.status == "ok")
        #expect(f.lastVisit?.description == B.day(laterVisit))
        #expect(f.daysSinceLastVisit == -laterVisit)
    }

    @Test("A visit before the due date does not meet it [case-format.md]")
    func earlierVisitDoesNotMeetDue() throws {
        let f = try Self.followUp(Self.openLesion(measured: B.day(-60)),
                                  B.visits([B.visit(B.day(-60), nextDue: B.day(-40)), B.visit(B.day(-45))]))
        #expect(f.status == "overdue")
        #expect(f.daysPastDue == 40)
    }

    @Test("The latest nextDue counts [case-format.md (past the latest nextDue)]")
    func latestNextDue() throws {
        // An old, missed due date is superseded by a later visit's nextDue that is still ahead.
        let f = try Self.followUp(Self.openLesion(measured: B.day(-100)),
                                  B.visits([B.visit(B.day(-100), nextDue: B.day(-80)), B.visit(B.day(-10), nextDue: B.day(20))]))
        #expect(f.status == "ok")
        #expect(f.nextDue?.description == B.day(20))
    }

    @Test("A lesion measurement meets the due date like a visit [case-format.md visits[]: measurement dates count as visits]")
    func measurementMeetsDue() throws {
        let lesion = B.lesions([B.lesion(measurements: [B.measurement(B.day(-60), length: 2, width: 1),
                                                        B.measurement(B.day(-38), length: 2, width: 1)])])
        let f = try Self.followUp(lesion, B.visits([B.visit(B.day(-60), nextDue: B.day(-40))]))
        #expect(f.status == "ok")
        #expect(f.lastVisit?.description == B.day(-38))
        #expect(f.daysSinceLastVisit == 38)
    }

    @Test("A lesion measurement keeps a patient from being lost [case-format.md visits[]]")
    func measurementPreventsLost() throws {
        let lesion = B.lesions([B.lesion(measurements: [B.measurement(B.day(-400), length: 2, width: 1),
                                                        B.measurement(B.day(-10), length: 2, width: 1)])])
        let f = try Self.followUp(lesion, B.visits([B.visit(B.day(-400))]))
        #expect(f.status == "ok")
        #expect(f.daysSinceLastVisit == 10)
    }

    @Test("Measurements alone are visits (no visits[] given) [case-format.md visits[]]")
    func measurementsOnly() throws {
        let f = try Self.followUp(Self.openLesion(measured: B.day(-366)))
        #expect(f.status == "lost")
        #expect(f.daysSinceLastVisit == 366)
    }

    @Test("Seed-2: lost to follow-up from May 2018 [Seed-2 (Mourad & Louis 2021) via seed-2-followup.expected.json]")
    func seed2() throws {
        let a = Assessor().assess(try RuleCaseBuilder.decodeSeed("seed-2-followup"))
        #expect(a.followUp.status == "lost")
        #expect(a.followUp.lastVisit?.description == "2018-04-16")
        #expect(a.followUp.daysSinceLastVisit == 411)
    }
}
