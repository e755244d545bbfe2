@testable import CalciTrackFHIR
import CalciTrackCore
import XCTest

func parseObject(_ text: String) -> JSONObject {
    guard case .object(let o)? = try? JSONParser.parse(Array(text.utf8)) else { fatalError("bad test JSON: \(text)") }
    return o
}

/// FHIR R4 → registry bodies. Each code is cited with its clinical-spec section (section 12).
final class InboundMappingTests: XCTestCase {
    static let patientRef = "Patient/p1"

    func parse(_ text: String) -> JSONObject { parseObject(text) }

    func map(_ text: String) -> InboundResult { InboundMapping.map(parse(text)) }

    func observation(_ code: String, _ value: String, system: String = "http://loinc.org", date: String = "2023-09-01", extra: String = "") -> InboundResult {
        map("""
        {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "\(system)", "code": "\(code)"}]},
         "subject": {"reference": "\(Self.patientRef)"}, "effectiveDateTime": "\(date)", \(value) \(extra)}
        """)
    }

    func quantity(_ v: Double, _ unit: String) -> String {
        "\"valueQuantity\": {\"value\": \(v), \"system\": \"http://unitsofmeasure.org\", \"code\": \"\(unit)\"}"
    }

    func errors(_ r: InboundResult) -> [OperationOutcome.Issue] { r.issues.filter { $0.severity == .error } }
    func warnings(_ r: InboundResult) -> [OperationOutcome.Issue] { r.issues.filter { $0.severity == .warning } }

    // MARK: Patient

    func testPatientWithCalciTrackMRN() {
        let r = map("""
        {"resourceType": "Patient", "id": "x", "identifier": [{"system": "https://calcitrack.org/fhir/sid/mrn/A", "value": "MRN-1"},
          {"system": "urn:oid:1.2.3", "value": "other"}],
         "name": [{"use": "official", "family": "Doe", "given": ["Jane", "Q"]}], "gender": "female", "birthDate": "1994-03-01",
         "telecom": [{"system": "phone", "value": "555"}]}
        """)
        XCTAssertFalse(r.isRejected)
        XCTAssertEqual(r.records.count, 1)
        let body = r.records[0].body
        XCTAssertEqual(r.records[0].kind, .patient)
        XCTAssertEqual(body["mrn"], "MRN-1")
        XCTAssertEqual(body["siteCode"], "A")
        XCTAssertEqual(body["familyName"], "Doe")
        XCTAssertEqual(body["givenName"], "Jane Q")
        XCTAssertEqual(body["sex"], "female")
        XCTAssertEqual(body["birthDate"], "1994-03-01")
        // Nothing dropped silently: the second identifier and telecom are warned about by path.
        XCTAssertEqual(Set(warnings(r).flatMap(\.expression)), ["Patient.identifier[1]", "Patient.telecom"])
    }

