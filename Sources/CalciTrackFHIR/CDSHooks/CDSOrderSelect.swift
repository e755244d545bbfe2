import CalciTrackCore

/// CalciTrack's CDS Hooks 2.0 `order-select` service (hook order-select 1.0): while a clinician
/// picks a medication, the interaction and hold rules of clinical-spec 8 run on the patient's
/// case with the draft orders added, and each alert the drafts bring (one the case without them
/// does not raise) is a warning card: ordering doxycycline for a patient on warfarin (DDI-02),
/// mycophenolate during a severe infection (HOLD-01). Everything else the assessment says is
/// patient-view's (`CDSService`), so an order adds no repeated cards.
///
/// The same check answers `order-sign` (hook order-sign 1.0, the one EHRs most often call, when
/// the orders are signed): a service of its own (CDS Hooks: one hook per service) that checks
/// every draft MedicationRequest, as there are no selections.
public enum CDSOrderSelect {
    public static let id = "calcinosis-medication-safety"
    public static let hook = "order-select"
    public static let signID = "calcinosis-medication-safety-sign"
    public static let signHook = "order-sign"
    public static let title = "CalciTrack medication safety for calcinosis cutis in SSc"
    public static let description = "Interactions and holds (clinical-spec 8) that the medication orders would bring, "
        + "checked against the patient's medications, infection and labs."

    /// The service id of a hook (order-select or order-sign).
    public static func service(ofHook hook: String) -> String { hook == signHook ? signID : id }

    /// The discovery entries (CDS Hooks 2.0 "Discovery"), with patient-view's prefetch templates.
    public static let discoveryEntries: [JSONValue] = [(hook, id, "the selected draft orders"), (signHook, signID, "every draft order being signed")].map { hook, id, which in
        .object(JSONObject([
            ("hook", .string(hook)), ("title", .string(title)), ("description", .string(description + " Checks \(which).")), ("id", .string(id)),
            ("prefetch", .object(JSONObject(CDSService.prefetch.map { ($0.key, .string($0.template)) }))),
            ("usageRequirements", .string("As calcinosis-assessment. Draft orders are MedicationRequests with a medicationCodeableConcept (RxNorm or the drug's name), or a medicationReference to a Medication contained in the order or sent in draftOrders.")),
        ]))
    }

    /// An order-select request: patient-view's fields plus the draft orders selected.
    public struct Request: Sendable {
        public var base: CDSRequest
        /// The selected draft MedicationRequests.
        public var drafts: [Draft]
        /// Selected draft orders that cannot be checked, with why (reported on an info card).
        public var unchecked: [String]
    }

    /// A draft order as the check reads it.
    public struct Draft: Sendable {
        /// "MedicationRequest/<id>"; nil when the order has no id (no suggestion can name it).
        public var order: String?
        /// The order as a MedicationStatement the Inbound mappers read (status active from today,
        /// the request's medication, subject and dosage).
        public var statement: JSONObject
    }

    /// A draft's medication in the case format, with the order it came from.
    public struct DraftMedication: Sendable {
        public var order: String?
        public var medication: JSONValue
    }

    /// `hook`: order-select (the selected drafts are checked) or order-sign (every draft).
    public static func parse(_ json: JSONValue, hook: String = hook, today: LocalDate) throws(CDSRequest.Invalid) -> Request {
        let base = try CDSRequest.parse(json, hook: hook)
        guard case .object(let context)? = json["context"] else { throw .init(message: "context is required") }
        guard case .object(let bundle)? = context["draftOrders"], bundle["resourceType"] == "Bundle" else {
            throw .init(message: "context.draftOrders is required (a Bundle of the orders being written)")
        }
        var selections: Set<String>?
        if hook == Self.hook {
            guard case .array(let selectionValues)? = context["selections"] else {
                throw .init(message: "context.selections is required (the ids of the selected draft orders, e.g. MedicationRequest/123)")
            }
            selections = Set(selectionValues.compactMap { ResourceReader.string($0) })
        }
        var drafts: [Draft] = [], unchecked: [String] = []
        let entries = ResourceReader.array(bundle["entry"])
        for entry in entries {
            guard case .object(let order)? = entry["resource"], let type = ResourceReader.string(order["resourceType"]) else { continue }
            let name = "\(type)/\(ResourceReader.string(order["id"]) ?? "?")"
            if let selections, !selections.contains(name) { continue }
            guard type == "MedicationRequest" else { unchecked.append("\(name): only MedicationRequest orders are checked"); continue }
            guard let medication = order["medicationCodeableConcept"] ?? referencedMedicationCode(order, in: entries) else {
                unchecked.append("\(name): its medication is neither a medicationCodeableConcept nor a Medication contained in the order "
                                 + "or sent in draftOrders (CalciTrack does not fetch it from fhirServer)")
                continue
            }
            var statement = JSONObject([("resourceType", "MedicationStatement"), ("id", .string("draft-" + (ResourceReader.string(order["id"]) ?? "order"))),
                                        ("status", "active"), ("medicationCodeableConcept", medication),
                                        ("subject", order["subject"] ?? .object(JSONObject([("reference", .string("Patient/\(base.patientID)"))]))),
                                        ("effectivePeriod", .object(JSONObject([("start", .string(today.description))])))])
            if let dosage = order["dosageInstruction"] { statement["dosage"] = dosage }
            drafts.append(Draft(order: ResourceReader.string(order["id"]).map { "MedicationRequest/" + $0 }, statement: statement))
        }
        return Request(base: base, drafts: drafts, unchecked: unchecked)
    }

