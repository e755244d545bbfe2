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
    /// Written when read from the dates above (see `DeferredText`).
    public var basis: String {
        get { basisText.text }
        set { basisText = DeferredText(newValue) }
    }
    var basisText: DeferredText
    public var sources: [String]

    static let sources = [Sources.caseFormat, Sources.seed2]

    public static func evaluate(_ ctx: CaseContext, lesions: [LesionMetrics]) -> FollowUp {
        let t = ctx.thresholds
        // Visits and lesion measurements, without collecting their dates in a list.
        var last: LocalDate?
        func seen(_ date: LocalDate) { if last.map({ date > $0 }) ?? true { last = date } }
        for visit in ctx.visits { seen(visit.date) }
        for lesion in ctx.lesions { for m in lesion.measurements { seen(m.date) } }
        guard let last else {
            let asOf = ctx.asOf
            return FollowUp(status: "no-visits", basisText: DeferredText { "no visit or lesion measurement on or before \(asOf)" },
                            sources: sources)
        }
        let since = last.days(until: ctx.asOf)
        // A lesion without measurements has no recorded healing, so it counts as unhealed.
        let anyUnhealed = lesions.contains { $0.healed != true }
        // The latest nextDue that no later visit has already met.
        let due = ctx.visits.lazy.compactMap(\.nextDue).max()
        let met = due.map { d in last >= d } ?? false
        var result = FollowUp(status: "ok", lastVisit: last, daysSinceLastVisit: since, nextDue: due, basisText: DeferredText(""), sources: sources)
        let lostDays = Int(t[.followUpLostDays]), overdueDays = Int(t[.followUpOverdueDays])
        if since > lostDays && anyUnhealed {
            let unhealed = lesions.filter { $0.healed != true }.map(\.id)
            result.status = "lost"
            result.basisText = DeferredText {
                "last visit \(last), \(since) days ago (> \(lostDays)) with unhealed lesion\(unhealed.count == 1 ? "" : "s") \(unhealed.joined(separator: ", "))"
            }
            return result
        }
        if let due, !met {
            let past = due.days(until: ctx.asOf)
            result.daysPastDue = max(past, 0)
            if past > overdueDays {
                result.status = "overdue"
                result.basisText = DeferredText { "next visit was due \(due), \(past) days ago (> \(overdueDays))" }
                return result
            }
            if past >= 1 {
                result.status = "due"
                result.basisText = DeferredText { "next visit was due \(due), \(past) day\(past == 1 ? "" : "s") ago" }
                return result
            }
        }
        result.status = "ok"
        result.basisText = DeferredText {
            "last visit \(last) (\(since) days ago)" + (due.map { met ? "; due date \($0) met" : "; next due \($0)" } ?? "; no next visit set")
        }
        return result
    }
}