    func testPatientBadGenderAndDateRejected() {
        let r = map(#"{"resourceType": "Patient", "gender": "f", "birthDate": "1994-02-30"}"#)
        XCTAssertTrue(r.isRejected)
        XCTAssertTrue(r.records.isEmpty)
        XCTAssertEqual(Set(errors(r).flatMap(\.expression)), ["Patient.gender", "Patient.birthDate"])
    }

    func testUnknownModifierExtensionRejects() {
        let r = map(#"{"resourceType": "Patient", "gender": "male", "modifierExtension": [{"url": "http://example.org/x", "valueBoolean": true}]}"#)
        XCTAssertTrue(r.isRejected)
        XCTAssertEqual(errors(r).first?.code, .notSupported)
    }

    func testUnsupportedResourceType() {
        let r = map(#"{"resourceType": "Practitioner", "id": "d"}"#)
        XCTAssertTrue(r.isRejected)
        XCTAssertEqual(errors(r).first?.code, .notSupported)
        XCTAssertEqual(errors(r).first?.expression, ["Practitioner"])
    }

    // MARK: Condition

    func condition(_ system: String, _ code: String, extra: String = "") -> InboundResult {
        map("""
        {"resourceType": "Condition", "code": {"coding": [{"system": "\(system)", "code": "\(code)"}]},
         "subject": {"reference": "\(Self.patientRef)"} \(extra)}
        """)
    }

    func testSScSubtypes() {
        // 12.1 SNOMED 128459005 limited, 128460000 diffuse, 89155008 SSc; 12.2 ICD-10-CM M34.1 limited, M34.0 diffuse; 12.3 ICD-11 4A42.1 diffuse.
        let cases: [(String, String, String?)] = [
            ("http://snomed.info/sct", "128459005", "limited"), ("http://snomed.info/sct", "128460000", "diffuse"),
            ("http://snomed.info/sct", "89155008", nil), ("http://hl7.org/fhir/sid/icd-10-cm", "M34.1", "limited"),
            ("http://hl7.org/fhir/sid/icd-10-cm", "M34.0", "diffuse"), ("http://id.who.int/icd/release/11/mms", "4A42.1", "diffuse"),
        ]
        for (system, code, subtype) in cases {
            let r = condition(system, code, extra: #", "onsetDateTime": "2009""#)
            XCTAssertFalse(r.isRejected, code)
            XCTAssertEqual(r.records.first?.kind, .patientUpdate, code)
            XCTAssertEqual(r.records.first?.references[.patient], Self.patientRef)
            guard case .object(let ssc)? = r.records.first?.body["ssc"] else { XCTFail(code); continue }
            XCTAssertEqual(ssc["subtype"], subtype.map { .string($0) }, code)
            XCTAssertEqual(ssc["diagnosisDate"], "2009", code)
        }
    }

    func testRefutedConditionRejected() {
        let r = condition("http://snomed.info/sct", "89155008", extra: """
        , "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "refuted"}]}
        """)
        XCTAssertTrue(r.isRejected)
        XCTAssertEqual(errors(r).first?.expression, ["Condition.verificationStatus"])
    }

    func testCellulitisBecomesInfectionEpisode() {
        // 12.1 SNOMED 128045006 Cellulitis; 12.2 B95.62 MRSA.
        let r = condition("http://snomed.info/sct", "128045006", extra: """
        , "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
          "onsetDateTime": "2023-09-01T10:00:00Z",
          "evidence": [{"detail": [{"reference": "BodyStructure/L1"}]},
                       {"code": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "B95.62"}]}]}],
          "note": [{"text": "culture source: wound-swab"}, {"text": "antibiotic: vancomycin intravenous from 2023-09-01 to 2023-09-06"}]
        """)
        XCTAssertFalse(r.isRejected, "\(r.issues)")
        let record = r.records[0]
        XCTAssertEqual(record.kind, .infectionEpisodes)
        XCTAssertEqual(record.references[.lesion], "BodyStructure/L1")
        XCTAssertEqual(record.body["onset"], "2023-09-01")
        XCTAssertEqual(record.body["outcome"], "ongoing")
        XCTAssertEqual(record.body["mrsa"], true)
        XCTAssertEqual(record.body["cultureSource"], "wound-swab")
        XCTAssertEqual(record.body["antibiotic"], "vancomycin")
        XCTAssertEqual(record.body["antibioticRoute"], "intravenous")
        XCTAssertEqual(record.body["antibioticStop"], "2023-09-06")
    }

    func testSepticArthritisKindIsWarnedAbout() {
        // 12.2 ICD-10-CM M00.261 other streptococcal arthritis, right knee.
        let r = condition("http://hl7.org/fhir/sid/icd-10-cm", "M00.261", extra: #", "onsetDateTime": "2023-09-01""#)
        XCTAssertEqual(r.records.first?.kind, .infectionEpisodes)
        XCTAssertEqual(r.records.first?.body["outcome"], "unknown")
        XCTAssertTrue(warnings(r).contains { $0.expression == ["Condition.code"] })
    }

    func testCalcinosisConditionCreatesNothingButSaysSo() {
        // 12.2 ICD-10-CM L94.2 Calcinosis cutis.
        let r = condition("http://hl7.org/fhir/sid/icd-10-cm", "L94.2")
        XCTAssertFalse(r.isRejected)
        XCTAssertTrue(r.records.isEmpty)
        XCTAssertEqual(warnings(r).count, 1)
    }

    func testOtherConditionRejected() {
        let r = condition("http://hl7.org/fhir/sid/icd-10-cm", "N18.31")
        XCTAssertTrue(r.isRejected)
        XCTAssertEqual(errors(r).first?.code, .notSupported)
        XCTAssertEqual(errors(r).first?.expression, ["Condition.code"])
    }

    func testDialysisAndFeatures() {
        // 12.2 Z99.2 dependence on renal dialysis; 12.1 SNOMED 266261006 Raynaud phenomenon.
        let dialysis = condition("http://hl7.org/fhir/sid/icd-10-cm", "Z99.2")
        XCTAssertEqual(dialysis.records.first?.body, parse(#"{"history": {"dialysis": true}}"#))
        let raynaud = condition("http://snomed.info/sct", "266261006")
        XCTAssertEqual(raynaud.records.first?.body, parse(#"{"ssc": {"features": ["raynaud"]}}"#))
    }

    // MARK: Observation: labs (12.4 LOINC, 12.6 UCUM)

    func testLabsByLOINC() {
        let cases: [(String, Double, String, String)] = [
            ("17861-6", 9.1, "mg/dL", "calcium"), ("2000-8", 2.3, "mmol/L", "calcium"), ("2777-1", 4.0, "mg/dL", "phosphate"),
            ("14879-1", 1.2, "mmol/L", "phosphate"), ("2160-0", 1.28, "mg/dL", "creatinine"), ("14682-9", 90, "umol/L", "creatinine"),
            ("98979-8", 47, "mL/min/{1.73_m2}", "egfr"), ("6690-2", 9.1, "10*3/uL", "wbc"), ("764-1", 12, "%", "bands"),
            ("1988-5", 30, "mg/L", "crp"), ("1751-7", 3.4, "g/dL", "albumin"), ("2731-8", 40, "pg/mL", "pth"), ("6301-6", 2.1, "1", "inr"),
            ("2019-8", 40, "mm[Hg]", "paco2"), ("29265-6", 2.4, "mmol/L", "calciumCorrected"), ("1995-0", 1.2, "mmol/L", "calciumIonized"),
        ]
        for (loinc, value, unit, test) in cases {
            let r = observation(loinc, quantity(value, unit))
            XCTAssertFalse(r.isRejected, "\(loinc): \(r.issues)")
            XCTAssertEqual(r.records.first?.kind, .labs)
            XCTAssertEqual(r.records.first?.body, JSONObject([("test", .string(test)), ("value", .number(value)), ("unit", .string(unit)), ("date", "2023-09-01")]), loinc)
        }
    }

    func testConvertibleUnitIsConvertedAndSaid() {
        let r = observation("2160-0", quantity(12.8, "mg/L"))
        XCTAssertEqual(r.records.first?.body["value"], 1.28)
        XCTAssertEqual(r.records.first?.body["unit"], "mg/dL")
        XCTAssertTrue(r.issues.contains { $0.severity == .information })
    }

    func testUnstoredLOINCAndUnitRejected() {
        let sodium = observation("2951-2", quantity(140, "mmol/L"))
        XCTAssertTrue(sodium.isRejected)
        XCTAssertEqual(errors(sodium).first?.expression, ["Observation.code"])
        let badUnit = observation("17861-6", quantity(4.5, "meq/L"))
        XCTAssertTrue(badUnit.isRejected)
        XCTAssertEqual(errors(badUnit).first?.expression, ["Observation.valueQuantity.code"])
        let comparator = observation("1988-5", #""valueQuantity": {"value": 5, "comparator": "<", "code": "mg/L", "system": "http://unitsofmeasure.org"}"#)
        XCTAssertTrue(comparator.isRejected)
    }

    func testBadDatesRejected() {
        for date in ["2023-13-01", "2023-09-01T10:00:00", "yesterday", "2023-09"] {
            let r = observation("17861-6", quantity(9, "mg/dL"), date: date)
            XCTAssertTrue(r.isRejected, date)
            XCTAssertEqual(errors(r).first?.expression, ["Observation.effectiveDateTime"], date)
        }
        let ok = observation("17861-6", quantity(9, "mg/dL"), date: "2023-09-01T23:30:00.123-05:00")
        XCTAssertEqual(ok.records.first?.body["date"], "2023-09-01")
    }

    func testDroppedElementsAreWarnings() {
        let r = observation("17861-6", quantity(9, "mg/dL"), extra: #", "performer": [{"reference": "Practitioner/1"}], "referenceRange": [{"text": "8.5-10.5"}]"#)
        XCTAssertFalse(r.isRejected)
        XCTAssertEqual(Set(warnings(r).flatMap(\.expression)), ["Observation.performer", "Observation.referenceRange"])
    }

    // MARK: Observation: vital signs (12.4)

    func testVitalSigns() {
        // 8310-5 temperature (Cel, [degF]), 8867-4 heart rate, 9279-1 respiratory rate (/min).
        XCTAssertEqual(observation("8310-5", quantity(38.6, "Cel")).records.first?.body["temperatureC"], 38.6)
        XCTAssertEqual(observation("8310-5", quantity(101.3, "[degF]")).records.first?.body["temperatureC"], 38.5)
        XCTAssertEqual(observation("8867-4", quantity(104, "/min")).records.first?.body["heartRate"], 104)
        XCTAssertEqual(observation("9279-1", quantity(22, "/min")).records.first?.body["respiratoryRate"], 22)
        XCTAssertTrue(observation("8867-4", quantity(104, "Hz")).isRejected)
    }

    func testBloodPressurePanelKeepsSystolic() {
        // 85354-9 panel, 8480-6 systolic stored, 8462-4 diastolic not stored (warning).
        let r = observation("85354-9", """
        "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, \(quantity(118, "mm[Hg]"))},
                      {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, \(quantity(76, "mm[Hg]"))}]
        """)
        XCTAssertFalse(r.isRejected)
        XCTAssertEqual(r.records.first?.kind, .vitals)
        XCTAssertEqual(r.records.first?.body, parse(#"{"date": "2023-09-01", "systolicBP": 118}"#))
        XCTAssertEqual(warnings(r).first?.expression, ["Observation.component[1]"])
    }

    func testWeightUpdatesThePatient() {
        // 29463-7 body weight; [lb_av] converted to kg (12.6 kg).
        let r = observation("29463-7", quantity(150, "[lb_av]"))
        XCTAssertEqual(r.records.first?.kind, .patientUpdate)
        XCTAssertEqual(r.records.first?.body["weightKg"], 68.039)
        XCTAssertEqual(r.records.first?.date, "2023-09-01")
    }

    func testMergeVitalsOfOneDay() {
        let records = [observation("8310-5", quantity(38.6, "Cel")), observation("8867-4", quantity(104, "/min")),
                       observation("8867-4", quantity(90, "/min")), observation("8867-4", quantity(80, "/min"), date: "2023-09-02")].flatMap(\.records)
        let merged = InboundMapping.mergeVitals(records)
        XCTAssertEqual(merged.map(\.body), [parse(#"{"date": "2023-09-01", "temperatureC": 38.6, "heartRate": 104}"#),
                                            parse(#"{"date": "2023-09-01", "heartRate": 90}"#),
                                            parse(#"{"date": "2023-09-02", "heartRate": 80}"#)])
    }

    // MARK: Observation: wound size (12.4 72287-6 panel)

    func testWoundSizePanel() {
        let component = { (code: String, v: Double, u: String) in
            #"{"code": {"coding": [{"system": "http://loinc.org", "code": "\#(code)"}]}, \#(self.quantity(v, u))}"#
        }
        let r = observation("72287-6", """
        "focus": [{"reference": "BodyStructure/L1"}],
        "component": [\(component("39126-8", 40, "mm")), \(component("39125-0", 3, "cm")), \(component("39127-6", 0.5, "cm")), \(component("89260-4", 9.4, "cm2"))]
        """)
        XCTAssertFalse(r.isRejected, "\(r.issues)")
        XCTAssertEqual(r.records.first?.kind, .measurements)
        XCTAssertEqual(r.records.first?.references[.lesion], "BodyStructure/L1")
        XCTAssertEqual(r.records.first?.body, parse(#"{"date": "2023-09-01", "lengthCm": 4, "widthCm": 3, "depthCm": 0.5, "areaCm2": 9.4}"#))
        let noFocus = observation("72287-6", #""component": [\#(component("39126-8", 4, "cm"))]"#)
        XCTAssertTrue(noFocus.isRejected)
        XCTAssertEqual(errors(noFocus).first?.expression, ["Observation.focus"])
    }

    // MARK: BodyStructure

    func testBodyStructureBecomesLesion() {
        let r = map("""
        {"resourceType": "BodyStructure", "identifier": [{"value": "L1"}], "description": "under the scar",
         "location": {"text": "Right lower leg"}, "morphology": {"coding": [{"system": "https://calcitrack.org/fhir/CodeSystem/calcitrack", "code": "mousse"}]},
         "patient": {"reference": "\(Self.patientRef)"},
         "extension": [{"url": "https://calcitrack.org/fhir/StructureDefinition/lesion-findings",
                        "extension": [{"url": "purulent", "valueBoolean": true}]}]}
        """)
        XCTAssertFalse(r.isRejected, "\(r.issues)")
        XCTAssertEqual(r.records.first?.kind, .lesions)
        XCTAssertEqual(r.records.first?.body, parse("""
        {"label": "L1", "note": "under the scar", "site": "lower-leg", "laterality": "right", "morphology": "mousse", "findings": {"purulent": true}}
        """))
        // 7771000 Left (FHIR bodystructure-relative-location).
        let left = map(#"{"resourceType": "BodyStructure", "identifier": [{"value": "L2"}], "location": {"text": "Hand"}, "locationQualifier": [{"coding": [{"system": "http://snomed.info/sct", "code": "7771000"}]}], "patient": {"reference": "Patient/p1"}}"#)
        XCTAssertEqual(left.records.first?.body["laterality"], "left")
        XCTAssertEqual(left.records.first?.body["site"], "hand")
    }

    // MARK: Medications (12.5 RxNorm)

    func testMedicationStatementByRxNorm() {
        // 11289 warfarin (12.5, V).
        let r = map("""
        {"resourceType": "MedicationStatement", "status": "active", "subject": {"reference": "\(Self.patientRef)"},
         "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "11289"}]},
         "effectivePeriod": {"start": "2020-01-01"},
         "dosage": [{"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                     "route": {"coding": [{"system": "http://snomed.info/sct", "code": "26643006"}]},
                     "doseAndRate": [{"doseQuantity": {"value": 2.5, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}}]}]}
        """)
        XCTAssertFalse(r.isRejected, "\(r.issues)")
        XCTAssertEqual(r.records.first?.body, parse(#"{"drug": "warfarin", "doseMg": 2.5, "frequency": "daily", "route": "oral", "start": "2020-01-01", "stop": null}"#))
    }

    func testDrugTextFallback() {
        XCTAssertEqual(MedicationInbound.knownDrug(in: "sulfamethoxazole 800 MG / trimethoprim 160 MG Oral Tablet"), "sulfamethoxazole-trimethoprim")
        XCTAssertEqual(MedicationInbound.knownDrug(in: "Mycophenolate Mofetil 500 MG Oral Tablet"), "mycophenolate")
        XCTAssertEqual(MedicationInbound.knownDrug(in: "trimethoprim 100 MG Oral Tablet"), "trimethoprim")
        XCTAssertNil(MedicationInbound.knownDrug(in: "acetaminophen 325 MG Oral Tablet"))
        XCTAssertEqual(MedicationInbound.leadingName("Acetaminophen 325 MG Oral Tablet [Tylenol]"), "acetaminophen")
        let r = map("""
        {"resourceType": "MedicationRequest", "status": "active", "intent": "order", "subject": {"reference": "\(Self.patientRef)"},
         "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "198440", "display": "acetaminophen 500 MG Oral Tablet"}]},
         "authoredOn": "2026-01-01"}
        """)
        XCTAssertEqual(r.records.first?.body["drug"], "acetaminophen")
        XCTAssertEqual(r.records.first?.body["start"], "2026-01-01")
        XCTAssertTrue(r.issues.contains { $0.severity == .information })
    }

    /// An RxNorm code CalciTrack does not know (here a product code) is not kept when the text
    /// names a known drug: a warning says so (it was replaced by the ingredient code silently).
    func testUnknownRxNormCodeReplacedByTheTextsDrugIsWarned() {
        let r = map("""
        {"resourceType": "MedicationStatement", "status": "active", "subject": {"reference": "\(Self.patientRef)"},
         "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1811"}], "text": "diltiazem"},
         "effectivePeriod": {"start": "2020-01-01"}}
        """)
        XCTAssertFalse(r.isRejected, "\(r.issues)")
        XCTAssertEqual(r.records.first?.body["drug"], "diltiazem")
        XCTAssertTrue(warnings(r).contains { $0.diagnostics.contains("RxNorm 1811") }, "\(r.issues)")
    }

    func testStoppedWithoutStopDateRejected() {
        let r = map("""
        {"resourceType": "MedicationStatement", "status": "stopped", "subject": {"reference": "\(Self.patientRef)"},
         "medicationCodeableConcept": {"text": "warfarin"}, "effectivePeriod": {"start": "2020-01-01"}}
        """)
        XCTAssertTrue(r.isRejected)
        XCTAssertEqual(errors(r).first?.expression, ["MedicationStatement.effectivePeriod.end"])
    }

    func testOnHoldGivesAHold() {
        let r = map("""
        {"resourceType": "MedicationStatement", "status": "on-hold", "subject": {"reference": "\(Self.patientRef)"},
         "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "7145"}]},
         "effectivePeriod": {"start": "2020-01-01"}, "dateAsserted": "2023-09-01", "statusReason": [{"text": "sepsis (HOLD-01)"}]}
        """)
        XCTAssertEqual(r.records.map(\.kind), [.medications, .holds])
        XCTAssertEqual(r.records[1].parentRecord, 0)
        XCTAssertEqual(r.records[1].body, parse(#"{"start": "2023-09-01", "end": null, "reason": "sepsis (HOLD-01)"}"#))
    }

    // MARK: Procedure, Encounter, imaging

    func testProcedureKinds() {
        let known = map(#"{"resourceType": "Procedure", "status": "completed", "code": {"text": "Incision and drainage"}, "subject": {"reference": "Patient/p1"}, "performedDateTime": "2023-09-02"}"#)
        XCTAssertEqual(known.records.first?.body, parse(#"{"kind": "incision-and-drainage", "date": "2023-09-02"}"#))
        let other = map(#"{"resourceType": "Procedure", "status": "completed", "code": {"text": "Colonoscopy"}, "subject": {"reference": "Patient/p1"}, "performedDateTime": "2023-09-02"}"#)
        XCTAssertEqual(other.records.first?.body, parse(#"{"kind": "other", "date": "2023-09-02", "note": "Colonoscopy"}"#))
        let notDone = map(#"{"resourceType": "Procedure", "status": "not-done", "code": {"text": "burr"}, "subject": {"reference": "Patient/p1"}, "performedDateTime": "2023-09-02"}"#)
        XCTAssertTrue(notDone.isRejected)
    }

    func testEncounterBecomesVisit() {
        let r = map("""
        {"resourceType": "Encounter", "status": "finished", "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
         "subject": {"reference": "\(Self.patientRef)"}, "period": {"start": "2026-01-01T09:00:00Z", "end": "2026-01-01T09:30:00Z"},
         "extension": [{"url": "https://calcitrack.org/fhir/StructureDefinition/next-due", "valueDate": "2026-02-01"}]}
        """)
        XCTAssertEqual(r.records.first?.body, parse(#"{"date": "2026-01-01", "kind": "clinic", "nextDue": "2026-02-01"}"#))
        XCTAssertTrue(map(#"{"resourceType": "Encounter", "status": "planned", "class": {"code": "AMB"}, "subject": {"reference": "Patient/p1"}, "period": {"start": "2026-01-01"}}"#).isRejected)
    }

    func testImaging() {
        // DICOM US → ultrasound.
        let study = map(#"{"resourceType": "ImagingStudy", "status": "available", "subject": {"reference": "Patient/p1"}, "started": "2023-09-01T10:00:00Z", "modality": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "US"}]}"#)
        XCTAssertEqual(study.records.first?.body, parse(#"{"date": "2023-09-01", "modality": "ultrasound"}"#))
        let report = map("""
        {"resourceType": "DiagnosticReport", "status": "final", "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2023-09-01",
         "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}], "code": {"text": "XR Hand 2 views"},
         "conclusion": "Soft-tissue calcification"}
        """)
        XCTAssertEqual(report.records.first?.body, parse(#"{"date": "2023-09-01", "findings": "Soft-tissue calcification", "modality": "radiograph"}"#))
        let lab = map(#"{"resourceType": "DiagnosticReport", "status": "final", "subject": {"reference": "Patient/p1"}, "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}]}], "code": {"text": "CMP"}}"#)
        XCTAssertTrue(lab.isRejected)
        XCTAssertEqual(errors(lab).first?.code, .notSupported)
    }

    func testRecordWithoutSubjectRejected() {
        let r = map(#"{"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "17861-6"}]}, "effectiveDateTime": "2023-09-01", "valueQuantity": {"value": 9, "code": "mg/dL"}}"#)
        XCTAssertTrue(r.isRejected)
        XCTAssertEqual(errors(r).first?.expression, ["Observation.subject"])
    }

    func testMergePatientUpdate() {
        let stored = parse(#"{"sex": "female", "ssc": {"subtype": "limited", "features": ["raynaud"]}, "history": {"dialysis": false}}"#)
        let merged = InboundMapping.mergePatientUpdate(parse(#"{"ssc": {"features": ["raynaud", "osteoporosis"]}, "history": {"dialysis": true}, "weightKg": 58}"#), into: stored)
        XCTAssertEqual(merged, parse(#"{"sex": "female", "ssc": {"subtype": "limited", "features": ["raynaud", "osteoporosis"]}, "history": {"dialysis": true}, "weightKg": 58}"#))
    }
}
