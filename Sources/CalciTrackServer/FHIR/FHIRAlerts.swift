import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Vapor

/// The assessment's alerts of a patient as Flags, computed on read from the same case the
/// assessment API builds (`RegistryCase`), as of today.
enum FHIRAlerts {
    static func flags(patientID: UUID, on db: any Database, today: LocalDate) async throws -> [JSONValue] {
        guard let (patient, sections) = try await RegistryCase.patientWithSections(patientID, on: db) else { return [] }
        let json = try await RegistryCase.json(patient: patient, sections: sections, asOf: today, on: db)
        let decoded = try RegistryCase.decode(json, today: today)
        let assessment = Assessor().assess(decoded)
        return FlagOutbound.resources(assessment.alerts, patientID: patientID.lowercasedString, asOf: today)
    }
}
