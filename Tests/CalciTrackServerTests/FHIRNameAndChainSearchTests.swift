@testable import CalciTrackServer
import CalciTrackCore
import CalciTrackFHIR
import Foundation
import Testing
import VaporTesting

/// Patient `name` and `given` (R4 Patient search parameters; US Core requires `name`), comma
/// lists as OR for `family` too, and the chained `patient.identifier` (R4 search.html#chaining):
/// how an integration engine finds a patient's records by MRN without knowing registry ids.
@Suite(.serialized) struct FHIRNameAndChainSearchTests {
    @Test("Patient name, given and family: starts with, case- and accent-insensitive, comma-separated values are any of")
    func names() async throws {
        try await TestRegistry.run { r in
            let doe = try await r.createPatient(mrn: "N-1")   // Doe, Jane
            let muller = try await r.send(.POST, "/api/v1/patients", as: "clinA", json: """
                {"siteId": "\(r.siteA.uuidString)", "mrn": "N-2", "familyName": "Müller", "givenName": "Éva", "sex": "female", "birthDate": "1970-05-20"}
                """).id
            func found(_ query: String) async throws -> Set<String> {
                let bundle = try await r.send(.GET, "/fhir/Patient?" + query, as: "clinA")
                #expect(bundle.status == .ok, "\(query): \(bundle.text)")
                guard case .array(let entries)? = bundle["entry"] else { return [] }
                return Set(entries.compactMap { $0["resource"]?["id"]?.stringValue })
            }
            #expect(try await found("name=MUL") == [muller])
            #expect(try await found("name=jan") == [doe])
            #expect(try await found("name=eva,doe") == [doe, muller])
            #expect(try await found("name=x") == [])
            #expect(try await found("given=%C3%89v") == [muller], "Év, as sent percent-encoded")
            #expect(try await found("given=doe") == [], "given is the given name only")
            #expect(try await found("family=doe,mull") == [doe, muller], "before: the comma list was one folded prefix")
            #expect(try await found("name=doe&given=jane") == [doe])
            let metadata = try await r.send(.GET, "/fhir/metadata", as: nil)
            #expect(metadata.text.contains("\"name\":\"given\"") && metadata.text.contains("\"name\":\"name\""))
        }
    }

