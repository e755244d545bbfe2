import Fluent
import Vapor

/// Who may see or change a patient (issue 3, item 4): clinicians read and write the patients of
/// their sites; researchers read every patient de-identified (no names, MRN or notes; dates
/// shifted by the patient's offset); admins manage users and see no patient data.
enum PatientAccess {
    enum Mode { case read, write }

    static let adminRefused = APIError(.forbidden, "admins manage users and sites; patient data needs the clinician or researcher role")

    static func check(_ patient: Patient, _ principal: Principal, _ mode: Mode) throws -> DateShift {
        switch principal.role {
        case .admin:
            throw adminRefused
        case .researcher:
            guard mode == .read else { throw APIError(.forbidden, "researchers read de-identified data only") }
            return DateShift(days: patient.dateShiftDays)
        case .clinician:
            guard principal.siteIDs.contains(patient.$site.id) else {
                throw APIError(.forbidden, "this patient belongs to a site you are not a member of")
            }
            return .none
        }
    }

    /// Checks access to a patient the caller loaded (nil: not found; admins are refused first).
    static func check(_ patient: Patient?, _ principal: Principal, _ mode: Mode) throws -> DateShift {
        if principal.role == .admin { throw adminRefused }
        guard let patient else { throw APIError.notFound("patient") }
        return try check(patient, principal, mode)
    }

    /// Loads a patient that exists (not deleted) and checks access.
    static func load(_ id: UUID, _ principal: Principal, _ mode: Mode, on db: any Database) async throws -> (Patient, DateShift) {
        if principal.role == .admin { throw adminRefused }
        guard let patient = try await Patient.find(id, on: db) else { throw APIError.notFound("patient") }
        return (patient, try check(patient, principal, mode))
    }
}

/// Optimistic concurrency: every record carries a version; updates and deletes must name the
/// version they were based on in `If-Match` (RFC 9110 13.1.1), else 428; a stale one answers 412.
enum VersionCheck {
    static func required(_ req: Request) throws -> Int {
        guard let raw = req.headers.first(name: .ifMatch) else {
            throw APIError(.preconditionRequired, "send If-Match with the record's version (its ETag) to update or delete it")
        }
        let text = raw.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "W/", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard let version = Int(text), version >= 1 else {
            throw APIError(.preconditionFailed, "If-Match must be a record version such as \"3\", got \(raw)")
        }
        return version
    }

    static func check(_ expected: Int, current: Int, what: String) throws {
        guard expected == current else {
            throw APIError(.preconditionFailed, "the \(what) was changed by someone else (now version \(current), you sent \(expected)); reload it and apply your change again")
        }
    }

    static func etag(_ version: Int) -> String { "\"\(version)\"" }
}
