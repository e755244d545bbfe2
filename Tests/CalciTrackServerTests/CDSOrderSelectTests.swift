@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import Testing
import VaporTesting

/// CDS Hooks `order-select` (`CDSOrderSelect`): the alerts of clinical-spec 8 that the selected
/// draft orders bring, as cards, and nothing the patient's case raises without them.
@Suite(.serialized) struct CDSOrderSelectTests {
    static let path = "/cds-services/calcinosis-medication-safety"

    /// An order-select request for `patient` with draft MedicationRequests (id, drug text, RxNorm) and the selected ids.
    static func request(patient: String, drafts: [(id: String, drug: String, rxnorm: String?)], selected: [String]? = nil, extraEntry: String? = nil) -> String {
        let entries = drafts.map { d in
            let coding = d.rxnorm.map { #""coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "\#($0)", "display": "\#(d.drug)"}], "# } ?? ""
            return #"{"resource": {"resourceType": "MedicationRequest", "id": "\#(d.id)", "status": "draft", "intent": "order", "#
                + #""medicationCodeableConcept": {\#(coding)"text": "\#(d.drug)"}, "subject": {"reference": "Patient/\#(patient)"}}}"#
        } + (extraEntry.map { [$0] } ?? [])
        let selections = (selected ?? drafts.map { "MedicationRequest/\($0.id)" }).map { "\"\($0)\"" }.joined(separator: ", ")
        return """
            {"hook": "order-select", "hookInstance": "\(UUID().uuidString)", "fhirServer": "https://ehr.example.org/fhir",
             "context": {"userId": "Practitioner/p1", "patientId": "\(patient)", "selections": [\(selections)],
                         "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [\(entries.joined(separator: ", "))]}}}
            """
    }

    /// A patient of site A taking warfarin 2.5 mg daily (seed 1's anticoagulation).
    static func patientOnWarfarin(_ r: TestRegistry) async throws -> String {
        let patient = try await r.createPatient()
        let reply = try await r.send(.POST, "/api/v1/patients/\(patient)/medications", as: "clinA",
                                     json: #"{"drug": "warfarin", "doseMg": 2.5, "frequency": "daily", "route": "oral", "start": "2020-01-01"}"#)
        #expect(reply.status == .created, "\(reply.text)")
        return patient
    }

    @Test("Doxycycline ordered for a patient on warfarin: the warfarin interactions it brings (DDI-02 [clinical-spec 8; seed 1 discharge]), no patient-view cards again")
    func warfarinAndDoxycycline() async throws {
        try await CDSHooksTests.withCDS { r, client in
            let patient = try await Self.patientOnWarfarin(r)
            let token = try await client.token(aud: CDSHooksTests.base + Self.path)
            let reply = try await CDSHooksTests.call(r, Self.path, token: token, json: Self.request(patient: patient, drafts: [("d1", "doxycycline", "3640")]))
            #expect(reply.status == .ok, "\(reply.text)")
            let topics = CDSHooksTests.topics(reply)
            #expect(topics.contains("alert:DDI-02"), "\(reply.text)")
            #expect(CDSHooksTests.cards(reply).allSatisfy { $0["indicator"] == "warning" && ($0["summary"]?.stringValue?.count ?? 999) < 140 })
            #expect(!topics.contains { $0.hasPrefix("therapy") || $0.hasPrefix("follow-up") || $0.hasPrefix("imaging") }, "\(topics)")
            // The card offers to remove the draft (CDS Hooks 2.0 delete action), never recommended;
            // accepting it comes back as feedback naming the suggestion, which the audit log keeps.
            let ddi = CDSHooksTests.cards(reply).first { $0["source"]?["topic"]?["code"] == "alert:DDI-02" }
            let suggestions = CDSHooksTests.array(ddi?["suggestions"])
            #expect(ddi?["selectionBehavior"] == "at-most-one" && suggestions.count == 1, "\(reply.text)")
            let action = CDSHooksTests.array(suggestions.first?["actions"]).first
            #expect(action?["type"] == "delete" && action?["resourceId"] == "MedicationRequest/d1", "\(reply.text)")
            #expect(suggestions.first?["isRecommended"] == false && suggestions.first?["label"]?.stringValue?.contains("doxycycline") == true)
            let card = ddi?["uuid"]?.stringValue ?? "", suggestion = suggestions.first?["uuid"]?.stringValue ?? ""
            let feedbackPath = Self.path + "/feedback"
            let fb = try await CDSHooksTests.call(r, feedbackPath, token: try await client.token(aud: CDSHooksTests.base + feedbackPath),
                                                  json: #"{"feedback": [{"card": "\#(card)", "outcome": "accepted", "acceptedSuggestions": [{"id": "\#(suggestion)"}], "outcomeTimestamp": "2026-11-24T10:00:00Z"}]}"#)
            #expect(fb.status == .ok, "\(fb.text)")
            let accepted = try await AuditEntry.query(on: r.app.db).filter(\.$action == "cds-feedback").filter(\.$resourceID == card).first()
            #expect(accepted?.patientID == patient && accepted?.detail.contains("accepted suggestions: \(suggestion)") == true, "\(String(describing: accepted?.detail))")
            // The same patient and a drug that brings no alert: no cards. An unselected draft is not checked.
            let quiet = try await CDSHooksTests.call(r, Self.path, token: try await client.token(aud: CDSHooksTests.base + Self.path),
                                                     json: Self.request(patient: patient, drafts: [("d2", "sildenafil", "136411"), ("d3", "doxycycline", "3640")],
                                                                        selected: ["MedicationRequest/d2"]))
            #expect(quiet.status == .ok && CDSHooksTests.topics(quiet).isEmpty, "\(quiet.text)")
            // A drug the rules do not know is named, so its silence is not read as "no interaction".
            let unknown = try await CDSHooksTests.call(r, Self.path, token: try await client.token(aud: CDSHooksTests.base + Self.path),
                                                       json: Self.request(patient: patient, drafts: [("d4", "zzzomab 10 mg", nil)]))
            let note = CDSHooksTests.cards(unknown).first { $0["source"]?["topic"]?["code"] == "orders-unchecked" }
            #expect(note?["indicator"] == "info" && note?["detail"]?.stringValue?.contains("not a drug CalciTrack's rules know") == true, "\(unknown.text)")
            // From a prefetch: seed 1 at admission (warfarin, mycophenolate, severe infection), the
            // discharge prescription of oral doxycycline [seed 1; seed-1-discharge.expected.json: DDI-02].
            let seed = Self.request(patient: "seed-1-admission", drafts: [("dc", "doxycycline", "3640")])
                .replacingOccurrences(of: #""context":"#, with: #""prefetch": \#(try CDSHooksTests.seed1Prefetch()), "context":"#)
            let fromPrefetch = try await CDSHooksTests.call(r, Self.path, token: try await client.token(aud: CDSHooksTests.base + Self.path), json: seed)
            #expect(fromPrefetch.status == .ok && CDSHooksTests.topics(fromPrefetch).contains("alert:DDI-02"), "\(fromPrefetch.text)")
            #expect(!CDSHooksTests.topics(fromPrefetch).contains("alert:HOLD-01"), "HOLD-01 (mycophenolate) is the case's own, patient-view's card")
            // The registry read is audited as order-select's.
            let audit = try await AuditEntry.query(on: r.app.db).filter(\.$action == "assess").all()
            #expect(audit.contains { $0.patientID == patient && $0.detail.contains("order-select") })
        }
    }

    @Test("Mycophenolate ordered during a severe infection brings HOLD-01 [clinical-spec 8, HOLD-01]; an order it cannot read is named on an info card")
    func holdAndUnreadable() async throws {
        try await CDSHooksTests.withCDS { r, client in
            let patient = try await r.createPatient()
            _ = try await r.send(.POST, "/api/v1/patients/\(patient)/lesions", as: "clinA",
                                 json: #"{"label": "thigh", "site": "thigh", "laterality": "right", "findings": {"purulent": true, "erythema": true}}"#)
            _ = try await r.send(.POST, "/api/v1/patients/\(patient)/vitals", as: "clinA", json: #"{"date": "2026-11-20", "temperatureC": 38.6, "heartRate": 104}"#)
            let byReference = #"{"resource": {"resourceType": "MedicationRequest", "id": "ref", "status": "draft", "intent": "order", "medicationReference": {"reference": "Medication/m1"}, "subject": {"reference": "Patient/\#(patient)"}}}"#
            let reply = try await CDSHooksTests.call(r, Self.path, token: try await client.token(aud: CDSHooksTests.base + Self.path),
                                                     json: Self.request(patient: patient, drafts: [("m", "mycophenolate", nil)],
                                                                        selected: ["MedicationRequest/m", "MedicationRequest/ref"], extraEntry: byReference))
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(CDSHooksTests.topics(reply).contains("alert:HOLD-01"), "\(reply.text)")
            // Removing the mycophenolate order is offered; the order it could not read is not.
            let hold = CDSHooksTests.cards(reply).first { $0["source"]?["topic"]?["code"] == "alert:HOLD-01" }
            let removes = CDSHooksTests.array(hold?["suggestions"]).flatMap { CDSHooksTests.array($0["actions"]) }.compactMap { $0["resourceId"]?.stringValue }
            #expect(removes == ["MedicationRequest/m"], "\(reply.text)")
            let unchecked = CDSHooksTests.cards(reply).first { $0["source"]?["topic"]?["code"] == "orders-unchecked" }
            #expect(unchecked?["indicator"] == "info" && unchecked?["detail"]?.stringValue?.contains("MedicationRequest/ref") == true, "\(reply.text)")
            #expect(unchecked?["suggestions"] == nil && unchecked?["selectionBehavior"] == nil, "an info card offers no action")
            // The severe infection itself is patient-view's card, not repeated here.
            #expect(!CDSHooksTests.topics(reply).contains("infection-severe"))
        }
    }

    /// An order still being written (its dose outside case-format's plausible range, 0–200,000 mg
    /// [PlausibleRanges.doseMg]) used to make the whole call a 400; it is left out and named, and
    /// the other selected order is still checked (DDI-02 [clinical-spec 8]).
    @Test("A draft the case format refuses (dose 500 g) is named on the info card; the other draft still brings DDI-02")
    func refusedDraftLeftOut() async throws {
        try await CDSHooksTests.withCDS { r, client in
            let patient = try await Self.patientOnWarfarin(r)
            let outOfRange = #"{"resource": {"resourceType": "MedicationRequest", "id": "big", "status": "draft", "intent": "order", "#
                + #""medicationCodeableConcept": {"text": "mycophenolate"}, "subject": {"reference": "Patient/\#(patient)"}, "#
                + #""dosageInstruction": [{"doseAndRate": [{"doseQuantity": {"value": 500, "unit": "g", "system": "http://unitsofmeasure.org", "code": "g"}}]}]}}"#
            let reply = try await CDSHooksTests.call(r, Self.path, token: try await client.token(aud: CDSHooksTests.base + Self.path),
                                                     json: Self.request(patient: patient, drafts: [("d1", "doxycycline", "3640")],
                                                                        selected: ["MedicationRequest/d1", "MedicationRequest/big"], extraEntry: outOfRange))
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(CDSHooksTests.topics(reply).contains("alert:DDI-02"), "\(reply.text)")
            let unchecked = CDSHooksTests.cards(reply).first { $0["source"]?["topic"]?["code"] == "orders-unchecked" }
            let detail = unchecked?["detail"]?.stringValue ?? ""
            #expect(unchecked?["indicator"] == "info" && detail.contains("mycophenolate: not checked") && detail.contains("500000"), "\(reply.text)")
            // Only the checked draft is offered for removal, not the refused one.
            let ddi = CDSHooksTests.cards(reply).first { $0["source"]?["topic"]?["code"] == "alert:DDI-02" }
            let removes = CDSHooksTests.array(ddi?["suggestions"]).flatMap { CDSHooksTests.array($0["actions"]) }.compactMap { $0["resourceId"]?.stringValue }
            #expect(removes == ["MedicationRequest/d1"], "\(reply.text)")
            // The refused draft brings no alert of its own (no mycophenolate card).
            #expect(!CDSHooksTests.cards(reply).contains { ($0["detail"]?.stringValue ?? "").contains("mycophenolate") && $0["indicator"] == "warning" })
        }
    }

    /// EHRs often send the drug as a Medication resource: contained in the order (`#id`, FHIR R4
    /// references.html#contained) or beside it in draftOrders. Both are read without a fetch;
    /// warfarin + doxycycline → DDI-02 [clinical-spec 8].
    @Test("A medicationReference to a contained Medication, or to one in draftOrders, is checked (DDI-02)")
    func medicationReferenceResolved() async throws {
        try await CDSHooksTests.withCDS { r, client in
            let patient = try await Self.patientOnWarfarin(r)
            let doxy = #"{"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "3640", "display": "doxycycline"}], "text": "doxycycline"}"#
            let contained = #"{"resource": {"resourceType": "MedicationRequest", "id": "c1", "status": "draft", "intent": "order", "#
                + ##""contained": [{"resourceType": "Medication", "id": "med", "code": \##(doxy)}], "medicationReference": {"reference": "#med"}, "##
                + #""subject": {"reference": "Patient/\#(patient)"}}}"#
            let first = try await CDSHooksTests.call(r, Self.path, token: try await client.token(aud: CDSHooksTests.base + Self.path),
                                                     json: Self.request(patient: patient, drafts: [], selected: ["MedicationRequest/c1"], extraEntry: contained))
            #expect(first.status == .ok && CDSHooksTests.topics(first).contains("alert:DDI-02") && !CDSHooksTests.topics(first).contains("orders-unchecked"), "\(first.text)")
            let inBundle = #"{"resource": {"resourceType": "MedicationRequest", "id": "b1", "status": "draft", "intent": "order", "#
                + #""medicationReference": {"reference": "Medication/m9"}, "subject": {"reference": "Patient/\#(patient)"}}}, "#
                + #"{"fullUrl": "urn:uuid:0a1b", "resource": {"resourceType": "Medication", "id": "m9", "code": \#(doxy)}}"#
            let second = try await CDSHooksTests.call(r, Self.path, token: try await client.token(aud: CDSHooksTests.base + Self.path),
                                                      json: Self.request(patient: patient, drafts: [], selected: ["MedicationRequest/b1"], extraEntry: inBundle))
            #expect(second.status == .ok && CDSHooksTests.topics(second).contains("alert:DDI-02") && !CDSHooksTests.topics(second).contains("orders-unchecked"), "\(second.text)")
        }
    }

    @Test("Discovery lists both services; a call needs a token for this service's URL, the order-select hook and its context")
    func discoveryAndRequests() async throws {
        try await CDSHooksTests.withCDS { r, client in
            let services = CDSHooksTests.array(try await r.send(.GET, "/cds-services", as: nil).json["services"])
            #expect(services.map { $0["id"]?.stringValue ?? "" } == ["calcinosis-assessment", "calcinosis-medication-safety", "calcinosis-medication-safety-sign"])
            #expect(services.map { $0["hook"]?.stringValue ?? "" } == ["patient-view", "order-select", "order-sign"])
            #expect(services.allSatisfy { $0["prefetch"]?["medications"] != nil })
            let patient = try await r.createPatient()
            let body = Self.request(patient: patient, drafts: [("d1", "doxycycline", "3640")])
            // A token for patient-view's URL is not one for this service.
            #expect(try await CDSHooksTests.call(r, Self.path, token: try await client.token(), json: body).status == .unauthorized)
            let token = { try await client.token(aud: CDSHooksTests.base + Self.path) }
            let wrongHook = try await CDSHooksTests.call(r, Self.path, token: try await token(), json: CDSHooksTests.hookRequest(patient: patient))
            #expect(wrongHook.status == .badRequest && wrongHook.text.contains("order-select"), "\(wrongHook.text)")
            let noDrafts = body.replacingOccurrences(of: "\"draftOrders\"", with: "\"other\"")
            #expect(try await CDSHooksTests.call(r, Self.path, token: try await token(), json: noDrafts).status == .badRequest)
            let unknown = try await CDSHooksTests.call(r, Self.path, token: try await token(), json: Self.request(patient: UUID().uuidString, drafts: [("d1", "doxycycline", "3640")]))
            #expect(unknown.status == .preconditionFailed, "\(unknown.text)")
            // Feedback on this service's cards is audited as patient-view's is.
            let fb = try await CDSHooksTests.call(r, Self.path + "/feedback", token: try await client.token(aud: CDSHooksTests.base + Self.path + "/feedback"),
                                                  json: #"{"feedback": [{"card": "\#(UUID().uuidString)", "outcome": "overridden", "outcomeTimestamp": "2026-11-24T10:00:00Z"}]}"#)
            #expect(fb.status == .ok, "\(fb.text)")
        }
    }

    /// order-sign (hook order-sign 1.0): the same check at signing, of every draft order (the hook has no selections).
    @Test("order-sign checks every draft MedicationRequest: doxycycline on warfarin gives DDI-02 without selections")
    func orderSign() async throws {
        try await CDSHooksTests.withCDS { r, client in
            let patient = try await Self.patientOnWarfarin(r)
            let path = "/cds-services/calcinosis-medication-safety-sign"
            let body = Self.request(patient: patient, drafts: [("s1", "sildenafil", "136411"), ("s2", "doxycycline", "3640")])
                .replacingOccurrences(of: #""hook": "order-select""#, with: #""hook": "order-sign""#)
                .replacingOccurrences(of: #""selections": ["MedicationRequest/s1", "MedicationRequest/s2"],"#, with: "")
            #expect(!body.contains("selections"))
            let reply = try await CDSHooksTests.call(r, path, token: try await client.token(aud: CDSHooksTests.base + path), json: body)
            #expect(reply.status == .ok && CDSHooksTests.topics(reply).contains("alert:DDI-02"), "\(reply.text)")
            // order-select still needs its selections; each service answers its own hook only.
            let select = try await CDSHooksTests.call(r, Self.path, token: try await client.token(aud: CDSHooksTests.base + Self.path),
                                                      json: body.replacingOccurrences(of: #""hook": "order-sign""#, with: #""hook": "order-select""#))
            #expect(select.status == .badRequest && select.text.contains("selections"), "\(select.text)")
            let wrong = try await CDSHooksTests.call(r, path, token: try await client.token(aud: CDSHooksTests.base + path),
                                                     json: Self.request(patient: patient, drafts: [("s2", "doxycycline", "3640")]))
            #expect(wrong.status == .badRequest && wrong.text.contains("order-sign"), "\(wrong.text)")
        }
    }
}
