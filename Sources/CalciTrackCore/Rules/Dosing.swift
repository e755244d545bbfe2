/// Weight- and area-based doses (case-format.md `doses`): methylprednisolone pulse 30 mg/kg/day
/// capped at 1 g, prednisone 2 mg/kg/day as reported (dermatomyositis-derived), high-dose
/// diltiazem 3 mg/kg/day, and intralesional sodium thiosulfate 1 mL per cm² of each open lesion.
public struct DoseCalculation: Sendable, Equatable {
    public var id: String
    public var mgPerDay: Double?
    public var ml: Double?
    public var lesion: String?
    public var capped: Bool?
    public var dermatomyositisDerived: Bool
    public var caution: String?
    /// Written when read from the numbers it was calculated from (see `DeferredText`).
    public var basis: String {
        get { basisText.text }
        set { basisText = DeferredText(newValue) }
    }
    var basisText: DeferredText
    public var sources: [String]
    public var tag: Verification
}

public struct Dosing: Sendable, Equatable {
    public var doses: [DoseCalculation]
    /// Why a dose is absent (e.g. no weight), so its absence is never silent.
    public var notes: [String]

    static let waitSevere = "immunosuppression should wait until the infection is controlled (severe infection)"
    static let waitQSOFA = "immunosuppression should wait until the infection is controlled (positive qSOFA)"
    static let methylprednisoloneSources = [Sources.seed1, Sources.jpediatr1996, Sources.etgMyopathies]
    static let prednisoneSources = [Sources.seed1]
    static let diltiazemSources = [Sources.denton2012]
    static let thiosulfateSources = [Sources.seed1, Sources.stsIntralesional2021]

    public static func evaluate(_ ctx: CaseContext, infection: InfectionTriage, lesions: [LesionMetrics]) -> Dosing {
        let t = ctx.thresholds
        var doses: [DoseCalculation] = []
        var notes: [String] = []
        let uncontrolled = infection.severity == .severe || infection.qsofa?.positive == true
        let caution = uncontrolled ? (infection.severity == .severe ? waitSevere : waitQSOFA) : nil

        if let weight = ctx.case.patient.weightKg {
            let perKg = t[.methylprednisoloneMgPerKg], cap = t[.methylprednisoloneCapMg]
            let raw = perKg * weight
            doses.append(DoseCalculation(id: "methylprednisolone-pulse", mgPerDay: rounded(min(raw, cap), places: 1), capped: raw > cap,
                dermatomyositisDerived: true, caution: caution,
                basisText: DeferredText { "\(fmt(perKg)) mg/kg/day × \(fmt(weight)) kg = \(fmt(raw)) mg, max \(fmt(cap)) mg (IV pulses, usually 3 days)" },
                sources: methylprednisoloneSources, tag: .seed))
            let pred = t[.prednisoneMgPerKg]
            doses.append(DoseCalculation(id: "prednisone", mgPerDay: rounded(pred * weight, places: 1), capped: false,
                dermatomyositisDerived: true, caution: caution,
                basisText: DeferredText { "\(fmt(pred)) mg/kg/day × \(fmt(weight)) kg as reported; no cap given in the sources; data from (juvenile) dermatomyositis" },
                sources: prednisoneSources, tag: .seed))
            let dil = t[.diltiazemHighMgPerKg]
            doses.append(DoseCalculation(id: "diltiazem-high-dose", mgPerDay: rounded(dil * weight, places: 1), capped: false,
                dermatomyositisDerived: false, caution: nil,
                basisText: DeferredText { "\(fmt(dil)) mg/kg/day × \(fmt(weight)) kg as reported (usual regimen 60 mg three times daily)" },
                sources: diltiazemSources, tag: .secondary))
        } else {
            notes.append("patient.weightKg missing: methylprednisolone-pulse, prednisone and diltiazem-high-dose (mg/kg) are not calculated")
        }

        let mlPerCm2 = t[.thiosulfateMlPerCm2]
        for lesion in lesions {
            guard let area = lesion.latestAreaCm2 else { continue }
            guard lesion.healed != true, area > 0 else { continue }
            let latest = lesion.areas.last!.areaCm2, method = lesion.areaMethod, id = lesion.id
            let raw = latest * mlPerCm2
            doses.append(DoseCalculation(id: "sodium-thiosulfate-intralesional", ml: rounded(raw, places: 1), lesion: id,
                dermatomyositisDerived: false, caution: nil,
                basisText: DeferredText { "\(fmt(mlPerCm2)) mL/cm² × \(fmt(latest)) cm² (\(method ?? "")) latest area of lesion \(id)" },
                sources: thiosulfateSources, tag: .seed))
        }
        return Dosing(doses: doses, notes: notes)
    }
}
