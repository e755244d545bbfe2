import CalciTrackCore

/// CalciTrack's CDS Hooks 2.0 service (https://cds-hooks.hl7.org/2.0/): one `patient-view`
/// service that assesses the patient's calcinosis from prefetched FHIR data (or the registry).
public enum CDSService {
    public static let id = "calcinosis-assessment"
    public static let hook = "patient-view"
    public static let title = "CalciTrack calcinosis assessment"
    public static let description = "Infection triage (IDSA 2014, SIRS, qSOFA), medication interactions and holds, therapy options, "
        + "imaging and follow-up for calcinosis cutis in systemic sclerosis."

    /// Prefetch templates (CDS Hooks 2.0 "Prefetch Template"). Observations are limited to the
    /// LOINC codes CalciTrack reads (clinical-spec 12.4), so an EHR does not send every result.
    public static let prefetch: [(key: String, template: String)] = {
        let codes = (InboundCodes.labTestByLOINC.keys.sorted() + InboundCodes.vitalLOINC.keys.sorted()
                     + [InboundCodes.bloodPressurePanel, InboundCodes.woundPanel]).map { "http://loinc.org|\($0)" }.joined(separator: ",")
        return [
            ("patient", "Patient/{{context.patientId}}"),
            ("conditions", "Condition?patient={{context.patientId}}"),
            ("observations", "Observation?patient={{context.patientId}}&code=\(codes)"),
            ("medications", "MedicationStatement?patient={{context.patientId}}"),
            ("lesions", "BodyStructure?patient={{context.patientId}}"),
            ("encounters", "Encounter?patient={{context.patientId}}"),
        ]
    }()

    /// `GET /cds-services` (CDS Hooks 2.0 "Discovery"): the same for every call, so built once;
    /// this service and the order-select one (`CDSOrderSelect`).
    public static let discovery: JSONValue = {
        .object(JSONObject([("services", .array([.object(JSONObject([
            ("hook", .string(hook)), ("title", .string(title)), ("description", .string(description)), ("id", .string(id)),
            ("prefetch", .object(JSONObject(prefetch.map { ($0.key, .string($0.template)) }))),
            ("usageRequirements", .string("Calls must carry a CDS Hooks JWT (ES384 or RS384) from an issuer CalciTrack trusts. "
                + "The FHIR Patient id is the CalciTrack patient id when the patient is in the registry.")),
        ]))] + CDSOrderSelect.discoveryEntries))]))
    }()
}

/// A `patient-view` request (CDS Hooks 2.0 "HTTP Request"; patient-view hook 1.0 context).
public struct CDSRequest: Sendable {
    public var hookInstance: String
    public var patientID: String
    public var userID: String
    public var encounterID: String?
    /// Prefetched resources (null entries, which mean "not available", are left out).
    public var prefetch: [JSONObject]
    /// The prefetch keys the request sent, null ones included; nil when it sent no prefetch.
    public var prefetchKeys: Set<String>?

    /// The declared prefetch keys (`CDSService.prefetch`, the same for every service) that a sent
    /// prefetch leaves out. CDS Hooks 2.0 "Prefetch Template": null says the EHR has no such data,
    /// an omitted key that it did not or could not fetch it, so such a prefetch is not the whole
    /// record and must not be assessed as if it were. Empty when no prefetch was sent.
    public var omittedPrefetchKeys: [String] {
        guard let sent = prefetchKeys else { return [] }
        return CDSService.prefetch.map(\.key).filter { !sent.contains($0) }
    }

    public struct Invalid: Error, Sendable, Equatable {
        public let message: String
    }

