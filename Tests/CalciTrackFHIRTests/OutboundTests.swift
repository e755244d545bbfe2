import CalciTrackCore
@testable import CalciTrackFHIR
import XCTest

/// Registry API JSON → FHIR: codes per clinical-spec 12, ids per docs/fhir.md, nothing invented.
final class OutboundTests: XCTestCase {
    let pid = "0b6f1f0e-2c1d-4c7e-9a59-0d1f2b3c4d5e"
    let rid = "1c6f1f0e-2c1d-4c7e-9a59-0d1f2b3c4d5f"
    let asOf = LocalDate(iso: "2024-06-01")!

    func parse(_ text: String) -> JSONValue { try! JSONParser.parse(text) }

    func codes(_ concept: JSONValue?) -> [String] {
        (concept?["coding"]?.arrayValue ?? []).compactMap { c in c["code"]?.stringValue.map { "\(c["system"]?.stringValue ?? "")|\($0)" } }
    }

    var patient: JSONValue {
        parse("""
        {"id":"\(pid)","siteId":"x","siteCode":"UCL","mrn":"MRN-7","familyName":"Doe","givenName":"Jane","sex":"female",
         "birthDate":"1970-02-01","weightKg":58.5,"ssc":{"subtype":"limited","diagnosisDate":"2009","features":["raynaud","dysphagia"],
         "antibodies":{"centromere":"positive","scl70":"unknown"}},"version":3,"createdAt":"2024-01-01T10:00:00Z","updatedAt":"2024-02-01T10:00:00Z",
         "createdBy":"a","updatedBy":"b"}
        """)
    }

    func testPatientIdentityAndMRN() {
        let p = PatientOutbound.resource(patient)
        XCTAssertEqual(p["id"], .string(pid))
        XCTAssertEqual(p["gender"], "female")
        XCTAssertEqual(p["birthDate"], "1970-02-01")
        XCTAssertEqual(p["meta"]?["versionId"], "3")
        XCTAssertEqual(p["meta"]?["lastUpdated"], "2024-02-01T10:00:00Z")
        XCTAssertEqual(p["identifier"]?.arrayValue?.first?["system"], "https://calcitrack.org/fhir/sid/mrn/UCL")
        XCTAssertEqual(p["identifier"]?.arrayValue?.first?["value"], "MRN-7")
        XCTAssertEqual(p["name"]?.arrayValue?.first?["family"], "Doe")
    }

    func testPatientBecomesSScConditionAndWeight() {
        let all = OutboundMapper.resources(kind: .patients, record: patient, context: OutboundContext(asOf: asOf))
        XCTAssertEqual(all.compactMap { $0["resourceType"]?.stringValue }, ["Patient", "Condition", "Observation"])
        let ssc = all[1]
        XCTAssertEqual(ssc["id"], .string("ssc-\(pid)"))
        // 12.1: 89155008 (V) first; limited 128459005; 12.2: M34.1 for limited / CREST.
        XCTAssertEqual(codes(ssc["code"]), ["http://snomed.info/sct|89155008", "http://snomed.info/sct|128459005", "http://hl7.org/fhir/sid/icd-10-cm|M34.1"])
        XCTAssertEqual(ssc["onsetDateTime"], "2009")
        let evidence = ssc["evidence"]?.arrayValue ?? []
        XCTAssertEqual(codes(evidence.first?["code"]?.arrayValue?.first), ["http://snomed.info/sct|266261006"])
        XCTAssertEqual(evidence.count, 3, "raynaud, dysphagia (text) and the positive antibody; unknown antibodies are left out")
        let weight = all[2]
        XCTAssertEqual(codes(weight["code"]), ["http://loinc.org|29463-7"])
        XCTAssertEqual(weight["valueQuantity"]?["code"], "kg")
        XCTAssertEqual(weight["valueQuantity"]?["value"], 58.5)
    }

