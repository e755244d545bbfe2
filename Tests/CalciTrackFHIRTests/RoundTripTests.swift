@testable import CalciTrackFHIR
import CalciTrackCore
import XCTest

/// Registry API JSON → Outbound → FHIR → Inbound → the API body it came from (the keys the
/// record's `apply` accepts). What a round trip cannot keep is named in each assertion.
final class RoundTripTests: XCTestCase {
    let pid = "0b6f1f0e-2c1d-4c7e-9a59-0d1f2b3c4d5e"

    func inbound(_ resource: JSONValue) -> InboundResult {
        guard case .object(let o) = resource else { XCTFail("not an object"); return InboundResult(records: [], issues: []) }
        return InboundMapping.map(o)
    }

    func keep(_ o: JSONObject, _ keys: [String]) -> JSONObject { JSONObject(o.entries.filter { keys.contains($0.key) }.map { ($0.key, $0.value) }) }

    func testLesionMeasurementVisitProcedureImagingLab() {
        let lesion = parseObject("""
        {"id": "11111111-2c1d-4c7e-9a59-0d1f2b3c4d5e", "patientId": "\(pid)", "label": "L1", "site": "lower-leg", "laterality": "left", "morphology": "stone",
         "periarticularMass": true, "findings": {"ulcerated": true, "abscess": false}, "status": "excised", "note": "x; y", "version": 2}
        """)
        let l = inbound(BodyStructureOutbound.resource(.object(lesion)))
        XCTAssertEqual(l.records.first?.body, keep(lesion, ["label", "site", "laterality", "morphology", "periarticularMass", "findings", "status", "note"]).sortedLike(l.records.first?.body))
        XCTAssertEqual(l.records.first?.references[.patient], "Patient/\(pid)")

        let m = parseObject(#"{"id": "m1", "patientId": "\#(pid)", "lesionId": "\#(lesion["id"]!.string)", "date": "2026-11-01", "lengthCm": 4, "widthCm": 3, "depthCm": 0.5, "areaCm2": 9.4, "perimeterCm": 11, "healed": false, "painVas": 3}"#)
        let mr = inbound(ObservationOutbound.measurement(.object(m)))
        XCTAssertEqual(mr.records.first?.body.sorted, keep(m, ["date", "lengthCm", "widthCm", "depthCm", "areaCm2", "perimeterCm", "healed", "painVas"]).sorted)
        XCTAssertEqual(mr.records.first?.references[.lesion], "BodyStructure/\(lesion["id"]!.string)")

        let v = parseObject(#"{"id": "v1", "patientId": "\#(pid)", "date": "2026-11-01", "kind": "wound-care", "nextDue": "2026-12-01", "painVas": 4, "note": "n"}"#)
        XCTAssertEqual(inbound(EncounterOutbound.resource(.object(v))).records.first?.body.sorted, keep(v, ["date", "kind", "nextDue", "painVas", "note"]).sorted)

        let p = parseObject(#"{"id": "p1", "patientId": "\#(pid)", "date": "2026-11-02", "kind": "eswl", "lesionId": "\#(lesion["id"]!.string)", "note": "n"}"#)
        let pr = inbound(ProcedureOutbound.resource(.object(p)))
        XCTAssertEqual(pr.records.first?.body.sorted, keep(p, ["date", "kind", "note"]).sorted)
        XCTAssertEqual(pr.records.first?.references[.lesion], "BodyStructure/\(lesion["id"]!.string)")

        let i = parseObject(#"{"id": "i1", "patientId": "\#(pid)", "date": "2026-11-03", "modality": "mri", "inconclusive": true, "findings": "oedema", "scores": {"sctcTotal": 12}}"#)
        XCTAssertEqual(inbound(ImagingStudyOutbound.resource(.object(i))).records.first?.body.sorted, keep(i, ["date", "modality", "inconclusive", "findings", "scores"]).sorted)

        for (test, unit) in [("calcium", "mmol/L"), ("egfr", "mL/min/1.73m2"), ("wbc", "/mm3"), ("creatinine", "umol/L")] {
            let lab = parseObject(#"{"id": "x", "patientId": "\#(pid)", "test": "\#(test)", "value": 2.5, "unit": "\#(unit)", "date": "2026-11-01"}"#)
            let body = inbound(ObservationOutbound.lab(.object(lab))).records.first?.body
            XCTAssertEqual(body?["test"], .string(test))
            // eGFR comes back in its UCUM spelling mL/min/{1.73_m2}, which the registry accepts as the same unit.
            XCTAssertEqual(body?["unit"], .string(unit == "mL/min/1.73m2" ? "mL/min/{1.73_m2}" : unit))
        }
    }

    func testVitalsAndMedicationWithHolds() {
        let row = parseObject(#"{"id": "22222222-2c1d-4c7e-9a59-0d1f2b3c4d5e", "patientId": "\#(pid)", "date": "2026-11-01", "temperatureC": 38.6, "heartRate": 104, "respiratoryRate": 22, "systolicBP": 95}"#)
        let records = InboundMapping.mergeVitals(ObservationOutbound.vitals(.object(row)).flatMap { inbound($0).records })
        XCTAssertEqual(records.map(\.body.sorted), [keep(row, ["date", "temperatureC", "heartRate", "respiratoryRate", "systolicBP"]).sorted])

        let med = parseObject(#"{"id": "m", "patientId": "\#(pid)", "drug": "mycophenolate", "rxnorm": "7145", "doseMg": 500, "frequency": "bid", "route": "oral", "start": "2020-01-01", "stop": null, "indication": "ILD", "createdAt": "2020-01-02T10:00:00Z"}"#)
        let holds: [JSONValue] = [.object(parseObject(#"{"start": "2026-11-01", "end": null, "reason": "sepsis"}"#))]
        let r = inbound(MedicationStatementOutbound.resource(.object(med), holds: holds, asOf: LocalDate(iso: "2026-11-24")!))
        XCTAssertFalse(r.isRejected, "\(r.issues)")
        XCTAssertEqual(r.records.first?.body.sorted, keep(med, ["drug", "doseMg", "frequency", "route", "start", "stop", "indication"]).sorted)
        XCTAssertEqual(r.records.dropFirst().map(\.body), [parseObject(#"{"start": "2026-11-01", "end": null, "reason": "sepsis"}"#)])
    }
}

private extension JSONObject {
    /// Entries by key, so two bodies compare regardless of key order.
    var sorted: JSONObject { JSONObject(entries.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }) }
    func sortedLike(_ other: JSONObject?) -> JSONObject { sorted == other?.sorted ? other! : sorted }
}

private extension JSONValue {
    var string: String { if case .string(let s) = self { s } else { "" } }
}