    /// `expected`: the hook of the service called (patient-view, or order-select for `CDSOrderSelect`).
    public static func parse(_ json: JSONValue, hook expected: String = CDSService.hook) throws(Invalid) -> CDSRequest {
        guard case .object(let root) = json else { throw Invalid(message: "the request must be a JSON object") }
        guard case .string(let hook)? = root["hook"] else { throw Invalid(message: "hook is required") }
        guard hook == expected else {
            let service = expected == CDSService.hook ? CDSService.id : CDSOrderSelect.service(ofHook: expected)
            throw Invalid(message: "hook \"\(hook)\" is not served here: \(service) answers \(expected)")
        }
        guard case .string(let instance)? = root["hookInstance"], !instance.isEmpty else { throw Invalid(message: "hookInstance is required (a UUID)") }
        guard case .object(let context)? = root["context"] else { throw Invalid(message: "context is required") }
        guard case .string(let patientID)? = context["patientId"], !patientID.isEmpty else { throw Invalid(message: "context.patientId is required") }
        guard case .string(let userID)? = context["userId"], !userID.isEmpty else { throw Invalid(message: "context.userId is required (\(expected))") }
        if root["fhirAuthorization"] != nil && root["fhirAuthorization"] != .null && root["fhirServer"] == nil {
            throw Invalid(message: "fhirAuthorization needs fhirServer (cds-r-1)")
        }
        var resources: [JSONObject] = []
        var keys: Set<String>?
        if let prefetch = root["prefetch"], prefetch != .null {
            guard case .object(let items) = prefetch else { throw Invalid(message: "prefetch must be an object of prefetch keys") }
            keys = Set(items.entries.map(\.key))
            for (key, value) in items.entries {
                switch value {
                case .null: continue
                case .object(let resource):
                    guard resource["resourceType"] != nil else { throw Invalid(message: "prefetch.\(key) is not a FHIR resource (no resourceType)") }
                    if resource["resourceType"] == "Patient", let id = ResourceReader.string(resource["id"]), id != patientID {
                        throw Invalid(message: "prefetch.\(key) is Patient/\(id), not the context's patient \(patientID)")
                    }
                    resources.append(resource)
                default: throw Invalid(message: "prefetch.\(key) must be a FHIR resource or null")
                }
            }
        }
        var encounter: String?
        if case .string(let e)? = context["encounterId"] { encounter = e }
        return CDSRequest(hookInstance: instance, patientID: patientID, userID: userID, encounterID: encounter, prefetch: resources, prefetchKeys: keys)
    }
}

/// One feedback item (CDS Hooks 2.0 "Feedback").
public struct CDSFeedback: Sendable, Equatable {
    public var card: String
    public var outcome: String
    public var overrideReason: String?
    public var acceptedSuggestions: [String]
    public var outcomeTimestamp: String

    public static func parse(_ json: JSONValue) throws(CDSRequest.Invalid) -> [CDSFeedback] {
        guard case .array(let items)? = json["feedback"] else { throw .init(message: "feedback is required (an array)") }
        var out: [CDSFeedback] = []
        for (i, item) in items.enumerated() {
            guard case .string(let card)? = item["card"] else { throw .init(message: "feedback[\(i)].card is required (the card's uuid)") }
            try refuseControlCharacters(card, at: "feedback[\(i)].card")
            guard case .string(let outcome)? = item["outcome"], outcome == "accepted" || outcome == "overridden" else {
                throw .init(message: "feedback[\(i)].outcome must be accepted or overridden")
            }
            guard case .string(let time)? = item["outcomeTimestamp"], case .day = ResourceReader.date(time) else {
                throw .init(message: "feedback[\(i)].outcomeTimestamp is required (an ISO 8601 instant)")
            }
            let accepted = ResourceReader.array(item["acceptedSuggestions"]).compactMap { ResourceReader.string($0["id"]) }
            for (j, id) in accepted.enumerated() { try refuseControlCharacters(id, at: "feedback[\(i)].acceptedSuggestions[\(j)].id") }
            // The reason's code only: a free-text userComment may name the patient, and is not kept.
            var reason: String?
            if let r = item["overrideReason"], r != .null {
                reason = try offeredReasonCode(r["reason"], at: "feedback[\(i)].overrideReason.reason") ?? "unspecified"
                if r["userComment"] != nil { reason! += " (with a comment, not recorded)" }
            }
            out.append(CDSFeedback(card: card, outcome: outcome, overrideReason: reason, acceptedSuggestions: accepted, outcomeTimestamp: time))
        }
        return out
    }

    /// The code of an override reason, which must be one the cards offer (CDS Hooks 2.0 "Feedback":
    /// the reason is one of the card's `overrideReasons`), so the audit entry only ever holds one of
    /// `CDSCard.overrideReasons`; nil when no reason was chosen (a comment alone).
    static func offeredReasonCode(_ reason: JSONValue?, at path: String) throws(CDSRequest.Invalid) -> String? {
        guard let reason, reason != .null else { return nil }
        let offered = CDSCard.overrideReasons.map(\.code)
        guard case .string(let code)? = reason["code"] else {
            throw .init(message: "\(path).code is required: one of the card's overrideReasons (\(offered.joined(separator: ", ")))")
        }
        if let system = reason["system"], system != .string(CDSCard.overrideReasonSystem) {
            throw .init(message: "\(path).system must be \(CDSCard.overrideReasonSystem), the system of the card's overrideReasons")
        }
        guard offered.contains(code) else {
            let shown = JSONWriter.write(.string(String(code.prefix(100))), pretty: false)
            throw .init(message: "\(path).code \(shown) is not one of the card's overrideReasons (\(offered.joined(separator: ", ")))")
        }
        return code
    }

    /// Identifiers go into the audit log: a line break or other control character there could make
    /// one entry read as two wherever the log is shown as text. Issued ids are UUIDs, so none has one.
    static func refuseControlCharacters(_ text: String, at path: String) throws(CDSRequest.Invalid) {
        if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}" }) {
            throw .init(message: "\(path) must not contain control characters or line breaks")
        }
    }
}
