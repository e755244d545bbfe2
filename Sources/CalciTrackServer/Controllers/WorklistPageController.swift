import CalciTrackCore
import Fluent
import SQLKit
import Vapor

/// The home page: the worklist, patients needing attention first, each with its reasons.
/// Uses the same summary columns and follow-up rule as `GET /api/v1/patients`, so the page
/// and the API never disagree; audited as a search like the API.
struct WorklistPageController: Sendable {
    static let pageSize = 25
    static let statuses: [(String, String)] = [
        ("attention", "Needs attention"), ("all", "All patients"), ("infection", "Active infection"),
        ("sepsis", "Sepsis screen positive"), ("alerts", "High alerts"), ("worsening", "Worsening or recurred lesion"), ("lost", "Lost to follow-up"), ("overdue", "Follow-up overdue"),
        ("due", "Follow-up due"), ("no-visits", "No visits yet"),
    ]

    func register(_ pages: any RoutesBuilder) {
        pages.get(use: worklist)
    }

    @Sendable func worklist(req: Request) async throws -> Response {
        let ctx = try await req.webContext()
        if ctx.principal.role == .admin {
            return .html(PageLayout(title: "Worklist", ctx: ctx, section: .worklist).render(
                .h1(.text("Worklist")),
                .p(.class("notice info"), .text("Admins manage sites and users and see no patient data. Use the calcitrack command (user, site, audit) or the admin API."))))
        }
        let today = req.today
        var filter = WorklistFilter(
            q: ctx.isResearcher ? "" : (req.query[String.self, at: "q"] ?? "").trimmingCharacters(in: .whitespaces),
            status: req.query[String.self, at: "status"] ?? "attention",
            site: req.query[String.self, at: "site"].flatMap(UUID.init(uuidString:)),
            page: max(1, req.query[Int.self, at: "page"] ?? 1))
        if !Self.statuses.contains(where: { $0.0 == filter.status }) { filter.status = "attention" }
        // A search looks through every patient, not only those needing attention.
        if !filter.q.isEmpty && req.query[String.self, at: "status"] == nil { filter.status = "all" }

        let sites = try await Site.query(on: req.db).sort(\.$code).all()
            .filter { ctx.isResearcher || ctx.principal.siteIDs.contains($0.id!) }
        // The same role, sites, filters, page and day give the same results until the next write
        // (the API's WorklistCache, keyed apart from the API's JSON pages); the audit entry is
        // written on every request.
        let cache = req.application.worklistCache
        let version = try await AuditLog.dataVersion(on: req.db)
        let key = "web\u{1F}" + PatientController.cacheKey(principal: ctx.principal, today: today,
                                                           [filter.q, filter.site?.uuidString, filter.status, String(filter.page)])
        let results: WorklistCache.Page
        if let cached = cache.page(key, version: version) {
            results = cached
        } else {
            // The list's count is the same on every page of it: kept apart from the pages.
            let countKey = "web\u{1F}" + PatientController.cacheKey(principal: ctx.principal, today: today,
                                                                    [filter.q, filter.site?.uuidString, filter.status])
            let (rows, total) = try await Self.rows(req, ctx: ctx, filter: filter, sites: sites, today: today,
                                                    count: cache.count(countKey, version: version))
            cache.store(count: total, for: countKey, version: version)
            results = WorklistCache.Page(body: WorklistPage.results(ctx: ctx, filter: filter, rows: rows, total: total, pageSize: Self.pageSize).render(),
                                         ids: rows.map(\.id), total: total)
            cache.store(page: results, for: key, version: version)
        }
        try await req.recordAudit([AuditEvent(action: "search", resourceType: "patients",
                                              detail: "web worklist \(req.url.query ?? ""); \(results.total) match(es); shown " + results.ids.joined(separator: " "))],
                                  actor: try await req.auditActor)
        return .html(WorklistPage(ctx: ctx, filter: filter, sites: sites.map { ($0.id!.lowercasedString, "\($0.code) · \($0.name)") },
                                  results: results.body).render())
    }

