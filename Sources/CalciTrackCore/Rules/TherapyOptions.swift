/// The treatment menu of clinical-spec 7 for this patient: every option with its regimen and
/// evidence, marked "current" when already in use, with cautions from this patient's record
/// (infection, interactions, renal function). Nothing is ranked: there is no standard treatment.
public struct TherapyOption: Sendable, Equatable {
    public var id: String
    public var kind: String
    public var name: String
    public var regimen: String?
    public var evidenceLevel: String?
    public var evidence: String
    /// "option" or "avoid"
    public var recommendation: String
    public var current: Bool
    public var cautions: [String]
    public var basis: String
    public var sources: [String]
    public var tag: Verification
    public var source: String { Sources.shortText(sources) }
}

public enum TherapyOptions {
    /// The patient-specific caution an option can carry, by catalog id.
    enum PatientCaution {
        case none, diltiazem, colchicine, minocycline, ceftriaxone, aluminiumHydroxide, bisphosphonates, dermatomyositisEvidence
    }

    /// Found once per catalog entry, in catalog order, rather than by comparing ids on every assessment.
    static let patientCautions: [PatientCaution] = TherapyCatalog.entries.map { entry in
        switch entry.id {
        case "diltiazem": .diltiazem
        case "colchicine": .colchicine
        case "minocycline": .minocycline
        case "ceftriaxone": .ceftriaxone
        case "aluminium-hydroxide": .aluminiumHydroxide
        case "bisphosphonates": .bisphosphonates
        case "corticosteroids-systemic", "tnf-inhibitors": .dermatomyositisEvidence
        default: PatientCaution.none
        }
    }

    public static func evaluate(_ ctx: CaseContext, infection: InfectionTriage) -> [TherapyOption] {
        guard !ctx.lesions.isEmpty else { return [] }
        let active = ctx.activeDrugs.map(\.drug.name)
        let infectionUncontrolled = infection.severity == .severe || infection.qsofa?.positive == true
        let waitForInfection = infectionUncontrolled
            ? "immunosuppression should wait until the infection is controlled (\(infection.severity == .severe ? "severe infection" : "positive qSOFA"))"
            : nil
        let onColchicine = ctx.isActive(.colchicine)
        let strongInhibitor = ctx.activeDrugs(in: .strongCYP3A4OrPgpInhibitor).map(\.drug.name)
        let moderateInhibitor = ctx.activeDrugs(in: .moderateCYP3A4Inhibitor).map(\.drug.name)
        let onWarfarin = ctx.isActive(.vitaminKAntagonist)
        // The same for every option that is not an "avoid": written once.
        let recorded = "calcinosis recorded (\(ctx.lesions.count) lesion\(ctx.lesions.count == 1 ? "" : "s"))"

        return zip(TherapyCatalog.entries, patientCautions).map { entry, caution in
            var cautions: [String] = []
            if entry.immunosuppressive, let waitForInfection { cautions.append(waitForInfection) }
            switch caution {
            case .diltiazem where onColchicine: cautions.append("on colchicine: DDI-06/DDI-18 (colchicine levels rise with diltiazem)")
            case .colchicine where !strongInhibitor.isEmpty: cautions.append("on \(strongInhibitor.joined(separator: ", ")): DDI-05, avoid")
            case .colchicine where !moderateInhibitor.isEmpty: cautions.append("on \(moderateInhibitor.joined(separator: ", ")): DDI-06, reduce dose")
            case .minocycline where onWarfarin: cautions.append("on warfarin: DDI-02, monitor INR")
            case .ceftriaxone where ctx.activeDrugs.contains { $0.drug.is(.calciumSalt) && $0.medication.route == .intravenous }:
                cautions.append("IV calcium active: DDI-09, never co-administer")
            case .aluminiumHydroxide:
                if let renal = Interactions.holds(.renalInsufficiency, ctx: ctx, infection: infection) {
                    cautions.append("renal insufficiency (\(renal)): DDI-15")
                }
            case .bisphosphonates: cautions.append("etidronate: paradoxical hyperphosphataemia possible (DDI-14)")
            case .dermatomyositisEvidence: cautions.append("evidence mainly from (juvenile) dermatomyositis")
            default: break
            }
            let current = entry.drugs.contains(where: active.contains)
            var basis = entry.stance == .avoid ? "listed so that it is not chosen: " + entry.evidence : recorded
            if current { basis += "; already in use: " + entry.drugs.filter(active.contains).joined(separator: ", ") }
            return TherapyOption(id: entry.id, kind: entry.kind.rawValue, name: entry.name, regimen: entry.regimen,
                                 evidenceLevel: entry.evidenceLevel, evidence: entry.evidence, recommendation: entry.stance.rawValue,
                                 current: current, cautions: cautions, basis: basis, sources: entry.sources, tag: entry.tag)
        }
    }
}
