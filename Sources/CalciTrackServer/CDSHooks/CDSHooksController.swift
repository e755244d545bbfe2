import CalciTrackCore
import CalciTrackFHIR
import Foundation
import NIOConcurrencyHelpers
import SQLKit
import Vapor

/// CDS Hooks 2.0 at `/cds-services` (docs/fhir.md; https://cds-hooks.hl7.org/2.0/):
///   GET  /cds-services                                   discovery (no patient data; no token needed)
///   POST /cds-services/calcinosis-assessment             patient-view → cards
///   POST /cds-services/calcinosis-assessment/feedback    card outcomes → audit log
///   POST /cds-services/calcinosis-medication-safety      order-select → the alerts the selected orders bring
///   POST /cds-services/calcinosis-medication-safety/feedback
///   POST /cds-services/calcinosis-medication-safety-sign (order-sign: every draft order), and /feedback
/// The case comes from a complete prefetch (mapped by CalciTrackFHIR's Inbound mappers), else from
/// the registry by patient id (FHIR Patient id = registry UUID), else 412. CORS: `CDSHooksCORS`.
struct CDSHooksController: Sendable {
    let authentication = CDSCallerAuthentication()
    /// Card uuid → patient id, so feedback is audited against its patient (bounded, newest kept).
    /// Sized for its bound at once: growing it rehashed every id on the way (≈ 1 % of a call).
    let issuedCards = NIOLockedValueBox<[String: String]>(Dictionary(minimumCapacity: CDSHooksController.issuedCardsLimit + 1))
    static let issuedCardsLimit = 100_000