    /// The page's rows, most urgent first (`WorklistStanding.tier`, then name), and the number of
    /// matches (`count` when the caller has it for the same data version). Every list is an index
    /// range over the stored standing (012): its count reads the index, and its page reads the ids
    /// in index order before loading those patients.
    static func rows(_ req: Request, ctx: WebContext, filter: WorklistFilter, sites: [Site], today: LocalDate, count: Int? = nil) async throws -> ([WorklistRow], Int) {
        // Follow-up status moves with the calendar: bring the stored one to today first.
        try await WorklistStanding.refresh(on: req.db, today: today)
        let offset = (filter.page - 1) * pageSize
        let total: Int, ids: [UUID]
        if !filter.q.isEmpty && filter.status == "all" && ctx.isClinician {
            // The search box over all of a clinician's patients (the common search): index-only reads.
            let searchSites = Array(ctx.principal.siteIDs).filter { site in filter.site.map { $0 == site } ?? true }
            let search = WorklistSearch(text: filter.q, sites: searchSites)
            if let count { total = count } else { total = try await search.count(on: req.db) }
            ids = try await search.ids(offset: offset, limit: pageSize, on: req.db)
        } else {
            let query = listQuery(on: req.db, ctx: ctx, filter: filter)
            // COUNT(site_id): in every worklist index, so the count can read the index alone (007).
            if let count { total = count } else { total = try await query.count(\.$site.$id) }
            // Ids first: the index holds the order and the id, so skipping `offset` rows never
            // reads the table (an OFFSET over whole rows read every skipped patient).
            ids = try await query.copy().sort(\.$worklistTier).sort(\.$familyName).sort(\.$givenName).sort(\.$id)
                .range(offset..<(offset + pageSize)).all(\.$id)
        }
        let byID = Dictionary(uniqueKeysWithValues: try await Patient.query(on: req.db).filter(\.$id ~~ ids).all().map { ($0.id!, $0) })
        let codes = Dictionary(uniqueKeysWithValues: sites.map { ($0.id!, $0.code) })
        let rows = ids.compactMap { byID[$0] }.map {
            WorklistRow($0, today: today, deidentified: ctx.isResearcher, siteCode: codes[$0.$site.id] ?? "")
        }
        return (rows, total)
    }

    /// The patients of a list (status, site, search) the caller may see, unsorted.
    static func listQuery(on db: any Database, ctx: WebContext, filter: WorklistFilter) -> QueryBuilder<Patient> {
        var query = Patient.query(on: db)
        if ctx.isClinician { query = query.filter(\.$site.$id ~~ Array(ctx.principal.siteIDs)) }
        if let site = filter.site { query = query.filter(\.$site.$id == site) }
        if !filter.q.isEmpty { query = query.matching(search: filter.q) }
        switch filter.status {
        case "attention": query = query.filter(\.$worklistTier <= WorklistStanding.lastAttentionTier)
        case "infection": query = query.filter(\.$activeInfection == true)
        case "sepsis": query = query.filter(\.$sepsisScreenPositive == true)
        case "alerts": query = query.filter(\.$highAlert == true)
        case "worsening": query = query.filter(\.$worseningLesion == true)
        case "all": break
        default: query = PatientController.filter(query, followUp: filter.status)
        }
        return query
    }
}

struct WorklistFilter: Sendable {
    var q: String
    var status: String
    var site: UUID?
    var page: Int

