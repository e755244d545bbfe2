@testable import CalciTrackServer
import CalciTrackCore
import Foundation
import Testing
import VaporTesting

/// `status` and Condition `clinical-status` search (`FHIRStatusSearch`): each status code finds
/// exactly the resources served with that status, which the test reads back without the filter
/// and compares, so the SQL cannot drift from the Outbound mappers (a medication's status as of
/// the day: MedicationStatementOutbound.status; an episode's: ConditionOutbound.infection; the
/// calcinosis Condition's: its lesions).
@Suite(.serialized) struct FHIRStatusSearchTests {
    @Test("Every status code finds exactly the resources served with it: medications (holds, stops), infection episodes (outcome, resolution), calcinosis, SSc, the constant ones")
    func statusesAsServed() async throws {
        try await TestRegistry.run { r in   // today: 2026-11-24
            let one = try await r.createPatient(mrn: "ST-1", extra: #", "ssc": {"subtype": "limited", "diagnosisDate": "2009"}"#)
            let two = try await r.createPatient(mrn: "ST-2")
            func post(_ path: String, _ json: String) async throws -> String {
                let reply = try await r.send(.POST, path, as: "clinA", json: json)
                #expect(reply.status == .created, "\(path): \(reply.text)")
                return reply.id.lowercased()
            }
            // Medications: active, completed, on-hold (a hold covering today), active again after an ended hold, completed although held.
            func medication(_ pid: String, stop: String? = nil) async throws -> String {
                try await post("/api/v1/patients/\(pid)/medications", #"{"drug": "warfarin", "doseMg": 2.5, "frequency": "daily", "route": "oral", "start": "2020-01-01", "stop": \#(stop.map { "\"\($0)\"" } ?? "null")}"#)
            }
            _ = try await medication(one)
            _ = try await medication(one, stop: "2024-01-01")
            let held = try await medication(one)
            _ = try await post("/api/v1/medications/\(held)/holds", #"{"start": "2026-11-20", "reason": "sepsis"}"#)
            let heldBefore = try await medication(two)
            _ = try await post("/api/v1/medications/\(heldBefore)/holds", #"{"start": "2026-01-01", "end": "2026-01-10", "reason": "surgery"}"#)
            let stoppedHeld = try await medication(two, stop: "2026-11-01")
            _ = try await post("/api/v1/medications/\(stoppedHeld)/holds", #"{"start": "2026-10-01", "reason": "sepsis"}"#)
            // Infection episodes over the outcomes, with and without a resolution date.
            for (outcome, resolved) in [("ongoing", nil), ("resolved", "2026-02-01"), ("resolved", nil), ("recurred", nil), ("recurred", "2026-02-01"),
                                        ("amputation", nil), ("death", "2026-02-01"), ("unknown", nil)] as [(String, String?)] {
                _ = try await post("/api/v1/patients/\(one)/infection-episodes",
                                   #"{"onset": "2026-01-01", "outcome": "\#(outcome)", "resolvedDate": \#(resolved.map { "\"\($0)\"" } ?? "null")}"#)
            }
            // Lesions: patient one has an active one (calcinosis active), patient two a healed one only (resolved).
            _ = try await post("/api/v1/patients/\(one)/lesions", #"{"label": "thigh", "site": "thigh", "status": "active"}"#)
            _ = try await post("/api/v1/patients/\(two)/lesions", #"{"label": "knee", "site": "knee", "status": "healed"}"#)
            _ = try await post("/api/v1/patients/\(one)/labs", #"{"test": "calcium", "value": 9.1, "unit": "mg/dL", "date": "2026-11-01"}"#)
            _ = try await post("/api/v1/patients/\(one)/visits", #"{"date": "2026-11-01", "kind": "clinic"}"#)

            func search(_ query: String) async throws -> [JSONValue] {
                let bundle = try await r.send(.GET, "/fhir/\(query)", as: "clinA")
                #expect(bundle.status == .ok, "\(query): \(bundle.text)")
                guard case .array(let entries)? = bundle["entry"] else { return [] }
                return entries.compactMap { $0["resource"] }
            }
            let patients = "patient=\(one),\(two)"
            for (type, parameter, codes) in [("MedicationStatement", "status", ["active", "on-hold", "completed", "intended", "stopped", "entered-in-error"]),
                                             ("Condition", "clinical-status", ["active", "recurrence", "relapse", "inactive", "remission", "resolved"]),
                                             ("Observation", "status", ["final", "preliminary"]), ("Encounter", "status", ["finished", "planned"])] {
                // As served: the status of every resource of the two patients.
                var served: [String: String] = [:]
                for resource in try await search("\(type)?\(patients)&_count=500") {
                    let status = parameter == "status" ? resource["status"]?.stringValue : resource["clinicalStatus"]?["coding"]?.arrayFirst?["code"]?.stringValue
                    served[resource["id"]?.stringValue ?? "?"] = status ?? "(none)"
                }
                #expect(!served.isEmpty, "\(type): \(served)")
                for code in codes {
                    let found = Set(try await search("\(type)?\(patients)&\(parameter)=\(code)&_count=500").compactMap { $0["id"]?.stringValue })
                    #expect(found == Set(served.filter { $0.value == code }.keys), "\(type) \(parameter)=\(code): served \(served)")
                }
            }
            // The statuses this data must reach (so the comparison above is not vacuous).
            let medications = try await search("MedicationStatement?\(patients)&status=active,on-hold,completed")
            #expect(medications.count == 5)
            #expect(try await search("MedicationStatement?\(patients)&status=on-hold").count == 1)
            #expect(try await search("Condition?\(patients)&clinical-status=inactive").count == 3)   // recurred+resolved, amputation, death+resolved
            #expect(try await search("Condition?\(patients)&clinical-status=resolved").count == 3)   // two episodes, patient two's calcinosis
            // A token may name the status's code system; another system matches nothing.
            #expect(try await search("MedicationStatement?\(patients)&status=http://hl7.org/fhir/CodeSystem/medication-statement-status|on-hold").count == 1)
            #expect(try await search("MedicationStatement?\(patients)&status=http://example.org|on-hold").isEmpty)
            // In a Bulk Data _typeFilter, judged on the export's day.
            let started = try await r.send(.GET, "/fhir/$export?_type=MedicationStatement&_typeFilter=" + "MedicationStatement?status=on-hold".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!,
                                           as: "clinA", headers: FHIRBulkExportTests.kickoffHeaders)
            #expect(try await FHIRBulkExportTests().exported(r, started, "MedicationStatement").compactMap { $0["id"]?.stringValue } == [held])
            // Not on Patient, and Flags have none.
            let refused = try await r.send(.GET, "/fhir/Patient?status=active", as: "clinA")
            #expect(refused.status == .badRequest && refused["issue"]?.arrayFirst?["expression"] == .array(["status"]))
        }
    }

    /// US Core's "problems" and "encounter diagnoses" searches (Condition?patient=…&category=…):
    /// the category each Condition is served with (ConditionOutbound: SSc and calcinosis cutis on
    /// the problem list, infection episodes as encounter diagnoses), compared with the resources
    /// read back without the filter.
    @Test("Condition category finds exactly the Conditions served with it; a token may name condition-category, another system matches nothing")
    func conditionCategory() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient(mrn: "CC-1", extra: #", "ssc": {"subtype": "diffuse", "diagnosisDate": "2015-03-01"}"#)
            for (path, json) in [("lesions", #"{"label": "elbow", "site": "elbow", "status": "active"}"#),
                                 ("infection-episodes", #"{"onset": "2026-10-01", "outcome": "ongoing"}"#),
                                 ("infection-episodes", #"{"onset": "2025-01-01", "outcome": "resolved", "resolvedDate": "2025-02-01"}"#)] {
                let reply = try await r.send(.POST, "/api/v1/patients/\(patient)/\(path)", as: "clinA", json: json)
                #expect(reply.status == .created, "\(reply.text)")
            }
            func ids(_ query: String) async throws -> Set<String> {
                let bundle = try await r.send(.GET, "/fhir/Condition?patient=\(patient)&_count=100" + query, as: "clinA")
                #expect(bundle.status == .ok, "\(query): \(bundle.text)")
                guard case .array(let entries)? = bundle["entry"] else { return [] }
                return Set(entries.compactMap { $0["resource"]?["id"]?.stringValue })
            }
            var served: [String: String] = [:]
            let all = try await r.send(.GET, "/fhir/Condition?patient=\(patient)&_count=100", as: "clinA")
            guard case .array(let entries)? = all["entry"] else { Issue.record("no Conditions: \(all.text)"); return }
            for case let resource? in entries.map({ $0["resource"] }) {
                let coding = resource["category"]?.arrayFirst?["coding"]?.arrayFirst
                #expect(coding?["system"]?.stringValue == "http://terminology.hl7.org/CodeSystem/condition-category")
                served[resource["id"]?.stringValue ?? "?"] = coding?["code"]?.stringValue ?? "(none)"
            }
            // SSc and calcinosis cutis on the problem list, the two episodes as encounter diagnoses.
            #expect(served.values.sorted() == ["encounter-diagnosis", "encounter-diagnosis", "problem-list-item", "problem-list-item"], "\(served)")
            for code in ["problem-list-item", "encounter-diagnosis", "health-concern"] {
                #expect(try await ids("&category=\(code)") == Set(served.filter { $0.value == code }.keys), "category=\(code)")
            }
            #expect(try await ids("&category=http://terminology.hl7.org/CodeSystem/condition-category|encounter-diagnosis").count == 2)
            #expect(try await ids("&category=http://terminology.hl7.org/CodeSystem/observation-category|encounter-diagnosis").isEmpty)
            #expect(try await ids("&category=problem-list-item,encounter-diagnosis").count == 4)
            // With clinical-status: the active problems.
            #expect(try await ids("&category=encounter-diagnosis&clinical-status=active").count == 1)
        }
    }
}
