@testable import CalciTrackFHIR
import CalciTrackCore
import XCTest

/// Resources as CalciTrack's own Outbound writes them (Sources/CalciTrackFHIR/Outbound: local
/// codes "visit-<kind>", "procedure-<kind>", "wound-healed"; lesion fields in the BodyStructure
/// description; holds as MedicationStatement notes; imaging findings as notes) come back as the
/// registry bodies they were built from, so an export can be imported again.
final class OutboundFormatInboundTests: XCTestCase {
    let local = "https://calcitrack.org/fhir/CodeSystem/calcitrack"
    let ext = "https://calcitrack.org/fhir/StructureDefinition/"

    func map(_ text: String) -> InboundResult { InboundMapping.map(parseObject(text)) }

    func testBodyStructureDescription() {
        let r = map("""
        {"resourceType": "BodyStructure", "id": "l1", "identifier": [{"system": "https://calcitrack.org/fhir/sid/lesion-label/p1", "value": "L1"}],
         "active": false, "morphology": {"text": "calcinosis, mousse"}, "location": {"text": "lower-leg"}, "locationQualifier": [{"text": "right"}],
         "description": "Calcinosis lesion L1; status healed; periarticular mass; findings present: purulent, pain; absent: abscess; note: near scar; see photo",
         "patient": {"reference": "Patient/p1"}}
        """)
        XCTAssertEqual(r.issues.filter { $0.severity != .information }, [], "\(r.issues)")
        XCTAssertEqual(r.records.first?.body, parseObject("""
        {"label": "L1", "site": "lower-leg", "laterality": "right", "morphology": "mousse", "note": "near scar; see photo",
         "periarticularMass": true, "findings": {"purulent": true, "pain": true, "abscess": false}, "status": "healed"}
        """))
    }

    func testMedicationStatementHoldNotes() {
        let r = map("""
        {"resourceType": "MedicationStatement", "status": "on-hold", "statusReason": [{"text": "sepsis"}],
         "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "7145", "display": "mycophenolate"}], "text": "mycophenolate"},
         "subject": {"reference": "Patient/p1"}, "effectivePeriod": {"start": "2020-01-01"}, "dateAsserted": "2020-01-02T10:00:00Z",
         "note": [{"text": "held from 2023-01-01 to 2023-01-10: surgery"}, {"text": "held from 2023-09-01 (no end date): sepsis"}],
         "dosage": [{"text": "500 mg bid oral", "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}, "code": {"text": "bid"}},
                     "route": {"text": "oral"}, "doseAndRate": [{"doseQuantity": {"value": 500, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}}]}]}
        """)
        XCTAssertFalse(r.isRejected, "\(r.issues)")
        XCTAssertEqual(r.records.map(\.kind), [.medications, .holds, .holds])
        XCTAssertEqual(r.records[0].body, parseObject(#"{"drug": "mycophenolate", "doseMg": 500, "frequency": "bid", "route": "oral", "start": "2020-01-01", "stop": null}"#))
        XCTAssertEqual(r.records[1].body, parseObject(#"{"start": "2023-01-01", "end": "2023-01-10", "reason": "surgery"}"#))
        XCTAssertEqual(r.records[2].body, parseObject(#"{"start": "2023-09-01", "end": null, "reason": "sepsis"}"#))
        XCTAssertEqual(r.records[2].parentRecord, 0)
        XCTAssertNil(MedicationInbound.hold(fromNote: "held from yesterday: x"))
    }

    func testEncounterProcedureImagingAndWound() {
        let visit = map("""
        {"resourceType": "Encounter", "status": "finished", "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
         "type": [{"coding": [{"system": "\(local)", "code": "visit-wound-care"}], "text": "wound-care"}], "subject": {"reference": "Patient/p1"},
         "period": {"start": "2026-11-01", "end": "2026-11-01"},
         "extension": [{"url": "\(ext)next-due", "valueDate": "2026-12-01"}, {"url": "\(ext)pain-vas", "valueDecimal": 4}, {"url": "\(ext)note", "valueString": "dressing changed"}]}
        """)
        XCTAssertEqual(visit.records.first?.body, parseObject(#"{"date": "2026-11-01", "kind": "wound-care", "nextDue": "2026-12-01", "painVas": 4, "note": "dressing changed"}"#))
        XCTAssertEqual(visit.issues, [])

        let procedure = map("""
        {"resourceType": "Procedure", "status": "completed", "code": {"coding": [{"system": "\(local)", "code": "procedure-co2-laser"}], "text": "CO2 laser"},
         "subject": {"reference": "Patient/p1"}, "performedDateTime": "2026-11-02",
         "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/procedure-targetBodyStructure", "valueReference": {"reference": "BodyStructure/l1"}}]}
        """)
        XCTAssertEqual(procedure.records.first?.body, parseObject(#"{"kind": "co2-laser", "date": "2026-11-02"}"#))
        XCTAssertEqual(procedure.records.first?.references[.lesion], "BodyStructure/l1")

        let imaging = map("""
        {"resourceType": "ImagingStudy", "status": "available", "modality": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "CR"}],
         "subject": {"reference": "Patient/p1"}, "started": "2026-11-03", "description": "radiograph of calcinosis (inconclusive)",
         "note": [{"text": "findings: soft-tissue calcification"}, {"text": "inconclusive"}, {"text": "scores: sctcTotal 12"}]}
        """)
        XCTAssertEqual(imaging.records.first?.body, parseObject("""
        {"date": "2026-11-03", "findings": "soft-tissue calcification", "inconclusive": true, "scores": {"sctcTotal": 12}, "modality": "radiograph"}
        """))
        XCTAssertEqual(imaging.issues, [])

        let wound = map("""
        {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "72287-6"}]},
         "subject": {"reference": "Patient/p1"}, "focus": [{"reference": "BodyStructure/l1"}], "effectiveDateTime": "2026-11-03",
         "component": [{"code": {"coding": [{"system": "\(local)", "code": "wound-healed"}]}, "valueBoolean": true},
                       {"code": {"coding": [{"system": "\(local)", "code": "pain-vas"}]}, "valueQuantity": {"value": 2, "system": "http://unitsofmeasure.org", "code": "{score}"}}]}
        """)
        XCTAssertEqual(wound.records.first?.body, parseObject(#"{"date": "2026-11-03", "healed": true, "painVas": 2}"#))
    }
}
