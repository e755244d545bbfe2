/// Imaging advice (clinical-spec 9, from the seeds and Shahi 2014): radiograph first when
/// calcinosis is suspected, ultrasound at joints or with infection, CT for surgery, deep extension
/// or neurovascular symptoms, MRI for inflammation or infection when radiograph/ultrasound were inconclusive.
public struct ImagingAdvice: Sendable, Equatable {
    public var modality: ImagingModality
    /// `reason` and `basis` are written when read (see `DeferredText`).
    public var reason: String {
        get { reasonText.text }
        set { reasonText = DeferredText(newValue) }
    }
    public var basis: String {
        get { basisText.text }
        set { basisText = DeferredText(newValue) }
    }
    var reasonText: DeferredText
    var basisText: DeferredText
    public var sources: [String]
}

public enum Imaging {
    static let radiographReason = DeferredText("first-line imaging to detect and confirm calcinosis (very sensitive; recommended initially in connective-tissue disease)")
    static let radiographSources = [Sources.shahi2014, Sources.seed2, Sources.seed1]
    static let ultrasoundSources = [Sources.seed1]
    static let ctReason = DeferredText("extent, relation to neurovascular bundles and surgical planning (3-D reconstruction)")
    static let ctSources = [Sources.seed1]
    static let mriReason = DeferredText("oedema and inflammation: infection versus inflammatory foreign-body reaction (gadolinium enhancement)")
    static let mriSources = [Sources.seed1, Sources.wasserman2020, Sources.seed2]

    public static func evaluate(_ ctx: CaseContext, infection: InfectionTriage) -> [ImagingAdvice] {
        guard !ctx.lesions.isEmpty else { return [] }
        let c = ctx.case
        let asOf = ctx.asOf
        func done(_ m: ImagingModality) -> Bool { c.imagingStudies.contains { $0.date <= asOf && $0.modality == m } }
        var advice: [ImagingAdvice] = []
        let lesions = ctx.lesions

        if !done(.radiograph) {
            advice.append(ImagingAdvice(modality: .radiograph, reasonText: radiographReason,
                basisText: DeferredText {
                    let sites = lesions.map { "\($0.laterality.map { $0.rawValue + " " } ?? "")\($0.site?.rawValue ?? "unknown site")" }
                    return "lesions at " + sites.joined(separator: ", ") + "; no radiograph recorded"
                },
                sources: radiographSources))
        }
        let atJoint = lesions.contains { $0.site?.isPeriarticular == true || $0.periarticularMass == true }
        if !done(.ultrasound) && (atJoint || infection.present) {
            let why = DeferredText {
                if atJoint {
                    let joint = lesions.filter { $0.site?.isPeriarticular == true || $0.periarticularMass == true }
                    return "lesion at a joint (\(joint.map(\.id).joined(separator: ", "))): tells joint involvement from soft tissue only"
                }
                return "infection: soft-tissue extent and collections at the bedside"
            }
            advice.append(ImagingAdvice(modality: .ultrasound, reasonText: DeferredText { "first-line bedside soft-tissue imaging; " + why.text },
                                        basisText: why, sources: ultrasoundSources))
        }
        let w = c.workup
        if w.plannedSurgery == true || w.suspectedDeepExtension == true || w.neurovascularSymptoms == true {
            advice.append(ImagingAdvice(modality: .ct, reasonText: ctReason,
                basisText: DeferredText {
                    var ctReasons: [String] = []
                    if w.plannedSurgery == true { ctReasons.append("planned surgery") }
                    if w.suspectedDeepExtension == true { ctReasons.append("suspected deep extension") }
                    if w.neurovascularSymptoms == true { ctReasons.append("neurovascular symptoms") }
                    return ctReasons.joined(separator: ", ")
                },
                sources: ctSources))
        }
        let inflammation = w.suspectedSoftTissueInflammation == true || infection.present
        @Sendable func inconclusive(_ s: ImagingStudy) -> Bool {
            s.date <= asOf && (s.modality == .radiograph || s.modality == .ultrasound) && s.inconclusive == true
        }
        if inflammation && c.imagingStudies.contains(where: inconclusive) && !done(.mri) {
            let studies = c.imagingStudies, infected = infection.present
            advice.append(ImagingAdvice(modality: .mri, reasonText: mriReason,
                basisText: DeferredText {
                    (infected ? "infection present" : "soft-tissue inflammation suspected")
                        + "; inconclusive " + studies.filter(inconclusive).map { "\($0.modality.rawValue) of \($0.date)" }.joined(separator: ", ")
                },
                sources: mriSources))
        }
        return advice
    }
}
