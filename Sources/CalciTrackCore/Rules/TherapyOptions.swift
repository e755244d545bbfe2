/// The treatment menu of clinical-spec 7 for this patient: every option with its regimen and
/// evidence, marked "current" when already in use, with cautions from this patient's record
/// (infection, interactions, renal function). Nothing is ranked: there is no standard treatment.
///
/// The catalog texts are shared with every assessment through `TherapyRow` (one reference per
/// option instead of a dozen string copies); only the patient's own bits are kept per option, and
/// the basis text is written from them when read.
public struct TherapyOption: Sendable, Equatable {
    var row: TherapyRow
    public var id: String { get { row.fields.id } set { row = row.with { $0.id = newValue } } }
    public var kind: String { get { row.fields.kind } set { row = row.with { $0.kind = newValue } } }
    public var name: String { get { row.fields.name } set { row = row.with { $0.name = newValue } } }
    public var regimen: String? { get { row.fields.regimen } set { row = row.with { $0.regimen = newValue } } }
    public var evidenceLevel: String? { get { row.fields.evidenceLevel } set { row = row.with { $0.evidenceLevel = newValue } } }
    public var evidence: String { get { row.fields.evidence } set { row = row.with { $0.evidence = newValue } } }
    /// "option" or "avoid"
    public var recommendation: String { get { row.fields.recommendation } set { row = row.with { $0.recommendation = newValue } } }
    public var current: Bool
    public var cautions: [String]
    /// Written when read from the lesion count and the drugs in use: see `derivedBasis`.
    public var basis: String {
        get { row.fields.basisOverride ?? derivedBasis }
        set { row = row.with { $0.basisOverride = newValue } }
    }
    public var sources: [String] { get { row.fields.sources } set { row = row.with { $0.sources = newValue } } }
    public var tag: Verification { get { row.fields.tag } set { row = row.with { $0.tag = newValue } } }
    public var source: String { row.source }

    /// The option's drugs that are active (empty unless `current`).
    let inUse: [String]
    // 32 bits: the menu's 25 options then fit one small allocation (a larger one costs several
    // times as much in malloc).
    let lesionCount: Int32

    var derivedBasis: String {
        var basis = row.fields.avoidBasis ?? TherapyOptions.recorded(Int(lesionCount))
        if !inUse.isEmpty { basis += "; already in use: " + inUse.joined(separator: ", ") }
        return basis
    }

    public static func == (a: TherapyOption, b: TherapyOption) -> Bool {
        a.row.fields == b.row.fields && a.current == b.current && a.cautions == b.cautions && a.basis == b.basis
    }
}

/// A catalog entry's fixed texts, written once. Immutable and shared; a change to an option's
/// fixed field makes the option a row of its own (`with`).
final class TherapyRow: Sendable {
    struct Fields: Sendable, Equatable {
        var id: String
        var kind: String
        var name: String
        var regimen: String?
        var evidenceLevel: String?
        var evidence: String
        var recommendation: String
        var sources: [String]
        var tag: Verification
        /// The whole basis of an "avoid" entry; nil for options (whose basis depends on the patient).
        var avoidBasis: String?
        /// A basis set by the caller, replacing the written one.
        var basisOverride: String? = nil
    }

    let fields: Fields
    /// `Sources.shortText(fields.sources)`, written once per row rather than for every option shown.
    let source: String
    let immunosuppressive: Bool
    /// The drug-table entries named by the catalog entry's `drugs`, compared by identity.
    let drugs: [Drug]
    let caution: TherapyOptions.PatientCaution

    init(fields: Fields, immunosuppressive: Bool, drugs: [Drug], caution: TherapyOptions.PatientCaution) {
        self.fields = fields; source = Sources.shortText(fields.sources); self.immunosuppressive = immunosuppressive; self.drugs = drugs; self.caution = caution
    }

    convenience init(_ entry: TherapyEntry) {
        let caution: TherapyOptions.PatientCaution = switch entry.id {
        case "diltiazem": .diltiazem
        case "colchicine": .colchicine
        case "minocycline": .minocycline
        case "ceftriaxone": .ceftriaxone
        case "aluminium-hydroxide": .aluminiumHydroxide
        case "bisphosphonates": .bisphosphonates
        case "corticosteroids-systemic", "tnf-inhibitors": .dermatomyositisEvidence
        default: .none
        }
        self.init(fields: Fields(id: entry.id, kind: entry.kind.rawValue, name: entry.name, regimen: entry.regimen,
                                 evidenceLevel: entry.evidenceLevel, evidence: entry.evidence, recommendation: entry.stance.rawValue,
                                 sources: entry.sources, tag: entry.tag,
                                 avoidBasis: entry.stance == .avoid ? "listed so that it is not chosen: " + entry.evidence : nil),
                  immunosuppressive: entry.immunosuppressive,
                  // Only exact names: an alias never matched an active drug's (generic) name.
                  drugs: entry.drugs.compactMap { name in DrugCatalog.drug(named: name).flatMap { $0.name == name ? $0 : nil } },
                  caution: caution)
    }

