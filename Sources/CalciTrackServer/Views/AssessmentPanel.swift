import CalciTrackCore
import Plot

/// The engine's assessment as four groups — urgent, warnings, options, information — each
/// line expandable to the inputs it used (basis) and its published sources.
struct AssessmentPanel {
    struct Item {
        let text: String
        var action: String? = nil
        let basis: String
        let sources: [String]
    }

    struct Groups {
        var urgent: [Item] = []
        var warnings: [Item] = []
        var options: [Item] = []
        var info: [Item] = []
    }

    let assessment: Assessment
    var open = false

    static func groups(_ a: Assessment) -> Groups {
        var g = Groups()
        let i = a.infection
        if i.present {
            let text = "\(i.severity.rawValue.capitalized) \(i.purulent ? "purulent" : "non-purulent") infection: \(i.route) antibiotics"
                + (i.mrsaCoverage ? ", MRSA coverage (\(i.mrsaReasons.joined(separator: ", ")))" : "")
                + (i.management.isEmpty ? "" : "; " + i.management.joined(separator: ", "))
            let item = Item(text: text, action: i.severityReasons.isEmpty ? nil : "Because: " + i.severityReasons.joined(separator: "; "), basis: i.basis, sources: i.sources)
            if i.severity == .severe { g.urgent.append(item) } else { g.warnings.append(item) }
            if i.sirs.positive || i.qsofa?.positive == true {
                g.urgent.append(Item(text: "Sepsis screen positive: SIRS \(i.sirs.criteriaMet)/4\(i.qsofa.map { ", qSOFA \($0.score)/3" } ?? "")",
                                     basis: "systemic signs (IDSA): \(i.systemicSigns.present.isEmpty ? "none" : i.systemicSigns.present.joined(separator: ", "))", sources: i.sources))
            }
            for o in i.empiricOptions {
                g.options.append(Item(text: "Empiric: \(o.agent.drug) \(o.agent.dose ?? "(dose: local formulary)")" + (o.weightBasedDose.map { " → \($0)" } ?? ""),
                                      basis: i.basis, sources: i.sources))
            }
        }
        for alert in a.alerts {
            let item = Item(text: "\(alert.id)\(alert.proposed ? " (if started)" : ""): \(alert.message)", action: alert.action, basis: alert.basis, sources: alert.sources)
            switch alert.level {
            case .high: g.urgent.append(item)
            case .moderate: g.warnings.append(item)
            case .info: g.info.append(item)
            }
        }
        let f = a.followUp
        if ["lost", "overdue", "due"].contains(f.status) {
            g.warnings.insert(Item(text: "Follow-up \(f.status.uppercased())", basis: f.basis, sources: f.sources), at: 0)
        }
        for l in a.lesions where l.trend == "worsening" || l.trend == "recurred" {
            g.warnings.append(Item(text: "Lesion \(l.id) \(l.trend)" + (l.everRecurred ? " (healed, then recurred)" : ""), basis: l.basis, sources: l.sources))
        }
        for o in a.therapyOptions where o.kind == "pharmacological" || o.current || !o.cautions.isEmpty || o.recommendation == "avoid" {
            let mark = o.recommendation == "avoid" ? "AVOID: " : o.current ? "In use: " : ""
            g.options.append(Item(text: "\(mark)\(o.name)\(o.regimen.map { ": \($0)" } ?? "")\(o.evidenceLevel.map { " [evidence level \($0)]" } ?? "")",
                                  action: o.cautions.isEmpty ? nil : "Caution: " + o.cautions.joined(separator: "; "),
                                  basis: o.basis + "; " + o.evidence, sources: o.sources))
        }
        let procedures = a.therapyOptions.filter { !($0.kind == "pharmacological" || $0.current || !$0.cautions.isEmpty || $0.recommendation == "avoid") }
        if !procedures.isEmpty {
            g.options.append(Item(text: "Procedures and supportive care: " + procedures.map(\.name).joined(separator: "; "),
                                  basis: procedures.map { "\($0.name): \($0.evidence)" }.joined(separator: " · "), sources: Array(Set(procedures.flatMap(\.sources))).sorted()))
        }
        for d in a.dosing.doses {
            let amount = d.mgPerDay.map { "\(formatNumber($0)) mg/day" } ?? d.ml.map { "\(formatNumber($0)) mL" } ?? ""
            g.options.append(Item(text: "Dose \(d.id)\(d.lesion.map { " (lesion \($0))" } ?? ""): \(amount)\(d.capped == true ? " (capped)" : "")",
                                  action: d.caution.map { "Caution: \($0)" }, basis: d.basis, sources: d.sources))
        }
        let t = a.calcinosisType
        g.info.append(Item(text: "Calcinosis type: \(t.value.rawValue)" + (t.missingInputs.isEmpty ? "" : " (missing: \(t.missingInputs.joined(separator: ", ")))"),
                           basis: t.basis, sources: t.sources))
        let p = a.calciumPhosphateProduct
        if let mg = p.mg2dl2 {
            g.info.append(Item(text: "Ca×P \(formatNumber(mg)) mg²/dL², \(p.aboveThreshold == true ? "above" : "not above") \(formatNumber(p.thresholdMg2dl2))", basis: p.basis, sources: p.sources))
        } else {
            g.info.append(Item(text: "Ca×P not computed", basis: p.basis, sources: p.sources))
        }
        if !i.present { g.info.append(Item(text: "Infection: none detected", basis: i.basis, sources: i.sources)) }
        for l in a.lesions {
            let area = l.latestAreaCm2.map { "\(formatNumber($0)) cm²" } ?? "no measurement"
            g.info.append(Item(text: "Lesion \(l.id): \(area); trend \(l.trend); response \(l.response)" + (l.par4w.map { "; PAR 4 weeks \(formatNumber($0, decimals: 0)) %" } ?? ""),
                               basis: l.basis, sources: l.sources))
        }
        if !["lost", "overdue", "due"].contains(f.status) {
            g.info.append(Item(text: "Follow-up: \(f.status)", basis: f.basis, sources: f.sources))
        }
        for img in a.imaging { g.info.append(Item(text: "Imaging: \(img.modality.rawValue) — \(img.reason)", basis: img.basis, sources: img.sources)) }
        for r in a.riskFactors { g.info.append(Item(text: "Risk factor: \(r.id) (\(r.association))", basis: r.basis, sources: r.sources)) }
        let unknown = a.medications.filter { !$0.recognized }.map(\.drug)
        if !unknown.isEmpty {
            g.info.append(Item(text: "Unrecognised drugs (kept, not checked for interactions): " + unknown.joined(separator: ", "), basis: "drug names not in the engine's catalogue", sources: []))
        }
        return g
    }

