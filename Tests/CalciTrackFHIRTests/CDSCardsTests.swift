@testable import CalciTrackFHIR
import CalciTrackCore
import Foundation
import XCTest

/// Assessment → CDS Hooks cards (CDS Hooks 2.0 Card: summary < 140 characters, indicator, source).
final class CDSCardsTests: XCTestCase {
    func seed1Assessment() throws -> Assessment {
        let bundle = try CaseFromFHIRTests.load(CaseFromFHIRTests.fixtures.appendingPathComponent("seed-1-admission.fhir.json"))
        let asOf = LocalDate(iso: "2023-09-01")!
        return Assessor().assess(try CaseFromFHIR.build([bundle], asOf: asOf, today: asOf).decoded.get())
    }

    func testSeed1Cards() throws {
        var n = 0
        let cards = CDSCards.cards(from: try seed1Assessment(), patientPage: "https://ct.example/patients/x") { n += 1; return "card-\(n)" }
        let topics = cards.map(\.topic)
        // Severe infection (IDSA 2014) and the sepsis screen (SIRS 3/4 with infection, Bone 1992) are critical and first.
        XCTAssertEqual(Array(cards.prefix(2).map(\.indicator)), [.critical, .critical])
        XCTAssertEqual(Array(topics.prefix(2)), ["infection-severe", "sepsis-screen"])
        XCTAssertEqual(cards.first { $0.topic == "alert:HOLD-01" }?.indicator, .warning)
        XCTAssertEqual(Set(cards.map(\.uuid)).count, cards.count)
        for card in cards {
            XCTAssertLessThan(card.summary.count, 140, card.summary)
            XCTAssertEqual(card.links.first?.url, "https://ct.example/patients/x")
            XCTAssertFalse(card.sourceLabel.isEmpty)
        }
        // Indicators never go back up: critical, then warning, then info.
        let rank = cards.map { ["critical": 0, "warning": 1, "info": 2][$0.indicator.rawValue]! }
        XCTAssertEqual(rank, rank.sorted())
        // CDS Hooks 2.0 overrideReasons (Codings) on critical and warning cards, none on info cards.
        for card in cards {
            let reasons = card.json["overrideReasons"]
            if card.indicator == .info {
                XCTAssertNil(reasons, card.topic)
            } else {
                guard case .array(let codings)? = reasons else { return XCTFail("no overrideReasons on \(card.topic)") }
                XCTAssertEqual(codings.compactMap { $0["code"]?.stringValue }, CDSCard.overrideReasons.map(\.code))
                XCTAssertTrue(codings.allSatisfy { $0["system"]?.stringValue == CDSCard.overrideReasonSystem && $0["display"] != nil })
            }
        }
    }

    func testSummaryClipAndDOI() {
        let long = String(repeating: "word ", count: 60)
        let clipped = CDSCards.clip(long)
        XCTAssertLessThan(clipped.count, 140)
        XCTAssertTrue(clipped.hasSuffix("…"))
        XCTAssertEqual(CDSCards.clip("short"), "short")
        // Bartoli 2016's reference ends "doi:10.1093/rheumatology/kew193".
        XCTAssertEqual(CDSCards.source([Sources.bartoli2016]).1, "https://doi.org/10.1093/rheumatology/kew193")
        XCTAssertEqual(CDSCards.source(["no-such-source"]).0, "CalciTrack")
    }