    func testDiffuseAndNoSSc() {
        XCTAssertEqual(codes(FHIR.concept(ConditionOutbound.sscCodings(subtype: "diffuse"))).last, "http://hl7.org/fhir/sid/icd-10-cm|M34.0")
        XCTAssertEqual(codes(FHIR.concept(ConditionOutbound.sscCodings(subtype: "sine"))).last, "http://hl7.org/fhir/sid/icd-10-cm|M34.9")
        XCTAssertNil(ConditionOutbound.ssc(patient: parse(#"{"id":"\#(pid)","ssc":{"subtype":"none"}}"#)))
        XCTAssertNil(ConditionOutbound.ssc(patient: parse(#"{"id":"\#(pid)"}"#)))
    }

    func lesion(_ site: String, _ side: String, status: String = "active") -> JSONValue {
        parse(#"{"id":"\#(rid)","patientId":"\#(pid)","label":"L1","site":"\#(site)","laterality":"\#(side)","morphology":"mousse","status":"\#(status)","findings":{"purulent":true,"abscess":false},"version":1}"#)
    }

    func testCalcinosisConditionUsesLocalCodeNotSNOMED() {
        let c = ConditionOutbound.calcinosis(patient: patient, lesions: [lesion("thigh", "right", status: "healed")])!
        XCTAssertEqual(codes(c["code"]), ["http://hl7.org/fhir/sid/icd-10-cm|L94.2", "\(CodeSystem.local)|calcinosis-cutis"])
        XCTAssertEqual(c["clinicalStatus"]?["coding"]?.arrayValue?.first?["code"], "resolved")
        XCTAssertNil(ConditionOutbound.calcinosis(patient: patient, lesions: []))
        let active = ConditionOutbound.calcinosis(patient: patient, lesions: [lesion("thigh", "right", status: "healed"), lesion("hand", "left")])!
        XCTAssertEqual(active["clinicalStatus"]?["coding"]?.arrayValue?.first?["code"], "active")
    }

    func testInfectionEpisodeCodes() {
        let episode = parse(#"{"id":"\#(rid)","patientId":"\#(pid)","lesionId":"L","onset":"2024-05-01","organism":"Staphylococcus aureus","mrsa":true,"outcome":"resolved","resolvedDate":"2024-05-20","version":2}"#)
        let c = ConditionOutbound.infection(episode, context: OutboundContext(asOf: asOf, lesions: ["L": lesion("lower-leg", "left")]))
        XCTAssertEqual(codes(c["code"]), ["http://snomed.info/sct|128045006", "http://hl7.org/fhir/sid/icd-10-cm|L03.116"])
        XCTAssertEqual(c["abatementDateTime"], "2024-05-20")
        XCTAssertEqual(c["clinicalStatus"]?["coding"]?.arrayValue?.first?["code"], "resolved")
        XCTAssertEqual(codes(c["evidence"]?.arrayValue?.first?["code"]?.arrayValue?.first), ["http://hl7.org/fhir/sid/icd-10-cm|B95.62"])
        let joint = parse(#"{"id":"\#(rid)","patientId":"\#(pid)","lesionId":"L","onset":"2024-05-01","organism":"Streptococcus dysgalactiae","cultureSource":"joint-fluid","outcome":"ongoing","version":1}"#)
        let j = ConditionOutbound.infection(joint, context: OutboundContext(asOf: asOf, lesions: ["L": lesion("knee", "right")]))
        XCTAssertEqual(codes(j["code"]), ["http://snomed.info/sct|372939007", "http://hl7.org/fhir/sid/icd-10-cm|M00.261"])
        XCTAssertEqual(j["clinicalStatus"]?["coding"]?.arrayValue?.first?["code"], "active")
        XCTAssertNil(j["abatementDateTime"])
    }

    func testLabUsesLabCodesAndUCUM() {
        let lab = parse(#"{"id":"\#(rid)","patientId":"\#(pid)","test":"calcium","value":2.4,"unit":"mmol/L","date":"2024-05-02","loinc":"2000-8","version":1}"#)
        let o = ObservationOutbound.lab(lab)
        XCTAssertEqual(codes(o["code"]).first, "http://loinc.org|2000-8")
        XCTAssertEqual(o["valueQuantity"]?["code"], "mmol/L")
        XCTAssertEqual(o["category"]?.arrayValue?.first?["coding"]?.arrayValue?.first?["code"], "laboratory")
        let egfr = ObservationOutbound.lab(parse(#"{"id":"\#(rid)","patientId":"\#(pid)","test":"egfr","value":55,"unit":"mL/min/1.73m2","date":"2024-05-02"}"#))
        XCTAssertEqual(egfr["valueQuantity"]?["code"], "mL/min/{1.73_m2}")
        XCTAssertEqual(codes(egfr["code"]).first, "http://loinc.org|98979-8")
    }

    func testVitalsOneObservationPerValue() {
        let row = parse(#"{"id":"\#(rid)","patientId":"\#(pid)","date":"2024-05-02","temperatureC":38.4,"systolicBP":92,"alteredMentation":false,"version":1}"#)
        let obs = ObservationOutbound.vitals(row)
        XCTAssertEqual(obs.compactMap { $0["id"]?.stringValue }, [ResourceID.vital(rid, .temperature), ResourceID.vital(rid, .systolic)])
        XCTAssertEqual(codes(obs[0]["code"]), ["http://loinc.org|8310-5"])
        XCTAssertEqual(obs[0]["valueQuantity"]?["code"], "Cel")
        XCTAssertEqual(codes(obs[1]["code"]), ["http://loinc.org|85354-9"])
        let components = obs[1]["component"]?.arrayValue ?? []
        XCTAssertEqual(codes(components.first?["code"]), ["http://loinc.org|8480-6"])
        XCTAssertEqual(components.first?["valueQuantity"]?["value"], 92)
        XCTAssertNotNil(components.last?["dataAbsentReason"], "diastolic is not recorded: marked absent, not invented")
    }

    func testMeasurementIsWoundSizePanelWithFocus() {
        let m = parse(#"{"id":"\#(rid)","patientId":"\#(pid)","lesionId":"L9","date":"2024-05-02","lengthCm":4,"widthCm":3,"areaCm2":9.4,"healed":false,"version":1}"#)
        let o = ObservationOutbound.measurement(m)
        XCTAssertEqual(codes(o["code"]), ["http://loinc.org|72287-6"])
        XCTAssertEqual(o["focus"]?.arrayValue?.first?["reference"], "BodyStructure/L9")
        let comps = o["component"]?.arrayValue ?? []
        XCTAssertEqual(comps.flatMap { codes($0["code"]) }, ["http://loinc.org|39126-8", "http://loinc.org|39125-0", "http://loinc.org|89260-4", "\(CodeSystem.local)|wound-healed"])
        XCTAssertEqual(comps[2]["valueQuantity"]?["code"], "cm2")
    }

    func testMedicationHoldAndRxNorm() {
        let med = parse(#"{"id":"\#(rid)","patientId":"\#(pid)","drug":"warfarin","rxnorm":"11289","doseMg":2.5,"frequency":"daily","route":"oral","start":"2020-01-01","stop":null,"version":1}"#)
        let hold = parse(#"{"medicationId":"\#(rid)","start":"2024-05-25","end":null,"reason":"INR 5"}"#)
        let held = MedicationStatementOutbound.resource(med, holds: [hold], asOf: asOf)
        XCTAssertEqual(held["status"], "on-hold")
        XCTAssertEqual(held["statusReason"]?.arrayValue?.first?["text"], "INR 5")
        XCTAssertEqual(codes(held["medicationCodeableConcept"]), ["http://www.nlm.nih.gov/research/umls/rxnorm|11289"])
        XCTAssertEqual(held["note"]?.arrayValue?.count, 1)
        let before = MedicationStatementOutbound.resource(med, holds: [hold], asOf: LocalDate(iso: "2024-05-01")!)
        XCTAssertEqual(before["status"], "active")
        XCTAssertNil(before["statusReason"], "not on hold on that day: no reason (R4 statusReason explains a not-taken/on-hold status)")
        XCTAssertEqual(before["note"]?.arrayValue?.count, 1, "a future hold is still reported")
        let unheld = MedicationStatementOutbound.resource(med, holds: [], asOf: asOf)
        XCTAssertEqual(unheld["status"], "active")
        XCTAssertNil(unheld["statusReason"], "a medication never held has no statusReason (it read \"held\" before)")
        XCTAssertNil(before["effectivePeriod"]?["end"])
        let unknown = parse(#"{"id":"\#(rid)","patientId":"\#(pid)","drug":"sodium thiosulfate","start":"2020-01-01","stop":"2021-01-01","version":1}"#)
        let done = MedicationStatementOutbound.resource(unknown, holds: [], asOf: asOf)
        XCTAssertEqual(done["status"], "completed")
        XCTAssertNil(done["medicationCodeableConcept"]?["coding"], "12.5: no RxNorm code, none invented")
    }

    func testFlagIDCarriesItsPatient() {
        let patient = "8163e009-5ad2-4c2f-9b0e-1e2a3b4c5d6e"
        XCTAssertEqual(FlagOutbound.patientID(inFlagID: FlagOutbound.id(rule: "DDI-08", patientID: patient, occurrence: 1)), patient)
        XCTAssertEqual(FlagOutbound.patientID(inFlagID: FlagOutbound.id(rule: "HOLD-01", patientID: patient, occurrence: 2)), patient)
        XCTAssertNil(FlagOutbound.patientID(inFlagID: "ssc-\(patient)"))
        XCTAssertNil(FlagOutbound.patientID(inFlagID: "alert-x"))
    }

    func testResourceSelectsOneVital() {
        let row = parse(#"{"id":"\#(rid)","patientId":"\#(pid)","date":"2024-05-02","heartRate":110,"respiratoryRate":22,"version":1}"#)
        let one = OutboundMapper.resource(type: .Observation, id: ResourceID.vital(rid, .respiratoryRate), kind: .vitals, record: row, context: OutboundContext(asOf: asOf))
        XCTAssertEqual(codes(one?["code"]), ["http://loinc.org|9279-1"])
        XCTAssertNil(OutboundMapper.resource(type: .Observation, id: ResourceID.vital(rid, .temperature), kind: .vitals, record: row, context: OutboundContext(asOf: asOf)))
    }
}