    func render() -> Node<HTML.BodyContext> {
        let g = Self.groups(assessment)
        return .section(.class("panel assessment"), .id("assessment"), .attribute(named: "aria-labelledby", value: "assessment-title"),
            .h2(.id("assessment-title"), .text("Assessment as of \(assessment.asOf)")),
            .p(.class("muted"), .text("Decision support, not a decision. Open a line to see the inputs it used and its sources.")),
            group("urgent", "Urgent", g.urgent),
            group("warnings", "Warnings", g.warnings),
            group("options", "Options", g.options),
            group("info", "Information", g.info)
        )
    }

    private func group(_ key: String, _ title: String, _ items: [Item]) -> Node<HTML.BodyContext> {
        guard !items.isEmpty else {
            return .if(key == "urgent" || key == "warnings", .div(.class("group \(key)"), .id("group-\(key)"),
                .h3(.text(title)), .p(.class("muted"), .text("None."))))
        }
        return .div(.class("group \(key)"), .id("group-\(key)"),
            .h3(.text("\(title) (\(items.count))")),
            .ul(.forEach(items) { item in
                .li(.details(
                    .if(open, .attribute(named: "open")),
                    .summary(.text(item.text)),
                    .unwrap(item.action) { .p(.class("why"), .strong(.text($0))) },
                    .element(named: "dl", nodes: [
                        .class("why"),
                        .element(named: "dt", text: "Basis"), .element(named: "dd", text: item.basis),
                        .element(named: "dt", text: "Sources"),
                        .element(named: "dd", nodes: [.text(item.sources.isEmpty ? "—" : item.sources.map { Sources.all[$0].map { "\($0.short) — \($0.reference)" } ?? $0 }.joined(separator: " · "))]),
                    ])
                ))
            })
        )
    }
}