    func testDiscoveryAndRequest() throws {
        XCTAssertEqual(CDSService.discovery["services"].map { if case .array(let a) = $0 { a.count } else { 0 } }, 3)
        let request = try CDSRequest.parse(.object(parseObject("""
        {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea", "context": {"userId": "Practitioner/1", "patientId": "p"},
         "prefetch": {"patient": {"resourceType": "Patient", "id": "p"}, "conditions": null}}
        """)))
        XCTAssertEqual(request.prefetch.count, 1)
        XCTAssertThrowsError(try CDSRequest.parse(.object(parseObject(#"{"hook": "order-sign", "hookInstance": "x", "context": {}}"#))))
        XCTAssertThrowsError(try CDSRequest.parse(.object(parseObject("""
        {"hook": "patient-view", "hookInstance": "x", "context": {"userId": "Practitioner/1", "patientId": "p"}, "prefetch": {"patient": {"resourceType": "Patient", "id": "other"}}}
        """))))
    }
}

/// order-select/order-sign suggestions (CDS Hooks 2.0 Suggestion and Action): each warning a
/// draft brings offers to remove that draft order, only that one, and only when it has an id.
final class CDSOrderSuggestionTests: XCTestCase {
    /// Seed 1 at admission (warfarin, mycophenolate, severe infection) with draft orders of
    /// doxycycline (the discharge prescription: DDI-02 with warfarin [clinical-spec 8; seed 1])
    /// and sildenafil (no rule fires for it), one of them without an id.
    func cards(drafts: [(id: String?, drug: String)]) throws -> [CDSCard] {
        let bundle = try CaseFromFHIRTests.load(CaseFromFHIRTests.fixtures.appendingPathComponent("seed-1-admission.fhir.json"))
        let asOf = LocalDate(iso: "2023-09-01")!
        let build = CaseFromFHIR.build([bundle], asOf: asOf, today: asOf)
        let without = Assessor().assess(try build.decoded.get())
        let orders = drafts.map { d in
            CDSOrderSelect.Draft(order: d.id.map { "MedicationRequest/" + $0 }, statement: JSONObject([
                ("resourceType", "MedicationStatement"), ("id", .string("draft-" + (d.id ?? "order"))), ("status", "active"),
                ("medicationCodeableConcept", .object(JSONObject([("text", .string(d.drug))]))),
                ("subject", .object(JSONObject([("reference", "Patient/seed-1")]))),
                ("effectivePeriod", .object(JSONObject([("start", "2023-09-01")]))),
            ]))
        }
        let (medications, unreadable) = CDSOrderSelect.caseMedications(orders)
        XCTAssertEqual(unreadable, [])
        let (alerts, refused, checked) = CDSOrderSelect.alerts(root: build.root, without: without, adding: medications, today: asOf)
        XCTAssertEqual(refused, [])
        var n = 0
        return CDSOrderSelect.cards(alerts: alerts, checked: checked, unchecked: [], patientPage: nil, patientID: "seed-1", today: asOf) { n += 1; return "id-\(n)" }
    }

    /// HOLD-02 [clinical-spec 8; EBM Consult]: warfarin with doxycycline needs an INR 3 to 5 days
    /// (`hold02.inrWindowDays`) after the combination began, which a draft begins today
    /// (2023-09-01 here): the card offers a draft INR ServiceRequest for 2023-09-04 to 2023-09-06,
    /// beside removing the doxycycline order, as alternatives.
    func testHold02OffersTheINROrder() throws {
        let cards = try cards(drafts: [("dx", "doxycycline")])
        let hold = try XCTUnwrap(cards.first { $0.topic == "alert:HOLD-02" }, "\(cards.map(\.topic))")
        XCTAssertEqual(hold.suggestions.flatMap { $0.actions.map(\.type) }, ["delete", "create"])
        let create = try XCTUnwrap(hold.suggestions.last?.actions.first)
        let request = try XCTUnwrap(create.resource)
        XCTAssertEqual(request["resourceType"], "ServiceRequest")
        XCTAssertEqual(request["status"], "draft")
        XCTAssertEqual(request["intent"], "proposal")
        guard case .array(let codings)? = request["code"]?["coding"] else { return XCTFail("no coding in \(request)") }
        XCTAssertEqual(codings.first?["system"], "http://loinc.org")
        XCTAssertEqual(codings.first?["code"], "6301-6")
        XCTAssertEqual(request["subject"]?["reference"], "Patient/seed-1")
        XCTAssertEqual(request["occurrencePeriod"]?["start"], "2023-09-04")
        XCTAssertEqual(request["occurrencePeriod"]?["end"], "2023-09-06")
        XCTAssertEqual(hold.json["selectionBehavior"], "at-most-one")
        // Other alerts offer no INR order.
        XCTAssertTrue(cards.filter { $0.topic != "alert:HOLD-02" }.allSatisfy { $0.suggestions.allSatisfy { $0.actions.allSatisfy { $0.type == "delete" } } })
    }

    func testDoxycyclineDraftOfferedForRemoval() throws {
        let cards = try cards(drafts: [("dx", "doxycycline"), ("sl", "sildenafil")])
        let ddi = try XCTUnwrap(cards.first { $0.topic == "alert:DDI-02" })
        // Only the doxycycline order: sildenafil is not a drug of the alert.
        XCTAssertEqual(ddi.suggestions.map { $0.actions.map(\.resourceID) }, [["MedicationRequest/dx"]])
        XCTAssertEqual(ddi.suggestions.first?.actions.first?.type, "delete")
        let json = ddi.json
        XCTAssertEqual(json["selectionBehavior"], "at-most-one")
        guard case .array(let suggestions)? = json["suggestions"], let first = suggestions.first else { return XCTFail("no suggestions in \(json)") }
        XCTAssertEqual(first["isRecommended"], false)
        XCTAssertNotNil(first["uuid"]?.stringValue)
        XCTAssertNotEqual(first["uuid"], json["uuid"])
        guard case .array(let actions)? = first["actions"] else { return XCTFail("no actions in \(first)") }
        XCTAssertEqual(actions.map { $0["resourceId"] }, ["MedicationRequest/dx"])
        XCTAssertTrue(first["label"]?.stringValue?.contains("doxycycline") == true)
    }

    func testOrderWithoutIDOffersNothing() throws {
        let cards = try cards(drafts: [(nil, "doxycycline")])
        let ddi = try XCTUnwrap(cards.first { $0.topic == "alert:DDI-02" })
        XCTAssertEqual(ddi.suggestions, [])
        // CDS Hooks 2.0 (cds-resp-6): selectionBehavior only with suggestions.
        XCTAssertNil(ddi.json["suggestions"])
        XCTAssertNil(ddi.json["selectionBehavior"])
    }
}
