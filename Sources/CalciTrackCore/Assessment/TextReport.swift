/// The readable report of `calcitrack assess --format text`: what a clinician can scan in
/// 30 seconds, urgent first, then warnings, the assessment, options and information.
/// `verbose` adds each item's basis and sources beneath it.
public enum TextReport {
    public static func render(_ a: Assessment, verbose: Bool = false) -> String {
        var out: [String] = []
        func why(_ basis: String, _ sources: [String]) {
            guard verbose else { return }
            out.append("      why: \(basis)")
            out.append("      src: \(Sources.shortText(sources))")
        }
        out.append("CalciTrack assessment — case \(a.caseId ?? "(no id)"), as of \(a.asOf)")
        out.append(String(repeating: "=", count: 72))

        let i = a.infection
        let urgentAlerts = a.alerts.filter { $0.level == .high }
        let urgentInfection = i.present && i.severity == .severe
        if urgentInfection || !urgentAlerts.isEmpty {
            out.append("URGENT")
            if urgentInfection {
                out.append("  !! Severe \(i.purulent ? "purulent" : "non-purulent") infection: \(i.route) antibiotics"
                    + (i.mrsaCoverage ? ", MRSA coverage (\(i.mrsaReasons.joined(separator: ", ")))" : "")
                    + (i.management.isEmpty ? "" : "; " + i.management.joined(separator: ", ")))
                out.append("      because: " + i.severityReasons.joined(separator: "; "))
            }
            for alert in urgentAlerts { line(alert) }
        }
        let warnings = a.alerts.filter { $0.level == .moderate }
        let followUpWarning = ["lost", "overdue", "due"].contains(a.followUp.status)
        if !warnings.isEmpty || followUpWarning {
            out.append("WARNINGS")
            // Seed-2's patient was lost between visits: a lapse in follow-up is a warning, not a footnote.
            if followUpWarning { out.append("  !  Follow-up \(a.followUp.status.uppercased()): \(a.followUp.basis)") }
            for alert in warnings { line(alert) }
        }

        out.append("ASSESSMENT")
        let t = a.calcinosisType
        out.append("  Calcinosis type: \(t.value.rawValue)"
            + (t.matchedRules.count > 1 ? " (also matched: \(t.matchedRules.dropFirst().map(\.rawValue).joined(separator: ", ")))" : "")
            + (t.missingInputs.isEmpty ? "" : "; missing: \(t.missingInputs.joined(separator: ", "))"))
        why(t.basis, t.sources)
        let p = a.calciumPhosphateProduct
        if let mg = p.mg2dl2, let mmol = p.mmol2l2 {
            out.append("  Ca×P: \(fmt(mg)) mg²/dL² (\(fmt(mmol)) mmol²/L²), \(p.aboveThreshold == true ? "ABOVE" : "not above") \(fmt(p.thresholdMg2dl2))")
        } else {
            out.append("  Ca×P: not computed (\(p.basis))")
        }
        why(p.basis, p.sources)
        if i.present {
            out.append("  Infection: \(i.severity.rawValue), \(i.purulent ? "purulent" : "non-purulent"); route \(i.route); \(i.durationDays.map { "\($0) days, extend if not improved" } ?? "")")
            out.append("    systemic signs (IDSA): \(i.systemicSigns.present.isEmpty ? "none" : i.systemicSigns.present.joined(separator: ", "))"
                + "; SIRS \(i.sirs.criteriaMet)/4\(i.sirs.positive ? " POSITIVE" : "")"
                + "; qSOFA \(i.qsofa.map { "\($0.score)/3\($0.positive ? " POSITIVE" : "")" } ?? "not assessable")"
                + "; immunocompromised: \(i.immunosuppression.immunocompromised ? "yes" : "no")")
            if !i.empiricOptions.isEmpty {
                out.append("    empiric options (choose one; regimens joined by +):")
                var shownRegimens = Set<String>()
                for o in i.empiricOptions {
                    if let regimen = o.agent.regimen {
                        guard shownRegimens.insert(regimen).inserted else { continue }
                        let parts = i.empiricOptions.filter { $0.agent.regimen == regimen }
                        out.append("      - " + parts.map { "\($0.agent.drug) \($0.agent.dose ?? "(dose: local formulary)")" }.joined(separator: " + "))
                    } else {
                        out.append("      - \(o.agent.drug) \(o.agent.dose ?? "(dose: local formulary)")" + (o.weightBasedDose.map { " → \($0)" } ?? ""))
                    }
                }
            }
            why(i.basis, i.sources)
        } else {
            out.append("  Infection: none detected")
        }
        for l in a.lesions {
            let place = [l.laterality?.rawValue, l.site?.rawValue].compactMap { $0 }.joined(separator: " ")
            let area = l.latestAreaCm2.map { "\(fmt($0)) cm² (\(l.areaMethod ?? ""))" } ?? "no measurement"
            out.append("  Lesion \(l.id) (\(place.isEmpty ? "site not given" : place), \(l.morphology?.rawValue ?? "morphology not given")): \(area); trend \(l.trend); response \(l.response)"
                + (l.everRecurred ? " (healed, then recurred)" : "")
                + (l.par4w.map { "; PAR day \(l.par4wDay ?? 28) \(fmt($0)) %" } ?? ""))
            why(l.basis, l.sources)
        }
        let f = a.followUp
        out.append("  Follow-up: \(f.status.uppercased()) — \(f.basis)")
        for img in a.imaging {
            out.append("  Imaging: \(img.modality.rawValue) — \(img.reason)")
            why(img.basis, img.sources)
        }

        out.append("OPTIONS (as reported; no treatment is proven — evidence level per Traineau 2020 where graded)")
        for o in a.therapyOptions where o.kind == "pharmacological" || verbose || o.current || !o.cautions.isEmpty {
            let mark = o.recommendation == "avoid" ? "  ✗ AVOID" : o.current ? "  ● in use" : "  -"
            out.append("\(mark) \(o.name)\(o.regimen.map { ": \($0)" } ?? "")\(o.evidenceLevel.map { " [level \($0)]" } ?? "")"
                + (o.cautions.isEmpty ? "" : " — caution: " + o.cautions.joined(separator: "; ")))
            why(o.basis + "; " + o.evidence, o.sources)
        }
        let procedures = a.therapyOptions.filter { $0.kind != "pharmacological" && !verbose && !$0.current && $0.cautions.isEmpty }
        if !procedures.isEmpty {
            out.append("  - Procedures and supportive care: " + procedures.map(\.name).joined(separator: "; ") + " (--verbose for details)")
        }
        for d in a.dosing.doses {
            let amount = d.mgPerDay.map { "\(fmt($0)) mg/day" } ?? d.ml.map { "\(fmt($0)) mL" } ?? ""
            out.append("  Dose \(d.id)\(d.lesion.map { " (lesion \($0))" } ?? ""): \(amount)\(d.capped == true ? " (capped)" : "") — \(d.basis)"
                + (d.caution.map { " — CAUTION: \($0)" } ?? ""))
        }
        for note in a.dosing.notes { out.append("  Dose note: \(note)") }

        let info = a.alerts.filter { $0.level == .info }
        if !info.isEmpty || !a.riskFactors.isEmpty || !a.inputWarnings.isEmpty || a.ignoredRecordCount > 0
            || a.medications.contains(where: { !$0.recognized }) {
            out.append("INFO")
            for alert in info { line(alert) }
            if !a.riskFactors.isEmpty {
                out.append("  Risk factors present: " + a.riskFactors.map { "\($0.id) (\($0.association))" }.joined(separator: "; "))
            }
            let unknown = a.medications.filter { !$0.recognized }.map(\.drug)
            if !unknown.isEmpty { out.append("  Unrecognised drugs (kept, not checked for interactions): " + unknown.joined(separator: ", ")) }
            for w in a.inputWarnings { out.append("  Input: \(w.field): \(w.message)") }
            if a.ignoredRecordCount > 0 { out.append("  \(a.ignoredRecordCount) record(s) dated after \(a.asOf) were left out") }
        }
        out.append(String(repeating: "-", count: 72))
        out.append("Decision support, not a decision. Sources: " + a.citedSources.map { Sources.all[$0]?.short ?? $0 }.joined(separator: "; "))
        return out.joined(separator: "\n") + "\n"

        func line(_ alert: Alert) {
            let mark = alert.level == .high ? "  !!" : alert.level == .moderate ? "  ! " : "  i "
            out.append("\(mark) \(alert.id)\(alert.proposed ? " (if started)" : ""): \(alert.message)")
            if let action = alert.action { out.append("      → \(action)") }
            out.append("      basis: \(alert.basis) [\(alert.source)]")
        }
    }
}
