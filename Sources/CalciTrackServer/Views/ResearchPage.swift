import Plot

/// The researchers' overview of the whole registry, de-identified aggregates only, with the
/// CSV export and its REDCap data dictionary.
struct ResearchPage {
    let ctx: WebContext
    let model: ResearchOverview

    private func percent(_ n: Int, of total: Int) -> String {
        total == 0 ? "–" : "\(formatNumber(Double(n) * 100 / Double(total), decimals: 1)) %"
    }

    func render() -> HTML {
        PageLayout(title: "Registry overview", ctx: ctx, section: .research).render(
            .h1(.text("Registry overview (de-identified)")),
            .div(.class("stats"),
                stat("Patients", model.patients), stat("With calcinosis lesions", model.withLesions), stat("Lesions", model.lesions),
                stat("Open lesions", model.openLesions), stat("Active infection", model.activeInfection), stat("Worsening or recurred", model.worsening)),
            .div(.class("actions"),
                .a(.class("button"), .href("/research/export.csv"), .attribute(named: "download", value: ""), .text("Download de-identified CSV")),
                .a(.class("button secondary"), .href("/research/dictionary.csv"), .attribute(named: "download", value: ""), .text("REDCap data dictionary"))),
            .p(.class("muted"), .text("The CSV has one row per patient: pseudonymous record id, no names, MRN or free text, every date shifted by the patient's offset (ages and durations true). The dictionary is REDCap's 18-column import format.")),
            .h2(.text("Lesion sites beside the published frequencies")),
            .table(.id("sites"),
                .caption(.class("visually-hidden"), .text("Share of patients with calcinosis who have a lesion at each site")),
                .thead(.tr(.th(.text("Site")), .th(.text("Patients")), .th(.text("Registry")), .th(.text("Published")), .th(.text("Source")))),
                .tbody(.forEach(model.siteCounts) { group, n in
                    .tr(.td(.text(group.name)), .td(.text("\(n)")), .td(.text(percent(n, of: model.withLesions))), .td(.text(group.published)), .td(.text(group.source)))
                })),
            .p(.class("muted"), .text("Registry: share of the \(model.withLesions) patient(s) with at least one lesion. Published: clinical-spec 2.2 (V verified, S from the seed case reports).")),
            .h2(.text("Morphology")),
            .table(.id("morphology"),
                .thead(.tr(.th(.text("Morphology")), .th(.text("Lesions")), .th(.text("Registry")), .th(.text("Bartoli 2016 (visible, palpable)")))),
                .tbody(.forEach(model.morphology) { name, n in
                    .tr(.td(.text(name)), .td(.text("\(n)")), .td(.text(percent(n, of: model.lesions))), .td(.text(ResearchOverview.publishedMorphology[name] ?? "–")))
                })),
            .h2(.text("Response of lesions (engine, Róbert categories)")),
            .table(.id("responses"),
                .thead(.tr(.th(.text("Response")), .th(.text("Lesions")), .th(.text("Share")))),
                .tbody(.forEach(model.responses.sorted { $0.key < $1.key }) { key, n in
                    .tr(.td(.text(key)), .td(.text("\(n)")), .td(.text(percent(n, of: model.responses.values.reduce(0, +)))))
                })),
            .p(.class("muted"), .text(model.responsePatients < model.responsePatientsTotal
                ? "Assessed as of today over the first \(model.responsePatients) of \(model.responsePatientsTotal) patients with lesions (a sample, to keep the page fast)."
                : "Assessed as of today over all \(model.responsePatients) patients with lesions.")),
            .h2(.text("Follow-up")),
            .table(.id("followup"),
                .thead(.tr(.th(.text("Status")), .th(.text("Patients")), .th(.text("Share")))),
                .tbody(.forEach(model.followUp.sorted { $0.key < $1.key }) { key, n in
                    .tr(.td(.text(key)), .td(.text("\(n)")), .td(.text(percent(n, of: model.patients))))
                }))
        )
    }

    private func stat(_ label: String, _ value: Int) -> Node<HTML.BodyContext> {
        .div(.class("stat"), .strong(.text("\(value)")), .span(.text(label)))
    }
}