    @Test("patient.identifier and subject:Patient.identifier find a patient's records by MRN, at the caller's sites only")
    func chainedIdentifier() async throws {
        try await TestRegistry.run { r in
            let a1 = try await r.createPatient(site: "A", mrn: "C-1")
            let a2 = try await r.createPatient(site: "A", mrn: "C-2")
            let b1 = try await r.createPatient(site: "B", mrn: "C-1")   // the same MRN at the other site
            func lab(_ pid: String, as user: String) async throws -> String {
                try await r.send(.POST, "/api/v1/patients/\(pid)/labs", as: user, json: #"{"test":"calcium","value":9.1,"unit":"mg/dL","date":"2026-11-01"}"#).id.lowercased()
            }
            let labA1 = try await lab(a1, as: "clinA"), labA2 = try await lab(a2, as: "clinA")
            _ = try await lab(b1, as: "clinB")
            func found(_ query: String, as user: String = "clinA") async throws -> Set<String> {
                let bundle = try await r.send(.GET, "/fhir/" + query, as: user)
                #expect(bundle.status == .ok, "\(query): \(bundle.text)")
                guard case .array(let entries)? = bundle["entry"] else { return [] }
                return Set(entries.compactMap { $0["resource"]?["id"]?.stringValue })
            }
            let system = CodeSystem.mrnPrefix
            #expect(try await found("Observation?patient.identifier=C-1") == [labA1], "site B's C-1 is not the caller's")
            #expect(try await found("Observation?subject:Patient.identifier=\(system)A|C-2") == [labA2])
            #expect(try await found("Observation?patient:Patient.identifier=C-1,C-2") == [labA1, labA2])
            #expect(try await found("Observation?subject.identifier=\(system)B|C-1") == [])
            #expect(try await found("Observation?patient.identifier=http://other.example|C-1") == [])
            #expect(try await found("Observation?patient.identifier=C-1&code=17861-6") == [labA1])
            #expect(try await found("Observation?patient.identifier=C-1", as: "clinB").count == 1)
            #expect(try await found("BodyStructure?patient.identifier=C-1") == [])
            // In a Bulk Data _typeFilter too.
            let started = try await r.send(.GET, "/fhir/$export?_type=Observation&_typeFilter=" + "Observation?patient.identifier=C-2".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!,
                                           as: "clinA", headers: FHIRBulkExportTests.kickoffHeaders)
            #expect(try await FHIRBulkExportTests().exported(r, started, "Observation").compactMap { $0["id"]?.stringValue } == [labA2])
            // Other chains, and Flags (computed per patient id), are refused naming the parameter.
            for (query, name) in [("Observation?patient.name=Doe", "patient.name"), ("Flag?patient.identifier=C-1", "patient.identifier"),
                                  ("Observation?code.identifier=x", "code.identifier")] {
                let reply = try await r.send(.GET, "/fhir/" + query, as: "clinA")
                #expect(reply.status == .badRequest && reply["issue"]?.arrayFirst?["expression"] == .array([.string(name)]), "\(query): \(reply.text)")
            }
        }
    }

    /// R4 http.html#search: a search is GET [base]/[type]?params or POST [base]/[type]/_search with
    /// the parameters as a form body (and any in the URL). Before, the POST was a 404.
    @Test("POST Type/_search with a form body answers as the GET search; another body type is a 415")
    func searchViaPost() async throws {
        try await TestRegistry.run { r in
            let pid = try await r.createPatient(mrn: "PS-1")
            let lab = try await r.send(.POST, "/api/v1/patients/\(pid)/labs", as: "clinA", json: #"{"test":"calcium","value":9.1,"unit":"mg/dL","date":"2026-11-01"}"#).id.lowercased()
            func post(_ path: String, _ body: String, type: HTTPMediaType = .urlEncodedForm) async throws -> (HTTPResponseStatus, JSONValue) {
                var headers = HTTPHeaders()
                headers.bearerAuthorization = BearerAuthorization(token: r.tokens["clinA"]!)
                headers.contentType = type
                let response = try await r.app.testing().sendRequest(.POST, path, headers: headers, body: ByteBuffer(string: body))
                return (response.status, (try? JSONParser.parse(Array(response.body.readableBytesView))) ?? .null)
            }
            let get = try await r.send(.GET, "/fhir/Observation?patient.identifier=PS-1&code=http%3A%2F%2Floinc.org%7C17861-6", as: "clinA")
            let (status, bundle) = try await post("/fhir/Observation/_search", "patient.identifier=PS-1&code=http%3A%2F%2Floinc.org%7C17861-6")
            #expect(status == .ok && bundle["type"] == "searchset" && bundle["total"] == 1, "\(bundle)")
            #expect(bundle["entry"]?.arrayFirst?["resource"]?["id"]?.stringValue == lab)
            #expect(bundle["total"] == get["total"])
            // URL and body parameters together (AND), a bad one named as in a GET.
            #expect(try await post("/fhir/Observation/_search?code=17861-6", "patient=\(pid)").1["total"] == 1)
            #expect(try await post("/fhir/Observation/_search?code=0000-0", "patient=\(pid)").1["total"] == 0)
            let (badStatus, outcome) = try await post("/fhir/Observation/_search", "date=yesterday")
            #expect(badStatus == .badRequest && outcome["issue"]?.arrayFirst?["expression"] == .array(["date"]), "\(outcome)")
            #expect(try await post("/fhir/Patient/_search", "identifier=PS-1").1["total"] == 1)
            #expect(try await post("/fhir/Group/_search", "").0 == .ok)
            #expect(try await post("/fhir/Observation/_search", #"{"patient": "x"}"#, type: .json).0 == .unsupportedMediaType)
        }
    }
}
