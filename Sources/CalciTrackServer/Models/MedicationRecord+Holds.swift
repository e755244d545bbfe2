import Fluent
import Foundation

extension MedicationRecord {
    /// A hold is part of its medication's MedicationStatement (the status `on-hold`, the reason,
    /// a note per hold). So a hold written through the JSON API or the visit form is a new version
    /// of the medication: the statement's `versionId`, `lastUpdated`, history and `_since` exports
    /// show the change (a `_since` export would otherwise miss a new hold, and a client comparing
    /// versions would take the changed statement for unchanged). A FHIR write of a statement
    /// versions its medication itself. Returns the medication's audit entry.
    static func versionForHoldChange(_ id: UUID, hold: String, by user: String, on db: any Database) async throws -> AuditEvent {
        guard let medication = try await MedicationRecord.find(id, on: db) else { throw APIError.notFound("medication") }
        medication.version += 1
        medication.updatedBy = user
        try await medication.update(on: db)
        return AuditEvent(action: "update", resourceType: "medications", resourceID: id.lowercasedString, patientID: medication.patientID.lowercasedString,
                          detail: "version \(medication.version); changed: holds (\(hold))")
    }
}
