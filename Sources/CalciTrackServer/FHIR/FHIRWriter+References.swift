import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation
import SQLKit
import Vapor

/// How a FHIR write finds the records its references name (fullUrl, `Type/id`, registry ids).
extension FHIRWriter {
    // MARK: references

    /// The ledger key of a reference: `urn:uuid:...` as is, `http://x/fhir/Patient/1` → `Patient/1`.
    static func referenceKey(_ reference: String) -> String {
        if reference.hasPrefix("urn:") { return reference }
        // `Type/id`, one slash inside, is its own key (most references; splitting each was a
        // visible share of an import).
        let utf8 = reference.utf8
        if let slash = utf8.firstIndex(of: UInt8(ascii: "/")), slash != utf8.startIndex {
            let rest = utf8[utf8.index(after: slash)...]
            if !rest.isEmpty, !rest.contains(UInt8(ascii: "/")) { return reference }
        }
        let parts = reference.split(separator: "/")
        if let h = parts.firstIndex(of: "_history"), h >= 2 { return parts[h - 2] + "/" + parts[h - 1] }
        return parts.count >= 2 ? parts[parts.count - 2] + "/" + parts[parts.count - 1] : reference
    }

    /// The registry UUID a reference names directly (`Patient/<uuid>`), if any.
    static func registryID(inReference reference: String) -> UUID? {
        let key = referenceKey(reference)
        guard let slash = key.lastIndex(of: "/") else { return nil }
        return registryID(inLogicalID: String(key[key.index(after: slash)...]))
    }

    /// A registry UUID, also inside derived ids (`ssc-<uuid>`, `<uuid>-heart-rate`).
    static func registryID(inLogicalID id: String) -> UUID? {
        if let uuid = UUID.parse(id) { return uuid }
        if let vital = ResourceID.parseVital(id) { return UUID.parse(vital.vitalsID) }
        for prefix in ["ssc-", "calcinosis-"] where id.hasPrefix(prefix) { return UUID.parse(id.dropFirst(prefix.count)) }
        return nil
    }

    /// Resolves a reference to the registry record it names: this call's own entries (fullUrl),
    /// earlier imports (ledger), or a registry id.
    func resolve(_ reference: String, _ state: State) -> (id: UUID, patient: UUID?)? {
        if let w = state.written[reference] ?? state.written[Self.referenceKey(reference)] { return (w.recordID, w.patientID) }
        if let l = state.ledger[Self.referenceKey(reference)] { return (l.recordID, l.patientID) }
        if let id = Self.registryID(inReference: reference) { return (id, nil) }
        return nil
    }

    func patient(for record: MappedRecord, _ entry: WriteEntry, _ state: State, on tx: any Database) async throws -> Patient {
        let path = entry.resourceType + ".subject"
        guard let reference = record.subject else {
            throw EntryFailure(.unprocessableEntity, .required, "\(entry.resourceType) needs a reference to its patient", at: path)
        }
        guard let target = resolve(reference, state) else {
            throw EntryFailure(.unprocessableEntity, .notFound, "\(reference) names no patient known to CalciTrack (include the Patient in the Bundle, or import it first)", at: path)
        }
        let pid = target.patient ?? target.id
        var patient = state.patients[pid]
        if patient == nil, let found = try await Patient.find(pid, on: tx) { state.patients[pid] = found; patient = found }
        guard let patient else {
            throw EntryFailure(.unprocessableEntity, .notFound, "\(reference) names no patient known to CalciTrack (include the Patient in the Bundle, or import it first)", at: path)
        }
        guard authority.allows(patient.$site.id) else {
            throw EntryFailure(.forbidden, .forbidden, "\(reference) belongs to a site you are not a member of", at: path)
        }
        return patient
    }

    /// A lesion or medication the record points at, which must be the same patient's.
    func parentID(_ reference: String, of patientID: UUID, what: String, at path: String, _ state: State, on tx: any Database) async throws -> UUID {
        guard let target = resolve(reference, state) else {
            throw EntryFailure(.unprocessableEntity, .notFound, "\(reference) names no \(what) known to CalciTrack", at: path)
        }
        var owner = target.patient ?? state.parents[target.id]
        if owner == nil {
            if let l = try await LesionRecord.find(target.id, on: tx) { owner = l.patientID }
            else if let m = try await MedicationRecord.find(target.id, on: tx) { owner = m.patientID }
            if let owner { state.parents[target.id] = owner }
        }
        guard let owner else { throw EntryFailure(.unprocessableEntity, .notFound, "\(reference) names no \(what) known to CalciTrack", at: path) }
        guard owner == patientID else {
            throw EntryFailure(.unprocessableEntity, .businessRule, "\(reference) is a \(what) of another patient", at: path)
        }
        return target.id
    }
}
