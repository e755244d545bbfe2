import CalciTrackCore
import CalciTrackFHIR
import Foundation
import NIOConcurrencyHelpers
import Vapor

/// CDS Hooks 2.0 at `/cds-services` (docs/fhir.md; https://cds-hooks.hl7.org/2.0/):
///   GET  /cds-services                                   discovery (no patient data; no token needed)
///   POST /cds-services/calcinosis-assessment             patient-view → cards
///   POST /cds-services/calcinosis-assessment/feedback    card outcomes → audit log
/// The case comes from the prefetch (mapped by CalciTrackFHIR's Inbound mappers), else from the
/// registry by patient id (FHIR Patient id = registry UUID), else 412.
struct CDSHooksController: Sendable {
    let authentication = CDSCallerAuthentication()
    /// Card uuid → patient id, so feedback is audited against its patient (bounded, newest kept).
    /// Sized for its bound at once: growing it rehashed every id on the way (≈ 1 % of a call).
    let issuedCards = NIOLockedValueBox<[String: String]>(Dictionary(minimumCapacity: CDSHooksController.issuedCardsLimit + 1))
    static let issuedCardsLimit = 100_000

    func register(_ app: Application) {
        // CDS Hooks 2.0: services must allow cross-origin calls from browser-based clients.
        let cors = CORSMiddleware(configuration: .init(allowedOrigin: .all, allowedMethods: [.GET, .POST, .OPTIONS],
                                                       allowedHeaders: [.accept, .authorization, .contentType, .origin]))
        let cds = app.grouped("cds-services").grouped(cors)
        cds.get(use: discovery)
        cds.on(.POST, "\(CDSService.id)", body: .collect(maxSize: "8mb"), use: patientView)
        cds.on(.POST, "\(CDSService.id)", "feedback", body: .collect(maxSize: "1mb"), use: feedback)
        // Preflight requests need a route for the CORS middleware to answer them.
        for path: [PathComponent] in [[], ["\(CDSService.id)"], ["\(CDSService.id)", "feedback"]] {
            cds.on(.OPTIONS, path) { _ in Response(status: .noContent) }
        }
    }

    @Sendable func discovery(req: Request) async throws -> Response {
        Response.json(CDSService.discovery)
    }

    /// The public base URL: configured, else from the Host header.
    private func baseURL(_ req: Request) -> String {
        if let base = req.application.cdsHooks.publicBaseURL { return base }
        return "http://" + (req.headers.first(name: .host) ?? "localhost")
    }

    private func authenticate(_ req: Request, path: String) async throws -> CDSCaller? {
        let settings = req.application.cdsHooks
        guard settings.authRequired else {
            req.logger.warning("CDS Hooks call accepted WITHOUT authentication (CALCITRACK_CDS_AUTH=off)")
            return nil
        }
        return try await authentication.verify(req, settings: settings, audience: baseURL(req) + path)
    }

    private func body(_ req: Request) throws -> JSONValue {
        guard let buffer = req.body.data else { throw APIError(.badRequest, "a JSON body is required") }
        // Parsed where NIO received it, without a copy into an array.
        let parsed = buffer.withUnsafeReadableBytes { raw -> Result<JSONValue, JSONParser.SyntaxError> in
            do throws(JSONParser.SyntaxError) { return .success(try JSONParser.parse(raw.assumingMemoryBound(to: UInt8.self))) } catch { return .failure(error) }
        }
        switch parsed {
        case .success(let value): return value
        case .failure(let error): throw APIError(.badRequest, "the body is not valid JSON: \(error)")
        }
    }

    @Sendable func patientView(req: Request) async throws -> Response {
        let caller = try await authenticate(req, path: "/cds-services/\(CDSService.id)")
        let request: CDSRequest
        do { request = try CDSRequest.parse(try body(req)) } catch let invalid as CDSRequest.Invalid { throw APIError(.badRequest, invalid.message) }
        let today = req.today
        let actor = caller?.auditActor ?? AuditActor(username: "cds:unauthenticated", role: "cds-client", ip: nil)

        var decoded: DecodedCase?
        if !request.prefetch.isEmpty {
            let build = CaseFromFHIR.build(request.prefetch, asOf: today, today: today)
            switch build.decoded {
            case .success(let d): decoded = d
            case .failure(let rejection):
                req.logger.info("CDS Hooks: prefetch of \(request.patientID) did not form a case: \(rejection.errors.map(\.message).joined(separator: "; "))")
            }
            for issue in build.issues where issue.severity == .error || issue.severity == .warning {
                req.logger.debug("CDS Hooks prefetch: \(issue.diagnostics)")
            }
        }
        if decoded == nil, let uuid = UUID(uuidString: request.patientID),
           let (patient, sections) = try await RegistryCase.patientWithSections(uuid, on: req.db) {
            let json = try await RegistryCase.json(patient: patient, sections: sections, asOf: today, on: req.db)
            decoded = try RegistryCase.decode(json, today: today)
            // A registry read by a CDS client is audited like any other read of patient data.
            try await req.recordAudit([AuditEvent(action: "assess", resourceType: "patients", resourceID: uuid.lowercasedString,
                                                  patientID: uuid.lowercasedString,
                                                  detail: "CDS Hooks \(CDSService.hook) hookInstance \(request.hookInstance) user \(request.userID)")],
                                      actor: actor)
        }
        guard let decoded else {
            throw APIError(.preconditionFailed, "no prefetch data to assess and patient \(request.patientID) is not in the registry: "
                           + "send the prefetch listed at GET /cds-services")
        }
        let assessment = Assessor().assess(decoded)
        let page = UUID(uuidString: request.patientID).map { baseURL(req) + "/patients/" + $0.lowercasedString }
        var ids = CDSCardIDs()
        let cards = CDSCards.cards(from: assessment, patientPage: page, makeID: { ids.next() })
        issuedCards.withLockedValue { issued in
            if issued.count > Self.issuedCardsLimit { issued.removeAll(keepingCapacity: true) }
            for card in cards { issued[card.uuid] = request.patientID }
        }
        return Response.json(.object(JSONObject([("cards", .array(cards.map(\.json)))])))
    }

    /// One random card id (tests; a call draws its ids from one `CDSCardIDs`).
    static func randomCardID() -> String {
        var ids = CDSCardIDs()
        return ids.next()
    }

    @Sendable func feedback(req: Request) async throws -> Response {
        let caller = try await authenticate(req, path: "/cds-services/\(CDSService.id)/feedback")
        let items: [CDSFeedback]
        do { items = try CDSFeedback.parse(try body(req)) } catch let invalid as CDSRequest.Invalid { throw APIError(.badRequest, invalid.message) }
        let patients = issuedCards.withLockedValue { issued in items.map { issued[$0.card] } }
        let events = zip(items, patients).map { item, patient in
            AuditEvent(action: "cds-feedback", resourceType: "cds-cards", resourceID: item.card,
                       patientID: patient.flatMap { UUID(uuidString: $0) != nil ? $0.lowercased() : nil },
                       detail: "outcome \(item.outcome) at \(item.outcomeTimestamp)" + (item.overrideReason.map { "; override reason: \($0)" } ?? "")
                           + (item.acceptedSuggestions.isEmpty ? "" : "; accepted suggestions: " + item.acceptedSuggestions.joined(separator: ", "))
                           + (patient == nil ? "; card not issued by this server process" : ""))
        }
        let actor = caller?.auditActor ?? AuditActor(username: "cds:unauthenticated", role: "cds-client", ip: nil)
        try await AuditLog.record([(events, actor)], on: req.db)
        return Response.json(.object(JSONObject()))
    }
}