    func query(page: Int) -> String {
        var parts = ["status=\(status)"]
        if !q.isEmpty { parts.append("q=" + (q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")) }
        if let site { parts.append("site=\(site.lowercasedString)") }
        if page > 1 { parts.append("page=\(page)") }
        return "?" + parts.joined(separator: "&")
    }
}

/// One worklist line: who (or, de-identified, a pseudonym), and why they need attention.
struct WorklistRow: Sendable {
    struct Reason: Sendable { let level: String; let text: String }

    let id: String
    let name: String
    let mrn: String?
    let age: Int?
    let sex: String
    let site: String
    let lastContact: String?
    let nextDue: String?
    let reasons: [Reason]

    /// The most urgent reason's level (the row's colour).
    var level: String? {
        ["urgent", "warn", "info", "ok"].first { l in reasons.contains { $0.level == l } }
    }

    init(_ p: Patient, today: LocalDate, deidentified: Bool, siteCode: String) {
        let shift = deidentified ? DateShift(days: p.dateShiftDays) : .none
        id = p.id!.lowercasedString
        name = deidentified ? Self.pseudonym(p.id!) : "\(p.familyName), \(p.givenName)"
        mrn = deidentified ? nil : p.mrn
        let years = p.birthDate.flatMap(LocalDate.init(iso:)).map { today.age(from: $0) }
        age = deidentified ? years.map(DeidentifiedAge.age) : years
        sex = p.sex
        site = siteCode
        lastContact = shift(p.lastContact)?.stringValue
        nextDue = shift(p.nextDue)?.stringValue
        // Every reason comes from the summary columns PatientSummary stores at each write.
        var reasons: [Reason] = []
        if p.activeInfection {
            if let severity = p.infectionSeverity {
                reasons.append(Reason(level: severity == "severe" ? "urgent" : "warn", text: "Active infection: \(severity)"))
            } else if let onsetDate = p.infectionOnset {
                let date = shift(onsetDate)?.stringValue ?? onsetDate
                if let severity = p.onsetSeverity {
                    reasons.append(Reason(level: severity == "severe" ? "urgent" : "warn", text: "Open infection since \(date): \(severity) at onset, not re-triaged since"))
                } else {
                    reasons.append(Reason(level: p.onsetSepsisScreen == nil ? "warn" : "urgent", text: "Open infection since \(date)"))
                }
                if let sepsis = p.onsetSepsisScreen {
                    reasons.append(Reason(level: "urgent", text: "Sepsis screen positive at onset (\(sepsis))"))
                }
            } else {
                reasons.append(Reason(level: "warn", text: "Open infection episode (severity not assessable)"))
            }
        }
        if p.sepsisScreenPositive {
            reasons.append(Reason(level: "urgent", text: "Sepsis screen positive (\(p.sepsisScreen ?? "SIRS or qSOFA"))"))
        }
        if p.highAlert, let alerts = p.highAlerts {
            // De-identified views name the rule only: a message may quote a drug start date.
            // A line is "ID: message"; the row shows the message's first clause (the drugs), the
            // patient page the whole alert.
            for line in alerts.split(separator: "\n") {
                let id = line.prefix { $0 != ":" }
                let message = line.dropFirst(id.count + 1).drop { $0 == " " }
                let clause = message.prefix { $0 != ":" && $0 != ";" }
                reasons.append(Reason(level: "urgent", text: "High alert \(id)" + (deidentified || clause.isEmpty ? "" : ": \(clause)")))
            }
        }
        if p.worseningLesion { reasons.append(Reason(level: "warn", text: "Lesion worsening or recurred")) }
        let status = PatientSummary.followUpStatus(lastContact: p.lastContact, nextDue: p.nextDue, unhealed: p.hasUnhealedLesion, today: today)
        switch status {
        case "lost": reasons.append(Reason(level: "warn", text: "Lost to follow-up (last contact \(lastContact ?? "–"))"))
        case "overdue": reasons.append(Reason(level: "warn", text: "Follow-up overdue (due \(nextDue ?? "–"))"))
        case "due": reasons.append(Reason(level: "info", text: "Follow-up due (\(nextDue ?? "–"))"))
        case "no-visits": reasons.append(Reason(level: "info", text: "No visits recorded"))
        default: break
        }
        if reasons.isEmpty { reasons.append(Reason(level: "ok", text: p.hasUnhealedLesion ? "Follow-up on schedule" : "No open lesion")) }
        self.reasons = reasons
    }

    /// A stable, non-identifying label for de-identified views (from the record's random UUID).
    static func pseudonym(_ id: UUID) -> String {
        "P-" + id.lowercasedString.prefix(8)
    }
}
