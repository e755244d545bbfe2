import CalciTrackCore
import Fluent
import Foundation
import SQLKit

/// Where a patient stands on the worklist on a given day: the follow-up status and the urgency
/// tier, computed from the summary columns (`PatientSummary`) and stored beside them (migration
/// 012) so the worklist can count and page them through an index instead of testing six flags
/// and three date rules on every row (issue 4: p95 ≤ 50 ms at 100,000 patients).
///
/// The follow-up status moves with the calendar, not only with writes, so each row also stores
/// the day it was computed for and the first later day on which it would change
/// (`until`); `refresh(on:today:)` recomputes the rows whose day has passed before a worklist is
/// read (an index range, empty on most requests).
struct WorklistStanding: Sendable, Equatable {
    /// "lost", "overdue", "due", "ok" or "no-visits" (`PatientSummary.followUpStatus`).
    var followUpStatus: String
    /// 0 (most urgent) … 9; see `tier(...)`.
    var tier: Int
    /// The day this standing was computed for.
    var day: LocalDate
    /// The first day after `day` on which the follow-up status (and so the tier) changes without
    /// a write; nil when it never does (no visits yet, or nothing due).
    var until: LocalDate?

    /// Tiers 0-8 need attention; 9 is everyone else (follow-up on schedule or no visits yet).
    static let lastAttentionTier = 8

    /// The summary columns the standing is computed from.
    struct Inputs: Sendable {
        var lastContact: String?
        var nextDue: String?
        var hasUnhealedLesion: Bool
        var activeInfection: Bool
        var infectionSeverity: String?
        var onsetSeverity: String?
        var sepsisScreenPositive: Bool
        var highAlert: Bool
        var worseningLesion: Bool
    }

    static func of(_ p: Inputs, on today: LocalDate, thresholds: Thresholds = Thresholds()) -> WorklistStanding {
        let status = PatientSummary.followUpStatus(lastContact: p.lastContact, nextDue: p.nextDue, unhealed: p.hasUnhealedLesion,
                                                   today: today, thresholds: thresholds)
        return WorklistStanding(followUpStatus: status, tier: tier(p, followUpStatus: status), day: today,
                                until: nextChange(p, after: today, thresholds: thresholds))
    }

    /// Most urgent first: severe active infection (today's triage, else the triage at onset of an
    /// open episode); a positive sepsis screen; moderate, then other active infection; a high
    /// alert; a worsening or recurred lesion; then, for patients with none of those, lost to
    /// follow-up, overdue, due; then the rest (tier 9).
    static func tier(_ p: Inputs, followUpStatus: String) -> Int {
        let severity = p.infectionSeverity ?? p.onsetSeverity
        if p.activeInfection && severity == "severe" { return 0 }
        if p.sepsisScreenPositive { return 1 }
        if p.activeInfection { return severity == "moderate" ? 2 : 3 }
        if p.highAlert { return 4 }
        if p.worseningLesion { return 5 }
        switch followUpStatus {
        case "lost": return 6
        case "overdue": return 7
        case "due": return 8
        default: return 9
        }
    }

    /// The status depends on the day only through three thresholds (`followUpStatus`): lost from
    /// last contact + lost days + 1 (with an unhealed lesion), overdue from next due + overdue
    /// days + 1, due from next due + 1. The first of them after `today` is when it next changes.
    static func nextChange(_ p: Inputs, after today: LocalDate, thresholds: Thresholds = Thresholds()) -> LocalDate? {
        guard let last = p.lastContact.flatMap(LocalDate.init(iso:)) else { return nil }  // "no-visits" for good
        var changes: [LocalDate] = []
        if p.hasUnhealedLesion { changes.append(last.adding(days: Int(thresholds[.followUpLostDays]) + 1)) }
        if let due = p.nextDue.flatMap(LocalDate.init(iso:)) {
            changes.append(due.adding(days: Int(thresholds[.followUpOverdueDays]) + 1))
            changes.append(due.adding(days: 1))
        }
        return changes.filter { today < $0 }.min()
    }

    /// Recomputes the standing of every patient whose stored one is not valid on `today` (its
    /// `until` has come, or it was computed for a later day), in one transaction. Each row is
    /// updated only if its standing day is still the one read, so a write that refreshed the
    /// patient's summary meanwhile wins. Deleted patients too: a restore finds them current.
    /// Returns the number of patients updated.
    @discardableResult
    static func refresh(on db: any Database, today: LocalDate) async throws -> Int {
        let sql = db as! any SQLDatabase
        let day = today.description
        // Cheap when nothing is due (the usual case): one probe of each of two indexes.
        let due = try await sql.raw("SELECT 1 FROM patients WHERE standing_until <= \(bind: day) OR standing_day > \(bind: day) LIMIT 1").all()
        if due.isEmpty { return 0 }
        return try await db.transaction { tx in
            let sql = tx as! any SQLDatabase
            let rows = try await sql.raw("""
                SELECT id, standing_day, \(unsafeRaw: Inputs.columns.joined(separator: ", "))
                FROM patients WHERE standing_until <= \(bind: day) OR standing_day > \(bind: day)
                """).all()
            for row in rows {
                let inputs = try Inputs(row: row)
                let standing = of(inputs, on: today)
                try await sql.raw("""
                    UPDATE patients SET follow_up_status = \(bind: standing.followUpStatus), worklist_tier = \(bind: standing.tier),
                           standing_day = \(bind: day), standing_until = \(bind: standing.until?.description)
                    WHERE id = \(bind: try row.decode(column: "id", as: UUID.self))
                      AND standing_day = \(bind: try row.decode(column: "standing_day", as: String.self))
                    """).run()
            }
            return rows.count
        }
    }
}

extension WorklistStanding.Inputs {
    init(_ summary: PatientSummary) {
        self.init(lastContact: summary.lastContact, nextDue: summary.nextDue, hasUnhealedLesion: summary.hasUnhealedLesion,
                  activeInfection: summary.activeInfection, infectionSeverity: summary.infectionSeverity,
                  onsetSeverity: summary.onsetSeverity, sepsisScreenPositive: summary.sepsisScreen != nil,
                  highAlert: summary.highAlerts != nil, worseningLesion: summary.worseningLesion)
    }
}

extension WorklistStanding.Inputs {
    /// The summary columns of a `patients` row read with SQL (the refresh, migration 012).
    static let columns = ["last_contact", "next_due", "has_unhealed_lesion", "active_infection", "infection_severity",
                          "onset_severity", "sepsis_screen_positive", "high_alert", "worsening_lesion"]

    init(row: any SQLRow) throws {
        self.init(lastContact: try row.decode(column: "last_contact", as: String?.self),
                  nextDue: try row.decode(column: "next_due", as: String?.self),
                  hasUnhealedLesion: try row.decode(column: "has_unhealed_lesion", as: Bool.self),
                  activeInfection: try row.decode(column: "active_infection", as: Bool.self),
                  infectionSeverity: try row.decode(column: "infection_severity", as: String?.self),
                  onsetSeverity: try row.decode(column: "onset_severity", as: String?.self),
                  sepsisScreenPositive: try row.decode(column: "sepsis_screen_positive", as: Bool.self),
                  highAlert: try row.decode(column: "high_alert", as: Bool.self),
                  worseningLesion: try row.decode(column: "worsening_lesion", as: Bool.self))
    }
}
