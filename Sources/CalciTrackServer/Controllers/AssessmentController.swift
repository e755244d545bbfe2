import CalciTrackCore
import Fluent
import Vapor

/// The engine over HTTP: a stored patient's assessment (built from the registry by
/// `RegistryCase`, the same JSON as `calcitrack assess --format json`), the case it was built
/// from, and a stateless `POST /assess` for any case.
struct AssessmentController: Sendable {
    func register(_ api: any RoutesBuilder) {
        api.get("patients", ":id", "assessment", use: patientAssessment)
        api.get("patients", ":id", "case", use: patientCase)
        api.on(.POST, "assess", body: .collect(maxSize: "4mb"), use: assess)
    }

    enum Format: String { case json, text }

    private func format(_ req: Request) throws -> Format {
        let text = req.query[String.self, at: "format"] ?? "json"
        guard let format = Format(rawValue: text) else { throw APIError.invalid("format", .string(text), "format must be json or text") }
        return format
    }

    private func asOf(_ req: Request) throws -> LocalDate {
        guard let text = req.query[String.self, at: "asOf"] else { return req.today }
        guard let date = LocalDate(iso: text) else { throw APIError.invalid("asOf", .string(text), "asOf must be a calendar date written YYYY-MM-DD") }
        guard RegistryDates.range.contains(date) else { throw APIError.invalid("asOf", .string(text), RegistryDates.message("asOf")) }
        return date
    }

    /// The patient's case as of a date, dates shifted for researchers.
    private func loadCase(_ req: Request) async throws -> (JSONObject, patientID: UUID) {
        let principal = try await req.principal()
        let id = try req.uuidParameter("id", "patient")
        let loaded = try await RegistryCase.patientWithSections(id, on: req.db)
        let shift = try PatientAccess.check(loaded?.0, principal, .read)
        guard let (patient, sections) = loaded else { throw APIError.notFound("patient") }
        let requested = try asOf(req)
        // A researcher's asOf is in shifted time; the stored records are not.
        let asOf = requested.adding(days: -shift.days)
        // A researcher's bound is the birth date they are shown (DeidentifiedAge): checked against
        // the stored one, the answers for dates between the two would tell the stored one.
        let shownBirth = shift.days == 0 ? patient.birthDate : DeidentifiedAge.birthDate(patient.birthDate, today: req.today)
        if let birth = shownBirth.flatMap(LocalDate.init(iso:)), asOf < birth {
            throw APIError.invalid("asOf", .string(requested.description), "asOf must not be before the patient's birthDate")
        }
        let json = try await RegistryCase.json(patient: patient, sections: sections, asOf: asOf, on: req.db)
        return (RegistryCase.deidentified(json, by: shift, today: req.today), id)
    }

    @Sendable func patientAssessment(req: Request) async throws -> Response {
        let format = try format(req)
        let (json, id) = try await loadCase(req)
        let decoded = try RegistryCase.decode(json, today: req.today)
        let assessment = Assessor().assess(decoded)
        try await req.recordAudit([AuditEvent(action: "assess", resourceType: "patients", resourceID: id.lowercasedString,
                                              patientID: id.lowercasedString, detail: "asOf \(decoded.asOf)")],
                                  actor: try await req.auditActor)
        return render(assessment, format)
    }

    @Sendable func patientCase(req: Request) async throws -> Response {
        let (json, id) = try await loadCase(req)
        try await req.recordAudit([AuditEvent(action: "read", resourceType: "cases", resourceID: id.lowercasedString, patientID: id.lowercasedString)],
                                  actor: try await req.auditActor)
        return Response.json(.object(json))
    }

    /// Stateless: nothing is stored or audited (the case is not registry data).
    @Sendable func assess(req: Request) async throws -> Response {
        _ = try await req.principal()
        let format = try format(req)
        guard var buffer = req.body.data else { throw APIError.invalid("body", nil, "a case (JSON, case format v1) is required") }
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        let decoded: DecodedCase
        do {
            decoded = try CaseDecoder.decode(bytes, asOfOverride: try req.query[String.self, at: "asOf"].map { _ in try asOf(req) }, today: req.today)
        } catch let rejection as CaseRejection {
            throw APIError(validation: rejection.errors)
        }
        return render(Assessor().assess(decoded), format)
    }

    private func render(_ assessment: Assessment, _ format: Format) -> Response {
        switch format {
        case .json: return Response.json(AssessmentJSON.encode(assessment))
        case .text:
            var headers = HTTPHeaders()
            headers.contentType = .plainText
            return Response(status: .ok, headers: headers, body: .init(string: TextReport.render(assessment)))
        }
    }
}