    /// The code of the Medication an order's `medicationReference` names, when the request holds it:
    /// contained in the order (`#id`, FHIR R4 references.html#contained) or an entry of draftOrders
    /// (by `fullUrl` or `Medication/id`). Nil otherwise (the service does not fetch from fhirServer).
    static func referencedMedicationCode(_ order: JSONObject, in entries: [JSONValue]) -> JSONValue? {
        guard case .object(let reference)? = order["medicationReference"], let target = ResourceReader.string(reference["reference"]) else { return nil }
        func code(_ resource: JSONValue?) -> JSONValue? {
            guard case .object(let medication)? = resource, ResourceReader.string(medication["resourceType"]) == "Medication" else { return nil }
            return medication["code"]
        }
        if target.hasPrefix("#") {
            let id = String(target.dropFirst())
            return ResourceReader.array(order["contained"]).first { ResourceReader.string($0["id"]) == id }.flatMap(code)
        }
        for entry in entries {
            let resource = entry["resource"]
            let id = resource.flatMap { ResourceReader.string($0["id"]) }.map { "Medication/" + $0 }
            if ResourceReader.string(entry["fullUrl"]) == target || (id != nil && (target == id || target.hasSuffix("/" + id!))) {
                if let found = code(resource) { return found }
            }
        }
        return nil
    }

    /// The case-format medications of the drafts (as `CaseFromFHIR` reads MedicationStatements),
    /// and what could not be checked, with why: drafts the mappers could not read, and drugs the
    /// engine does not know (no interaction rule applies to them, so no card is not "no interaction").
    public static func caseMedications(_ drafts: [Draft]) -> (medications: [DraftMedication], unreadable: [String]) {
        var medications: [DraftMedication] = [], unreadable: [String] = []
        for draft in drafts {
            let result = InboundMapping.map(draft.statement)
            let records = result.records.filter { $0.kind == .medications }
            if result.isRejected || records.isEmpty {
                unreadable.append(result.issues.filter { $0.severity == .error }.map(\.diagnostics).joined(separator: "; "))
                continue
            }
            for record in records {
                if let drug = record.body["drug"].flatMap(ResourceReader.string), DrugCatalog.drug(named: drug) == nil {
                    unreadable.append("\(drug): not a drug CalciTrack's rules know, so no interaction or hold rule was checked for it")
                }
            }
            medications += records.map { DraftMedication(order: draft.order, medication: .object(CaseFromFHIR.caseMedication($0.body))) }
        }
        return (medications, unreadable)
    }

    /// The alerts the draft `medications` (from `caseMedications`) bring to the patient's case
    /// `root` (assessed without them: `without`). The drafts are added one at a time, and one the
    /// case format refuses with the patient's medications (a dose outside the plausible range,
    /// case-format.md "Validation") is left out and named with the reason, so that an order still
    /// being written does not stop the check of the others. `checked`: the drafts added.
    public static func alerts(root: JSONObject, without: Assessment, adding medications: [DraftMedication], today: LocalDate)
        -> (alerts: [Alert], refused: [String], checked: [DraftMedication]) {
        var accepted: [DraftMedication] = [], refused: [String] = []
        var withDrafts: DecodedCase?
        let current: [JSONValue] = if case .array(let list)? = root["medications"] { list } else { [] }
        for draft in medications {
            var drafted = root
            drafted["medications"] = .array(current + accepted.map(\.medication) + [draft.medication])
            do {
                withDrafts = try CaseDecoder.decode(.object(drafted), today: today)
                accepted.append(draft)
            } catch {
                let drug = draft.medication["drug"].flatMap(ResourceReader.string) ?? "an order"
                let reasons = error.errors.map { issue in issue.value.map { "\(issue.message) (given \(JSONWriter.write($0, pretty: false)))" } ?? issue.message }
                refused.append("\(drug): not checked, the order is not a valid medication: \(reasons.joined(separator: "; "))")
            }
        }
        guard let withDrafts else { return ([], refused, []) }
        return (broughtByDrafts(with: Assessor().assess(withDrafts), without: without), refused, accepted)
    }

