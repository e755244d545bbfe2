/// Imaging advice (clinical-spec 9, from the seeds and Shahi 2014): radiograph first when
/// calcinosis is suspected, ultrasound at joints or with infection, CT for surgery, deep extension
/// or neurovascular symptoms, MRI for inflammation or infection when radiograph/ultrasound were inconclusive.
public struct ImagingAdvice: Sendable, Equatable {
    public var modality: ImagingModality
    public var reason: String
    public var basis: String
    public var sources: [String]
}

public enum Imaging {
    public static func evaluate(_ ctx: CaseContext, infection: InfectionTriage) -> [ImagingAdvice] {
        guard !ctx.lesions.isEmpty else { return [] }
        let c = ctx.case
        let studies = c.imagingStudies.filter { $0.date <= ctx.asOf }
        func done(_ m: ImagingModality) -> ImagingStudy? { studies.last { $0.modality == m } }
        var advice: [ImagingAdvice] = []

        let sites = ctx.lesions.map { "\($0.laterality.map { $0.rawValue + " " } ?? "")\($0.site?.rawValue ?? "unknown site")" }
        if done(.radiograph) == nil {
            advice.append(ImagingAdvice(modality: .radiograph,
                reason: "first-line imaging to detect and confirm calcinosis (very sensitive; recommended initially in connective-tissue disease)",
                basis: "lesions at " + sites.joined(separator: ", ") + "; no radiograph recorded",
                sources: [Sources.shahi2014, Sources.seed2, Sources.seed1]))
        }
        let joint = ctx.lesions.filter { $0.site?.isPeriarticular == true || $0.periarticularMass == true }
        if done(.ultrasound) == nil && (!joint.isEmpty || infection.present) {
            let why = !joint.isEmpty ? "lesion at a joint (\(joint.map(\.id).joined(separator: ", "))): tells joint involvement from soft tissue only"
                                     : "infection: soft-tissue extent and collections at the bedside"
            advice.append(ImagingAdvice(modality: .ultrasound, reason: "first-line bedside soft-tissue imaging; " + why,
                                        basis: why, sources: [Sources.seed1]))
        }
        var ctReasons: [String] = []
        if c.workup.plannedSurgery == true { ctReasons.append("planned surgery") }
        if c.workup.suspectedDeepExtension == true { ctReasons.append("suspected deep extension") }
        if c.workup.neurovascularSymptoms == true { ctReasons.append("neurovascular symptoms") }
        if !ctReasons.isEmpty {
            advice.append(ImagingAdvice(modality: .ct,
                reason: "extent, relation to neurovascular bundles and surgical planning (3-D reconstruction)",
                basis: ctReasons.joined(separator: ", "), sources: [Sources.seed1]))
        }
        let inflammation = c.workup.suspectedSoftTissueInflammation == true || infection.present
        let inconclusive = studies.filter { ($0.modality == .radiograph || $0.modality == .ultrasound) && $0.inconclusive == true }
        if inflammation && !inconclusive.isEmpty && done(.mri) == nil {
            advice.append(ImagingAdvice(modality: .mri,
                reason: "oedema and inflammation: infection versus inflammatory foreign-body reaction (gadolinium enhancement)",
                basis: (infection.present ? "infection present" : "soft-tissue inflammation suspected")
                    + "; inconclusive " + inconclusive.map { "\($0.modality.rawValue) of \($0.date)" }.joined(separator: ", "),
                sources: [Sources.seed1, Sources.wasserman2020, Sources.seed2]))
        }
        return advice
    }
}
