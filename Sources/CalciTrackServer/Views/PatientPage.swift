import CalciTrackCore
import Plot

/// The patient page: who (header), what the decision support says (assessment panel), where
/// the lesions are (body map), whether they heal (a chart per lesion) and the story (timeline).
struct PatientPage {
    let ctx: WebContext
    let model: PatientPageModel
    var savedNotice = false

    func render() -> HTML {
        PageLayout(title: model.title, ctx: ctx, section: .worklist).render(
            PatientHeader(model: model).render(),
            .if(savedNotice, .p(.class("notice ok"), .id("saved-notice"), .attribute(named: "role", value: "status"),
                               .text("Visit saved. The assessment below is recomputed from the updated record."))),
            .div(.class("actions"),
                .if(ctx.isClinician, .a(.class("button"), .id("record-visit"), .href("/patients/\(model.id)/visits/new"), .text("Record a visit"))),
                .a(.class("button secondary"), .href("/patients/\(model.id)/summary"), .text("Printable summary")),
                .a(.class("button secondary"), .href("/"), .text("Back to worklist"))
            ),
            .div(.class("grid"),
                .div(AssessmentPanel(assessment: model.assessment).render()),
                .div(
                    LesionSections.bodyMap(model),
                    LesionSections.charts(model)
                )
            ),
            TimelineSection.render(model)
        )
    }
}

/// Name (or pseudonym), MRN and site, and the clinical facts a clinician looks for first.
struct PatientHeader {
    let model: PatientPageModel

    func render() -> Node<HTML.BodyContext> {
        .section(.class("patient-head"), .attribute(named: "aria-label", value: "Patient"),
            .div(
                .h1(.id("patient-name"), .text(model.title)),
                .p(.class("muted"),
                   .text([model.mrn.map { "MRN \($0)" }, "site \(model.siteCode)", model.deidentified ? "de-identified; dates shifted" : nil].compactMap { $0 }.joined(separator: " · ")))
            ),
            // One <dl> per fact: axe-core does not accept <div> groups inside a <dl>.
            .div(.class("facts"), .forEach(model.facts) { fact in
                .element(named: "dl", nodes: [.class(fact.0 == "Active medications" ? "fact wide" : "fact"),
                                              .element(named: "dt", text: fact.0), .element(named: "dd", text: fact.1)])
            })
        )
    }
}

enum LesionSections {
    static func bodyMap(_ model: PatientPageModel) -> Node<HTML.BodyContext> {
        .section(.class("panel bodymap"), .id("bodymap"), .attribute(named: "aria-labelledby", value: "bodymap-heading"),
            .h2(.id("bodymap-heading"), .text("Lesions")),
            .raw(BodyMap.svg(model.lesions)),
            .ul(.class("legend"),
                .forEach(["worsening", "active", "healed", "unknown"]) { status in
                    .li(.span(.class("dot \(status)"), .attribute(named: "aria-hidden", value: "true")), .text(BodyMap.statusText[status] ?? status))
                })
        )
    }

    static func charts(_ model: PatientPageModel) -> Node<HTML.BodyContext> {
        .section(.class("panel charts"), .id("charts"), .attribute(named: "aria-labelledby", value: "charts-heading"),
            .h2(.id("charts-heading"), .text("Healing over time")),
            .if(model.lesions.isEmpty, .p(.class("muted"), .text("No lesions recorded."))),
            .forEach(model.lesions) { lesion in
                .div(.class("chart"), .id("lesion-\(lesion.recordID)"), .attribute(named: "data-lesion", value: H.attr(lesion.label)),
                    .h3(.text("Lesion \(lesion.label) — \(lesion.place)")),
                    .p(.class("muted"), .text("Trend \(lesion.metrics.trend); response \(lesion.metrics.response)"
                        + (lesion.metrics.everRecurred ? "; healed, then recurred" : "")
                        + (lesion.metrics.par4w.map { "; PAR at 4 weeks \(formatNumber($0, decimals: 0)) %" } ?? ""))),
                    .p(.class("findings-line"), .text("Findings (as of \(model.asOf)): " + (lesion.findings.isEmpty ? "none recorded" : lesion.findings.joined(separator: ", ")))),
                    .if(!lesion.findingsHistory.isEmpty, .details(.class("findings-history"), .attribute(named: "open", value: "open"),
                        .summary(.text("Findings of \(lesion.label) by date")),
                        .ul(.forEach(lesion.findingsHistory) { entry in
                            .li(.element(named: "time", nodes: [.attribute(named: "datetime", value: entry.date), .text(entry.date)]),
                                .text(": " + (entry.findings.isEmpty ? "none" : entry.findings.joined(separator: ", "))))
                        }))),
                    .raw(LesionChart.svg(lesion)),
                    .details(.summary(.text("Measurements of \(lesion.label) as a table")),
                        .table(
                            .thead(.tr(.th(.text("Date")), .th(.text("Area cm²")), .th(.text("Method")), .th(.text("Note")))),
                            .tbody(.forEach(LesionChart.points(lesion.metrics).enumerated()) { i, p in
                                .tr(.td(.text(p.date.description)), .td(.text(p.healed ? "0" : formatNumber(p.area))),
                                    .td(.text(lesion.metrics.areas[i].method.rawValue)),
                                    .td(.text(p.healed ? "healed" : p.recurred ? "recurred" : "")))
                            })
                        ))
                )
            }
        )
    }
}

enum TimelineSection {
    static func render(_ model: PatientPageModel) -> Node<HTML.BodyContext> {
        .section(.class("panel"), .id("timeline"), .attribute(named: "aria-labelledby", value: "timeline-heading"),
            .h2(.id("timeline-heading"), .text("Timeline")),
            .if(model.events.isEmpty, .p(.class("muted"), .text("Nothing recorded yet."))),
            .element(named: "ol", nodes: [.class("timeline"), .forEach(model.events) { e in
                .li(.class(e.kind),
                    .element(named: "time", nodes: [.attribute(named: "datetime", value: e.date), .text(e.date)]),
                    .span(.class("kind"), .text(e.kind)),
                    .text(e.text))
            }])
        )
    }
}

/// One page to print or hand over: header, assessment with every reason open, lesion map and
/// charts, timeline; no navigation or forms (the print stylesheet hides the rest).
struct PatientSummaryPage {
    let ctx: WebContext
    let model: PatientPageModel

    func render() -> HTML {
        PageLayout(title: "Summary · \(model.title)", ctx: ctx, section: .worklist).render(
            .div(.class("actions"),
                .button(.type(.button), .attribute(named: "onclick", value: "window.print()"), .text("Print")),
                .a(.class("button secondary"), .href("/patients/\(model.id)"), .text("Back to patient page"))),
            PatientHeader(model: model).render(),
            .p(.class("muted"), .text("CalciTrack summary as of \(model.asOf). Decision support, not a decision.")),
            AssessmentPanel(assessment: model.assessment, open: true).render(),
            LesionSections.bodyMap(model),
            LesionSections.charts(model),
            TimelineSection.render(model)
        )
    }
}
