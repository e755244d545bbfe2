@testable import CalciTrackServer
import CalciTrackCore
import Foundation
import Testing
import VaporTesting

/// `_pretty` (R4 http.html#parameters): accepted by every FHIR interaction beside `_format`, and
/// `true` indents the JSON answer. Before, a search, history or `$everything` with `_pretty`
/// (which HAPI's client and others send) was a 400 "not supported".
@Suite(.serialized) struct FHIRPrettyPrintingTests {
    @Test("_pretty=true indents every FHIR JSON answer (resources, Bundles, OperationOutcomes); a value other than true or false is a 400 naming it")
    func pretty() async throws {
        try await TestRegistry.run { r in
            let pid = try await r.createPatient(mrn: "PP-1")
            for path in ["/fhir/Patient/\(pid)", "/fhir/Patient?_id=\(pid)", "/fhir/Patient/\(pid)/_history", "/fhir/Patient/\(pid)/_history/1",
                         "/fhir/Patient/\(pid)/$everything", "/fhir/Observation/_history", "/fhir/_history", "/fhir/Group", "/fhir/metadata"] {
                let separator = path.contains("?") ? "&" : "?"
                let plain = try await r.send(.GET, path, as: "clinA")
                let pretty = try await r.send(.GET, path + separator + "_pretty=true", as: "clinA")
                let notPretty = try await r.send(.GET, path + separator + "_pretty=false", as: "clinA")
                #expect(plain.status == .ok && pretty.status == .ok && notPretty.status == .ok, "\(path): \(pretty.text.prefix(300))")
                #expect(!plain.text.contains("\n") && pretty.text.contains("\n  \"") && !notPretty.text.contains("\n"), "\(path)")
                // The same resource, written indented (links and timestamps aside, which name the query or the moment).
                #expect(pretty.json["resourceType"] == plain.json["resourceType"] && pretty.json["id"] == plain.json["id"], "\(path)")
            }
            let missing = try await r.send(.GET, "/fhir/Patient/00000000-0000-0000-0000-000000000000?_pretty=true", as: "clinA")
            #expect(missing.status == .notFound && missing["resourceType"] == "OperationOutcome" && missing.text.contains("\n"), "\(missing.text)")
            let bad = try await r.send(.GET, "/fhir/Patient?_pretty=yes", as: "clinA")
            #expect(bad.status == .badRequest && bad["issue"]?.arrayFirst?["expression"] == .array(["_pretty"]), "\(bad.text)")
            // A batch GET entry takes it too.
            let batch = try await r.send(.POST, "/fhir", as: "clinA", json: #"{"resourceType": "Bundle", "type": "batch", "entry": [{"request": {"method": "GET", "url": "Patient/\#(pid)?_pretty=true"}}]}"#,
                                         headers: ["Content-Type": "application/fhir+json"])
            #expect(batch.status == .ok && batch["entry"]?.arrayFirst?["response"]?["status"]?.stringValue?.hasPrefix("200") == true, "\(batch.text)")
        }
    }

    /// RFC 9110 15.5.7 (FHIR R4 http.html#mime names the formats): a format the server cannot provide is a 406, not JSON the client did not ask for.
    @Test("Accept naming only XML or Turtle is a 406 OperationOutcome; JSON among them, any type, or _format=json is served JSON")
    func contentNegotiation() async throws {
        try await TestRegistry.run { r in
            let pid = try await r.createPatient(mrn: "CN-1")
            for accept in ["application/fhir+xml", "application/xml, text/xml", "text/turtle"] {
                let refused = try await r.send(.GET, "/fhir/Patient/\(pid)", as: "clinA", headers: ["Accept": accept])
                #expect(refused.status == .notAcceptable && refused["resourceType"] == "OperationOutcome", "\(accept): \(refused.text)")
            }
            for accept in ["application/fhir+xml, application/fhir+json;q=0.9", "*/*", "application/json", "application/fhir+json; fhirVersion=4.0"] {
                #expect(try await r.send(.GET, "/fhir/Patient/\(pid)", as: "clinA", headers: ["Accept": accept]).status == .ok, "\(accept)")
            }
            #expect(try await r.send(.GET, "/fhir/Patient/\(pid)?_format=json", as: "clinA", headers: ["Accept": "application/fhir+xml"]).status == .ok)
            #expect(try await r.send(.GET, "/fhir/Patient/\(pid)?_format=xml", as: "clinA").status == .badRequest)
        }
    }
}