    func with(_ change: (inout Fields) -> Void) -> TherapyRow {
        var f = fields
        change(&f)
        return TherapyRow(fields: f, immunosuppressive: immunosuppressive, drugs: drugs, caution: caution)
    }

    /// One row per catalog entry, in catalog order.
    static let catalog: [TherapyRow] = TherapyCatalog.entries.map(TherapyRow.init)
}

public enum TherapyOptions {
    /// The patient-specific caution an option can carry, by catalog id.
    enum PatientCaution: Sendable {
        case none, diltiazem, colchicine, minocycline, ceftriaxone, aluminiumHydroxide, bisphosphonates, dermatomyositisEvidence
    }

    // Cautions that do not depend on the patient's values, written once.
    static let waitSevere = ["immunosuppression should wait until the infection is controlled (severe infection)"]
    static let waitQSOFA = ["immunosuppression should wait until the infection is controlled (positive qSOFA)"]
    static let onColchicine = ["on colchicine: DDI-06/DDI-18 (colchicine levels rise with diltiazem)"]
    static let onWarfarin = ["on warfarin: DDI-02, monitor INR"]
    static let ivCalcium = ["IV calcium active: DDI-09, never co-administer"]
    static let etidronate = ["etidronate: paradoxical hyperphosphataemia possible (DDI-14)"]
    static let dermatomyositis = ["evidence mainly from (juvenile) dermatomyositis"]

    /// The basis of every option that is not an "avoid"; the texts for up to 20 lesions are
    /// written once, being the same for every option and every such patient.
    static func recorded(_ lesions: Int) -> String {
        lesions < recordedTexts.count ? recordedTexts[lesions] : recordedText(lesions)
    }
    static let recordedTexts = (0...20).map(recordedText)
    static func recordedText(_ n: Int) -> String { "calcinosis recorded (\(n) lesion\(n == 1 ? "" : "s"))" }

    /// A fixed caution list is shared, not copied, when it is the option's only one.
    static func joined(_ a: [String], _ b: [String]) -> [String] { a.isEmpty ? b : a + b }

    public static func evaluate(_ ctx: CaseContext, infection: InfectionTriage) -> [TherapyOption] {
        guard !ctx.lesions.isEmpty else { return [] }
        let wait: [String]? = infection.severity == .severe ? waitSevere : infection.qsofa?.positive == true ? waitQSOFA : nil
        let lesionCount = Int32(clamping: ctx.lesions.count)
        return TherapyRow.catalog.map { row in
            var cautions: [String] = []
            if row.immunosuppressive, let wait { cautions = wait }
            switch row.caution {
            case .none: break
            case .diltiazem: if ctx.isActive(.colchicine) { cautions = joined(cautions, onColchicine) }
            case .colchicine:
                if ctx.isActive(.strongCYP3A4OrPgpInhibitor) {
                    let strong = ctx.activeDrugs(in: .strongCYP3A4OrPgpInhibitor)
                    cautions.append("on \(strong.map(\.drug.name).joined(separator: ", ")): DDI-05, avoid")
                } else if ctx.isActive(.moderateCYP3A4Inhibitor) {
                    let moderate = ctx.activeDrugs(in: .moderateCYP3A4Inhibitor)
                    cautions.append("on \(moderate.map(\.drug.name).joined(separator: ", ")): DDI-06, reduce dose")
                }
            case .minocycline: if ctx.isActive(.vitaminKAntagonist) { cautions = joined(cautions, onWarfarin) }
            case .ceftriaxone:
                if ctx.active.contains(where: { $0.drug.is(.calciumSalt) && ctx.case.medications[$0.index].route == .intravenous }) { cautions = joined(cautions, ivCalcium) }
            case .aluminiumHydroxide:
                if let renal = Interactions.holds(.renalInsufficiency, ctx: ctx, infection: infection) {
                    cautions.append("renal insufficiency (\(renal)): DDI-15")
                }
            case .bisphosphonates: cautions = joined(cautions, etidronate)
            case .dermatomyositisEvidence: cautions = joined(cautions, dermatomyositis)
            }
            // Most options name no drug, and most patients take few: no list is built unless one is in use.
            var inUse: [String] = []
            for drug in row.drugs where ctx.active.contains(where: { $0.drug === drug }) { inUse.append(drug.name) }
            return TherapyOption(row: row, current: !inUse.isEmpty, cautions: cautions, inUse: inUse, lesionCount: lesionCount)
        }
    }
}
