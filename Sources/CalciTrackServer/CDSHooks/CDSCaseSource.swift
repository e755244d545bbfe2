import CalciTrackCore
import Foundation

/// The case a CDS Hooks call assesses (from the prefetch or the registry), the case-format root
/// it was decoded from (order-select adds the draft orders to it), and the registry's id of the
/// patient when the registry holds them (card links go only there).
struct CDSCaseSource: Sendable {
    let decoded: DecodedCase
    let root: JSONObject
    let registryPatient: UUID?
}
