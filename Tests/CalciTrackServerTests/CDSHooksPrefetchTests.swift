@testable import CalciTrackServer
import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation
import Testing
import VaporTesting

/// CDS Hooks 2.0 "Prefetch Template": a key sent as null means the EHR has no such data; a key left
/// out means it did not fetch it, so the prefetch is not the whole record. Such a request is
/// answered from the registry when the patient is a registry patient, else 412 naming the keys.
/// Card links go only to patients the registry holds.
@Suite(.serialized) struct CDSHooksPrefetchTests {
    static let signPath = "/cds-services/calcinosis-medication-safety-sign"

    /// A registry patient with an infected lesion, fever and mycophenolate: the registry record
    /// raises a severe infection and HOLD-01, which the Patient resource alone cannot.
    static func infectedPatientOnMycophenolate(_ r: TestRegistry) async throws -> String {
        let patient = try await r.createPatient()
        _ = try await r.send(.POST, "/api/v1/patients/\(patient)/lesions", as: "clinA",
                             json: #"{"label": "thigh", "site": "thigh", "laterality": "right", "findings": {"purulent": true, "erythema": true}}"#)
        _ = try await r.send(.POST, "/api/v1/patients/\(patient)/vitals", as: "clinA", json: #"{"date": "2026-11-20", "temperatureC": 38.6, "heartRate": 104}"#)
        let medication = try await r.send(.POST, "/api/v1/patients/\(patient)/medications", as: "clinA",
                                          json: #"{"drug": "mycophenolate", "doseMg": 500, "frequency": "bid", "route": "oral", "start": "2020-01-01"}"#)
        #expect(medication.status == .created, "\(medication.text)")
        return patient
    }

    @Test("Registry patient, prefetch with only the Patient: the registry record is assessed (HOLD-01, severe infection), linked, and the audit says the prefetch was incomplete")
    func incompletePrefetchOfRegistryPatient() async throws {
        try await CDSHooksTests.withCDS { r, client in
            let patient = try await Self.infectedPatientOnMycophenolate(r)
            let body = CDSHooksTests.hookRequest(patient: patient, prefetch: try CDSHooksTests.seed1Prefetch(patientID: patient, only: ["patient"]))
            let reply = try await CDSHooksTests.call(r, token: try await client.token(), json: body)
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(CDSHooksTests.topics(reply).contains("alert:HOLD-01"), "\(CDSHooksTests.topics(reply))")
            #expect(CDSHooksTests.topics(reply).contains("infection-severe"), "\(CDSHooksTests.topics(reply))")
            #expect(CDSHooksTests.array(CDSHooksTests.cards(reply).first?["links"]).first?["url"] == .string("\(CDSHooksTests.base)/patients/\(patient)"))
            let audit = try await AuditEntry.query(on: r.app.db).filter(\.$action == "assess").all()
            #expect(audit.contains { $0.patientID == patient && $0.detail.contains("prefetch omitted conditions, observations, medications, lesions, encounters") },
                    "\(audit.map(\.detail))")
        }
    }

    @Test("Not a registry patient: a prefetch that omits keys answers 412 naming just the omitted keys")
    func incompletePrefetchOfUnknownPatient() async throws {
        try await CDSHooksTests.withCDS { r, client in
            let unknown = UUID().uuidString.lowercased()
            let onlyPatient = try await CDSHooksTests.call(r, token: try await client.token(), json: CDSHooksTests.hookRequest(
                patient: unknown, prefetch: try CDSHooksTests.seed1Prefetch(patientID: unknown, only: ["patient"])))
            #expect(onlyPatient.status == .preconditionFailed, "\(onlyPatient.text)")
            #expect(onlyPatient.text.contains("omits conditions, observations, medications, lesions, encounters"), "\(onlyPatient.text)")

            let noMedications = try await CDSHooksTests.call(r, token: try await client.token(), json: CDSHooksTests.hookRequest(
                patient: "seed-1-admission", prefetch: try CDSHooksTests.seed1Prefetch(only: ["patient", "conditions", "observations", "lesions", "encounters"])))
            #expect(noMedications.status == .preconditionFailed, "\(noMedications.text)")
            #expect(noMedications.text.contains("omits medications and"), "\(noMedications.text)")
            let empty = try await CDSHooksTests.call(r, token: try await client.token(), json: CDSHooksTests.hookRequest(patient: unknown, prefetch: "{}"))
            #expect(empty.status == .preconditionFailed, "\(empty.text)")
        }
    }

    @Test("Every declared key sent, some as null (no such data): the prefetch is assessed, not refused")
    func nullKeysAreNone() async throws {
        try await CDSHooksTests.withCDS { r, client in
            let reply = try await CDSHooksTests.call(r, token: try await client.token(), json: CDSHooksTests.hookRequest(
                patient: "seed-1-admission", prefetch: try CDSHooksTests.seed1Prefetch(null: ["conditions", "encounters"])))
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(CDSHooksTests.topics(reply).contains("alert:HOLD-01"), "\(reply.text)")
        }
    }

    @Test("order-sign follows the same rule: registry patient with only the Patient prefetched gets DDI-02 from the registry's warfarin; an unknown one 412")
    func orderSignIncompletePrefetch() async throws {
        try await CDSHooksTests.withCDS { r, client in
            let patient = try await CDSOrderSelectTests.patientOnWarfarin(r)
            func sign(_ id: String, _ prefetch: String) async throws -> TestRegistry.Reply {
                let body = CDSOrderSelectTests.request(patient: id, drafts: [("dc", "doxycycline", "3640")])
                    .replacingOccurrences(of: #""hook": "order-select""#, with: #""hook": "order-sign""#)
                    .replacingOccurrences(of: #""context":"#, with: #""prefetch": \#(prefetch), "context":"#)
                return try await CDSHooksTests.call(r, Self.signPath, token: try await client.token(aud: CDSHooksTests.base + Self.signPath), json: body)
            }
            let registry = try await sign(patient, try CDSHooksTests.seed1Prefetch(patientID: patient, only: ["patient"]))
            #expect(registry.status == .ok, "\(registry.text)")
            #expect(CDSHooksTests.topics(registry).contains("alert:DDI-02"), "\(registry.text)")
            let unknown = UUID().uuidString.lowercased()
            let refused = try await sign(unknown, try CDSHooksTests.seed1Prefetch(patientID: unknown, only: ["patient"]))
            #expect(refused.status == .preconditionFailed, "\(refused.text)")
            #expect(refused.text.contains("medications"), "\(refused.text)")
        }
    }

    @Test("Card links: a full prefetch for a UUID the registry does not hold gets none; for a registry patient, their page")
    func linksOnlyToRegistryPatients() async throws {
        try await CDSHooksTests.withCDS { r, client in
            let unknown = UUID().uuidString.lowercased()
            let stranger = try await CDSHooksTests.call(r, token: try await client.token(), json: CDSHooksTests.hookRequest(
                patient: unknown, prefetch: try CDSHooksTests.seed1Prefetch(patientID: unknown)))
            #expect(stranger.status == .ok, "\(stranger.text)")
            #expect(!CDSHooksTests.cards(stranger).isEmpty)
            #expect(CDSHooksTests.cards(stranger).allSatisfy { $0["links"] == nil }, "\(stranger.text)")

            let patient = try await r.createPatient()
            let known = try await CDSHooksTests.call(r, token: try await client.token(), json: CDSHooksTests.hookRequest(
                patient: patient, prefetch: try CDSHooksTests.seed1Prefetch(patientID: patient)))
            #expect(known.status == .ok, "\(known.text)")
            #expect(CDSHooksTests.cards(known).allSatisfy { CDSHooksTests.array($0["links"]).first?["url"] == .string("\(CDSHooksTests.base)/patients/\(patient)") },
                    "\(known.text)")
            // The prefetch was assessed (seed 1's severe infection), not the registry's empty record.
            #expect(CDSHooksTests.topics(known).contains("infection-severe"), "\(known.text)")
        }
    }
}