    func register(_ app: Application) {
        let cds = app.grouped("cds-services")
        cds.get(use: discovery)
        cds.on(.POST, "\(CDSService.id)", body: .collect(maxSize: "8mb"), use: patientView)
        cds.on(.POST, "\(CDSService.id)", "feedback", body: .collect(maxSize: "1mb")) { req in try await feedback(req: req, service: CDSService.id) }
        for (service, hook) in [(CDSOrderSelect.id, CDSOrderSelect.hook), (CDSOrderSelect.signID, CDSOrderSelect.signHook)] {
            cds.on(.POST, "\(service)", body: .collect(maxSize: "8mb")) { req in try await orderCheck(req: req, hook: hook) }
            cds.on(.POST, "\(service)", "feedback", body: .collect(maxSize: "1mb")) { req in try await feedback(req: req, service: service) }
        }
        // `CDSHooksCORS` answers preflights (with Access-Control-Request-Method); a bare OPTIONS gets 204 here.
        let services = [CDSService.id, CDSOrderSelect.id, CDSOrderSelect.signID]
        for path: [PathComponent] in [[]] + services.flatMap({ [["\($0)"], ["\($0)", "feedback"]] as [[PathComponent]] }) {
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
        let source = try await caseSource(request, hook: CDSService.hook, caller: caller, req: req)
        let assessment = Assessor().assess(source.decoded)
        var ids = CDSCardIDs()
        let cards = CDSCards.cards(from: assessment, patientPage: patientPage(source, req), makeID: { ids.next() })
        return issue(cards, for: request)
    }

    /// `order-select` and `order-sign` (`CDSOrderSelect`): the patient's case with and without the
    /// selected (order-sign: all) draft orders; a card for each alert the drafts bring, and one
    /// naming the orders it could not check.
    func orderCheck(req: Request, hook: String) async throws -> Response {
        let caller = try await authenticate(req, path: "/cds-services/\(CDSOrderSelect.service(ofHook: hook))")
        let today = req.today
        let request: CDSOrderSelect.Request
        do { request = try CDSOrderSelect.parse(try body(req), hook: hook, today: today) } catch let invalid as CDSRequest.Invalid { throw APIError(.badRequest, invalid.message) }
        let source = try await caseSource(request.base, hook: hook, caller: caller, req: req)
        let (without, root) = (source.decoded, source.root)
        let (medications, unreadable) = CDSOrderSelect.caseMedications(request.drafts)
        let (alerts, refused, checked) = medications.isEmpty ? ([], [], [])
            : CDSOrderSelect.alerts(root: root, without: Assessor().assess(without), adding: medications, today: today)
        var ids = CDSCardIDs()
        let cards = CDSOrderSelect.cards(alerts: alerts, checked: checked, unchecked: request.unchecked + unreadable.map { "a selected order's medication: \($0)" } + refused,
                                         patientPage: patientPage(source, req), patientID: request.base.patientID, today: today,
                                         makeID: { ids.next() })
        return issue(cards, for: request.base)
    }

    /// The patient's case: from a complete prefetch, else from the registry (audited), else 412.
    /// A prefetch that omits a declared key (`CDSRequest.omittedPrefetchKeys`) is incomplete: the
    /// EHR did not fetch that data, so assessing the rest would silently drop what it would have
    /// raised (an interaction with an unsent medication, say). CDS Hooks 2.0 "Prefetch Template":
    /// a service that cannot obtain required data answers 412.
    private func caseSource(_ request: CDSRequest, hook: String, caller: CDSCaller?, req: Request) async throws -> CDSCaseSource {
        let today = req.today
        let omitted = request.omittedPrefetchKeys
        if omitted.isEmpty, !request.prefetch.isEmpty {
            let build = CaseFromFHIR.build(request.prefetch, asOf: today, today: today)
            for issue in build.issues where issue.severity == .error || issue.severity == .warning {
                req.logger.debug("CDS Hooks prefetch: \(issue.diagnostics)")
            }
            switch build.decoded {
            case .success(let d): return CDSCaseSource(decoded: d, root: build.root, registryPatient: try await registryPatient(request.patientID, req))
            case .failure(let rejection):
                req.logger.info("CDS Hooks: prefetch of \(request.patientID) did not form a case: \(rejection.errors.map(\.message).joined(separator: "; "))")
            }
        }
        let incomplete = omitted.isEmpty ? "" : "; prefetch omitted \(omitted.joined(separator: ", ")), so the registry record was assessed"
        if let uuid = UUID(uuidString: request.patientID), let (patient, sections) = try await RegistryCase.patientWithSections(uuid, on: req.db) {
            let json = try await RegistryCase.json(patient: patient, sections: sections, asOf: today, on: req.db)
            let decoded = try RegistryCase.decode(json, today: today)
            if !omitted.isEmpty { req.logger.info("CDS Hooks: prefetch of \(request.patientID) omitted \(omitted.joined(separator: ", ")): assessing the registry record") }
            // A registry read by a CDS client is audited like any other read of patient data.
            let actor = Self.actor(caller)
            try await req.recordAudit([AuditEvent(action: "assess", resourceType: "patients", resourceID: uuid.lowercasedString,
                                                  patientID: uuid.lowercasedString,
                                                  detail: "CDS Hooks \(hook) hookInstance \(request.hookInstance) user \(request.userID)" + incomplete)],
                                      actor: actor)
            return CDSCaseSource(decoded: decoded, root: json, registryPatient: uuid)
        }
        if !omitted.isEmpty {
            throw APIError(.preconditionFailed, "the prefetch omits \(omitted.joined(separator: ", ")) and patient \(request.patientID) is not in the registry: "
                           + "send every prefetch key listed at GET /cds-services, null for data the EHR does not have")
        }
        throw APIError(.preconditionFailed, "no prefetch data to assess and patient \(request.patientID) is not in the registry: "
                       + "send the prefetch listed at GET /cds-services")
    }

    /// The registry id of the patient a FHIR Patient id names, when the registry holds them (not
    /// deleted): card links go to the patient's page only then (any other id's page is a 404).
    private func registryPatient(_ patientID: String, _ req: Request) async throws -> UUID? {
        guard let uuid = UUID(uuidString: patientID) else { return nil }
        let found = try await (req.db as! any SQLDatabase).raw("SELECT 1 AS found FROM patients WHERE id = \(bind: uuid) AND deleted_at IS NULL").first()
        return found == nil ? nil : uuid
    }

    /// Who the audit log names: the authenticated CDS client, or (CALCITRACK_CDS_AUTH=off) none.
    static func actor(_ caller: CDSCaller?) -> AuditActor {
        caller?.auditActor ?? AuditActor(username: "cds:unauthenticated", role: "cds-client", ip: nil)
    }

    /// The registry page of the patient, only for a patient the registry holds.
    private func patientPage(_ source: CDSCaseSource, _ req: Request) -> String? {
        source.registryPatient.map { baseURL(req) + "/patients/" + $0.lowercasedString }
    }

    /// The cards as the response, each remembered with its patient for the feedback's audit entry.
    private func issue(_ cards: [CDSCard], for request: CDSRequest) -> Response {
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

    @Sendable func feedback(req: Request, service: String) async throws -> Response {
        let caller = try await authenticate(req, path: "/cds-services/\(service)/feedback")
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
        let actor = Self.actor(caller)
        try await AuditLog.record([(events, actor)], on: req.db)
        return Response.json(.object(JSONObject()))
    }
}
