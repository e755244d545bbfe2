/// Follow-up status (case-format.md): the first that applies of no-visits; lost (no visit for more
/// than 365 days while a lesion is unhealed: Seed-2's patient was lost from May 2018); overdue
/// (more than 30 days past the latest nextDue); due (1-30 days past it); ok.
/// Lesion measurement dates count as visits.
public struct FollowUp: Sendable, Equatable {
    public var status: String
    public var lastVisit: LocalDate?
    public var daysSinceLastVisit: Int?
    public var nextDue: LocalDate?
    public var daysPastDue: Int?
    public var basis: String
    public var sources: [String]

    public static func evaluate(_ ctx: CaseContext, lesions: [LesionMetrics]) -> FollowUp {
        let t = ctx.thresholds
        let dates = ctx.visits.map(\.date) + ctx.lesions.flatMap { $0.measurements.map(\.date) }
        let sources = [Sources.caseFormat, Sources.seed2]
        guard let last = dates.max() else {
            return FollowUp(status: "no-visits", basis: "no visit or lesion measurement on or before \(ctx.asOf)", sources: sources)
        }
        let since = last.days(until: ctx.asOf)
        // A lesion without measurements has no recorded healing, so it counts as unhealed.
        let unhealed = lesions.filter { $0.healed != true }.map(\.id)
        // The latest nextDue that no later visit has already met.
        let due = ctx.visits.compactMap(\.nextDue).max()
        let met = due.map { d in dates.contains { $0 >= d } } ?? false
        var result = FollowUp(status: "ok", lastVisit: last, daysSinceLastVisit: since, nextDue: due, basis: "", sources: sources)
        let lostDays = Int(t[.followUpLostDays]), overdueDays = Int(t[.followUpOverdueDays])
        if since > lostDays && !unhealed.isEmpty {
            result.status = "lost"
            result.basis = "last visit \(last), \(since) days ago (> \(lostDays)) with unhealed lesion\(unhealed.count == 1 ? "" : "s") \(unhealed.joined(separator: ", "))"
            return result
        }
        if let due, !met {
            let past = due.days(until: ctx.asOf)
            result.daysPastDue = max(past, 0)
            if past > overdueDays {
                result.status = "overdue"
                result.basis = "next visit was due \(due), \(past) days ago (> \(overdueDays))"
                return result
            }
            if past >= 1 {
                result.status = "due"
                result.basis = "next visit was due \(due), \(past) day\(past == 1 ? "" : "s") ago"
                return result
            }
        }
        result.status = "ok"
        result.basis = "last visit \(last) (\(since) days ago)" + (due.map { met ? "; due date \($0) met" : "; next due \($0)" } ?? "; no next visit set")
        return result
    }
}