    /// The alerts of `with` (the case with the drafts) that `without` does not raise: same rule, same drugs.
    public static func broughtByDrafts(with: Assessment, without: Assessment) -> [Alert] {
        func key(_ a: Alert) -> String { a.id + "|" + a.drugs.sorted().joined(separator: ",") }
        let before = Set(without.alerts.map(key))
        return with.alerts.filter { !before.contains(key($0)) }
    }

    /// The cards: one warning per alert the drafts bring, each offering to remove the draft orders
    /// of the alert's drugs (`checked`: the drafts the alerts were found with) and, for HOLD-02, to
    /// order the INR it asks for (`patientID`: the request's patient; `today`: the drafts' start),
    /// and an info card naming the draft orders that could not be checked (none is dropped silently).
    public static func cards(alerts: [Alert], checked: [DraftMedication], unchecked: [String], patientPage: String?,
                             patientID: String, today: LocalDate, makeID: () -> String) -> [CDSCard] {
        let links = patientPage.map { [(label: "Open in CalciTrack", url: $0)] } ?? []
        var cards = alerts.map { alert in
            var card = CDSCards.alertCard(alert, links: links, makeID: makeID)
            card.suggestions = removals(for: alert, checked: checked, makeID: makeID)
            if let order = inrOrder(for: alert, patientID: patientID, today: today, makeID: makeID) {
                card.suggestions.append(order)
            }
            return card
        }
        if !unchecked.isEmpty {
            cards.append(CDSCard(uuid: makeID(), summary: CDSCards.clip("CalciTrack could not check \(unchecked.count) selected order(s) for interactions"),
                                 detail: unchecked.map { "- \($0)" }.joined(separator: "\n"), indicator: .info, sourceLabel: "CalciTrack", sourceURL: nil,
                                 links: links, topic: "orders-unchecked"))
        }
        return cards
    }

    /// One suggestion per draft order whose drug the alert names: removing that order (CDS Hooks
    /// 2.0 delete action). Removing any one of them takes away what the alert is about, so a card
    /// offers them as alternatives. Orders without an id cannot be named and get none.
    static func removals(for alert: Alert, checked: [DraftMedication], makeID: () -> String) -> [CDSSuggestion] {
        var suggestions: [CDSSuggestion] = [], named: Set<String> = []
        for draft in checked {
            guard let order = draft.order, !named.contains(order),
                  let text = draft.medication["drug"].flatMap(ResourceReader.string),
                  let drug = DrugCatalog.drug(named: text), alert.drugs.contains(drug.name) else { continue }
            named.insert(order)
            suggestions.append(CDSSuggestion(uuid: makeID(), label: "Remove the draft order for \(drug.name)",
                                             actions: [.delete(order, description: "Remove \(order) (\(text)) from the orders being written (\(alert.id))")]))
        }
        return suggestions
    }

    /// HOLD-02 brought by a draft (warfarin with doxycycline, another tetracycline or TMP-SMX): the
    /// combination starts with the draft, today, so the INR is due 3 to `inrCheckWindowDays` days
    /// from today [clinical-spec 8, HOLD-02; EBM Consult]. Offered as a draft ServiceRequest
    /// (intent proposal, LOINC 6301-6) for the EHR to turn into its own INR order; the window is
    /// that of the thresholds `alerts` assessed with (the defaults).
    static func inrOrder(for alert: Alert, patientID: String, today: LocalDate, makeID: () -> String) -> CDSSuggestion? {
        guard alert.id == "HOLD-02", !alert.proposed, let inr = LabCodes.loinc(for: .inr, unit: "") else { return nil }
        let window = Int(Thresholds()[.inrCheckWindowDays])
        let from = today.adding(days: 3), to = today.adding(days: window)
        let request = JSONValue.object(JSONObject([
            ("resourceType", "ServiceRequest"), ("status", "draft"), ("intent", "proposal"),
            ("code", .object(JSONObject([("coding", .array([.object(JSONObject([("system", .string(CodeSystem.loinc)), ("code", .string(inr.loinc)),
                                                                                  ("display", .string(inr.display))]))])), ("text", "INR")]))),
            ("subject", .object(JSONObject([("reference", .string("Patient/\(patientID)"))]))),
            ("occurrencePeriod", .object(JSONObject([("start", .string(from.description)), ("end", .string(to.description))]))),
            ("reasonCode", .array([.object(JSONObject([("text", .string("\(alert.id): \(alert.message)"))]))])),
        ]))
        return CDSSuggestion(uuid: makeID(), label: "Order an INR for \(from) to \(to)",
                             actions: [.create(request, description: "Propose an INR (LOINC \(inr.loinc)) between \(from) and \(to) (\(alert.id))")])
    }
}
