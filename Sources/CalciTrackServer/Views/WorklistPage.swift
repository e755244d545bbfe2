import Plot

/// The worklist: search (clinicians), filters by site and status, one row per patient with the
/// reasons they need attention, and paging. Researchers see pseudonyms, no names or MRN.
struct WorklistPage {
    let ctx: WebContext
    let filter: WorklistFilter
    let sites: [(String, String)]
    /// The rendered results (`results(...)`), cached per data version by the controller.
    let results: String

    func render() -> HTML {
        PageLayout(title: "Worklist", ctx: ctx, section: .worklist).render(
            .h1(.text(ctx.isResearcher ? "Registry patients (de-identified)" : "Worklist")),
            .if(ctx.isResearcher, .p(.class("notice info"), .text("De-identified view: no names or MRN; every date is shifted by a per-patient offset, so intervals and ages stay true, except that ages over 89 show as 90 or older."))),
            filters,
            .raw(results)
        )
    }

    /// The count, the rows and the pager: what depends on the data (and on who asks: pseudonyms
    /// for researchers), not on the session.
    static func results(ctx: WebContext, filter: WorklistFilter, rows: [WorklistRow], total: Int, pageSize: Int) -> Node<HTML.BodyContext> {
        let view = WorklistResults(ctx: ctx, filter: filter, rows: rows, total: total, pageSize: pageSize)
        return .group(
            .p(.id("result-count"), .attribute(named: "role", value: "status"),
               .text("\(total) patient\(total == 1 ? "" : "s") — \(WorklistPageController.statuses.first { $0.0 == filter.status }?.1 ?? filter.status)")),
            rows.isEmpty ? .p(.class("muted"), .text("No patients match.")) : view.table,
            view.pager
        )
    }

    private var filters: Node<HTML.BodyContext> {
        // A search looks through every patient; the filters narrow the list (and keep the search).
        .div(.class("filters"),
            .if(!ctx.isResearcher, H.form(action: "/", method: "get", [("role", "search"), ("class", "search")],
                H.field("Search name or MRN", id: "q", error: nil, control: H.input(id: "q", name: "q", type: "search", value: filter.q)),
                .button(.type(.submit), .text("Search")))),
            H.form(action: "/", method: "get", [("class", "filter-form"), ("aria-label", "Filters")],
                .if(!filter.q.isEmpty, H.hidden("q", filter.q)),
                H.field("Status", id: "status", error: nil, control: H.select(id: "status", name: "status", WorklistPageController.statuses, selected: filter.status)),
                H.field("Site", id: "site", error: nil, control: H.select(id: "site", name: "site", [("", ctx.isResearcher ? "All sites" : "All my sites")] + sites, selected: filter.site?.lowercasedString ?? "")),
                .button(.type(.submit), .text("Show")))
        )
    }
}

struct WorklistResults {
    let ctx: WebContext
    let filter: WorklistFilter
    let rows: [WorklistRow]
    let total: Int
    let pageSize: Int

    var table: Node<HTML.BodyContext> {
        .table(.id("worklist"),
            .caption(.class("visually-hidden"), .text("Patients, most urgent first")),
            .thead(.tr(
                .th(.text(ctx.isResearcher ? "Patient (pseudonym)" : "Patient")),
                .if(!ctx.isResearcher, .th(.text("MRN"))),
                .th(.text("Age / sex")), .th(.text("Site")), .th(.text("Why")),
                .th(.text("Last contact")), .th(.text("Next due"))
            )),
            .tbody(.forEach(rows) { row in
                .tr(.class(row.level == "urgent" ? "attention-urgent" : row.level == "warn" ? "attention-warn" : ""),
                    .attribute(named: "data-patient", value: row.id),
                    .td(.a(.href("/patients/\(row.id)"), .text(row.name))),
                    .unwrap(row.mrn) { .td(.class("nowrap"), .text($0)) },
                    .td(.text("\(row.age.map { ctx.isResearcher ? DeidentifiedAge.text($0) : String($0) } ?? "?") / \(row.sex)")),
                    .td(.text(row.site)),
                    .td(.forEach(row.reasons) { .span(.class("reason \($0.level)"), .text($0.text)) }),
                    .td(.class("nowrap"), .text(row.lastContact ?? "–")),
                    .td(.class("nowrap"), .text(row.nextDue ?? "–"))
                )
            })
        )
    }

    var pager: Node<HTML.BodyContext> {
        let pages = max(1, (total + pageSize - 1) / pageSize)
        guard pages > 1 else { return .empty }
        return .nav(.class("pager"), .ariaLabel("Pages"),
            .if(filter.page > 1, .a(.href("/" + filter.query(page: filter.page - 1)), .attribute(named: "rel", value: "prev"), .text("← Previous"))),
            .span(.text("Page \(filter.page) of \(pages)")),
            .if(filter.page < pages, .a(.href("/" + filter.query(page: filter.page + 1)), .attribute(named: "rel", value: "next"), .text("Next →")))
        )
    }
}
