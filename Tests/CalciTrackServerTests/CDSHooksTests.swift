@testable import CalciTrackServer
import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation
import JWTKit
import _CryptoExtras
import Testing
import VaporTesting

/// CDS Hooks 2.0 at /cds-services: discovery, patient-view from prefetch or registry, 412,
/// feedback in the audit log, and caller authentication (ES384/RS384 JWTs of trusted issuers).
@Suite(.serialized) struct CDSHooksTests {
    static let base = "https://calcitrack.test"
    static let servicePath = "/cds-services/calcinosis-assessment"
    static let issuer = "https://ehr.example.org"

    /// A signing key of the test EHR and the registry configured to trust its public half.
    struct Client {
        let keys: JWTKeyCollection
        let kid = "ehr-key-1"

        static func make() async throws -> (Client, [String: CDSHooksSettings.TrustedIssuer]) {
            let privateKey = ES384PrivateKey()
            let keys = JWTKeyCollection()
            await keys.add(ecdsa: privateKey, kid: "ehr-key-1")
            let p = privateKey.publicKey.parameters!
            let jwks = #"{"\#(issuer)": {"jwks": {"keys": [{"kty": "EC", "crv": "P-384", "kid": "ehr-key-1", "x": "\#(p.x)", "y": "\#(p.y)", "use": "sig"}]}}}"#
            return (Client(keys: keys), try await CDSHooksSettings.parseIssuers(Array(jwks.utf8)))
        }

        func token(aud: String = CDSHooksTests.base + CDSHooksTests.servicePath, exp: Date = Date().addingTimeInterval(300),
                   iat: Date = Date(), jti: String = UUID().uuidString, iss: String = CDSHooksTests.issuer, nbf: Date? = nil) async throws -> String {
            try await keys.sign(CDSClientClaims(iss: .init(value: iss), sub: "client-1", aud: .init(value: [aud]), exp: .init(value: exp),
                                                iat: .init(value: iat), jti: .init(value: jti), nbf: nbf.map { .init(value: $0) }),
                                kid: JWKIdentifier(string: kid))
        }

        /// Signs any payload with the trusted key (tokens that leave out or mistype claims).
        func sign(_ payload: some JWTPayload) async throws -> String {
            try await keys.sign(payload, kid: JWKIdentifier(string: kid))
        }
    }

    static func withCDS(_ body: (TestRegistry, Client) async throws -> Void) async throws {
        try await TestRegistry.run { r in
            let (client, issuers) = try await Client.make()
            r.app.cdsHooks = CDSHooksSettings(authRequired: true, issuers: issuers, publicBaseURL: base)
            try await body(r, client)
        }
    }

    static func call(_ r: TestRegistry, _ path: String = servicePath, token: String?, json: String) async throws -> TestRegistry.Reply {
        var headers = HTTPHeaders()
        if let token { headers.bearerAuthorization = BearerAuthorization(token: token) }
        return try await r.send(.POST, path, as: nil, json: json, headers: headers)
    }

    static func hookRequest(patient: String, prefetch: String? = nil) -> String {
        """
        {"hook": "patient-view", "hookInstance": "\(UUID().uuidString)", "fhirServer": "https://ehr.example.org/fhir",
         "context": {"userId": "Practitioner/p1", "patientId": "\(patient)"}\(prefetch.map { ", \"prefetch\": \($0)" } ?? "")}
        """
    }

    /// Seed-1 at admission as FHIR (the FHIR tests' fixture), as the prefetch discovery asks for:
    /// the Patient and a searchset Bundle per declared key. `patientID` replaces the fixture's id;
    /// `only` keeps just those keys (an incomplete prefetch); `null` sends those keys as null.
    static func seed1Prefetch(patientID: String? = nil, only: [String]? = nil, null: [String] = []) throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CalciTrackFHIRTests/Fixtures/seed-1-admission.fhir.json")
        guard case .object(let bundle) = try JSONParser.parse(Array(try Data(contentsOf: url))),
              case .array(var entries)? = bundle["entry"] else { throw CocoaError(.fileReadCorruptFile) }
        if let patientID {
            let text = JSONWriter.write(.array(entries), pretty: false).replacingOccurrences(of: "seed-1-admission", with: patientID)
            guard case .array(let replaced) = try JSONParser.parse(Array(text.utf8)) else { throw CocoaError(.fileReadCorruptFile) }
            entries = replaced
        }
        func resources(_ type: String) -> [JSONValue] { entries.filter { $0["resource"]?["resourceType"] == .string(type) } }
        func searchset(_ type: String) -> JSONValue {
            .object(JSONObject([("resourceType", "Bundle"), ("type", "searchset"), ("entry", .array(resources(type)))]))
        }
        let byKey: [(String, JSONValue)] = [
            ("patient", resources("Patient").first!["resource"]!), ("conditions", searchset("Condition")), ("observations", searchset("Observation")),
            ("medications", searchset("MedicationStatement")), ("lesions", searchset("BodyStructure")), ("encounters", searchset("Encounter")),
        ]
        #expect(byKey.map(\.0) == CDSService.prefetch.map(\.key), "the fixture covers every declared prefetch key")
        let sent = byKey.filter { only?.contains($0.0) ?? true }.map { ($0.0, null.contains($0.0) ? JSONValue.null : $0.1) }
        return JSONWriter.write(.object(JSONObject(sent)), pretty: false)
    }

    static func array(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let items)? = value { return items }
        return []
    }

    static func cards(_ reply: TestRegistry.Reply) -> [JSONValue] { array(reply.json["cards"]) }
    /// The cards' source topic codes (alert:HOLD-01, infection-severe, ...).
    static func topics(_ reply: TestRegistry.Reply) -> [String] { cards(reply).compactMap { $0["source"]?["topic"]?["code"]?.stringValue } }

    @Test("Discovery lists the patient-view service with its prefetch templates")
    func discovery() async throws {
        try await Self.withCDS { r, _ in
            let reply = try await r.send(.GET, "/cds-services", as: nil)
            #expect(reply.status == .ok)
            let service = Self.array(reply.json["services"]).first
            #expect(service?["id"] == "calcinosis-assessment")
            #expect(service?["hook"] == "patient-view")
            #expect(service?["prefetch"]?["patient"] == "Patient/{{context.patientId}}")
            #expect(service?["prefetch"]?["observations"]?.stringValue?.hasPrefix("Observation?patient={{context.patientId}}&code=") == true)
            // CORS preflight (CDS Hooks 2.0: browser-based clients such as the CDS Hooks sandbox).
            let preflight = try await r.send(.OPTIONS, Self.servicePath, as: nil,
                                             headers: ["Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "POST"])
            #expect(preflight.headers.first(name: "Access-Control-Allow-Origin") != nil, "\(preflight.status) \(preflight.headers)")
            #expect(preflight.headers.first(name: "Access-Control-Allow-Headers")?.lowercased().contains("authorization") == true)
        }
    }

    @Test("Seed-1 admission from prefetch: a critical infection card and a HOLD-01 warning card, each with summary < 140, source and link")
    func seed1FromPrefetch() async throws {
        try await Self.withCDS { r, client in
            let reply = try await Self.call(r, token: try await client.token(), json: Self.hookRequest(patient: "seed-1-admission", prefetch: try Self.seed1Prefetch()))
            #expect(reply.status == .ok, "\(reply.text)")
            let cards = Self.cards(reply)
            let critical = cards.filter { $0["indicator"] == "critical" }
            #expect(critical.contains { $0["source"]?["topic"]?["code"] == "infection-severe" }, "\(reply.text)")
            #expect(critical.contains { $0["source"]?["topic"]?["code"] == "sepsis-screen" })
            let hold = cards.first { $0["source"]?["topic"]?["code"] == "alert:HOLD-01" }
            #expect(hold?["indicator"] == "warning")
            #expect(cards.first?["indicator"] == "critical", "most urgent first")
            for card in cards {
                #expect((card["summary"]?.stringValue?.count ?? 999) < 140)
                #expect(card["source"]?["label"]?.stringValue?.isEmpty == false)
                #expect(card["detail"]?.stringValue?.isEmpty == false)
            }
            // A FHIR id that is not a registry UUID gets no link to a registry page.
            #expect(cards.allSatisfy { $0["links"] == nil })
        }
    }

    @Test("Without prefetch the registry's record is assessed, linked and the read audited; neither answers 412")
    func registryFallbackAnd412() async throws {
        try await Self.withCDS { r, client in
            let patient = try await r.createPatient()
            let lesion = try await r.send(.POST, "/api/v1/patients/\(patient)/lesions", as: "clinA",
                                          json: #"{"label": "thigh", "site": "thigh", "laterality": "right", "findings": {"purulent": true, "erythema": true}}"#)
            #expect(lesion.status == .created, "\(lesion.text)")
            _ = try await r.send(.POST, "/api/v1/patients/\(patient)/vitals", as: "clinA", json: #"{"date": "2026-11-20", "temperatureC": 38.6, "heartRate": 104}"#)
            _ = try await r.send(.POST, "/api/v1/patients/\(patient)/medications", as: "clinA",
                                 json: #"{"drug": "mycophenolate", "doseMg": 500, "frequency": "bid", "route": "oral", "start": "2020-01-01"}"#)
            let reply = try await Self.call(r, token: try await client.token(), json: Self.hookRequest(patient: patient))
            #expect(reply.status == .ok, "\(reply.text)")
            let cards = Self.cards(reply)
            #expect(cards.contains { $0["indicator"] == "critical" && $0["source"]?["topic"]?["code"] == "infection-severe" }, "\(reply.text)")
            #expect(cards.contains { $0["source"]?["topic"]?["code"] == "alert:HOLD-01" })
            #expect(Self.array(cards.first?["links"]).first?["url"] == .string("\(Self.base)/patients/\(patient)"))
            let audit = try await AuditEntry.query(on: r.app.db).filter(\.$action == "assess").all()
            #expect(audit.contains { $0.patientID == patient && $0.actor == "cds:\(Self.issuer)/client-1" })

            let missing = try await Self.call(r, token: try await client.token(), json: Self.hookRequest(patient: UUID().uuidString.lowercased()))
            #expect(missing.status == .preconditionFailed, "\(missing.text)")
            let notUUID = try await Self.call(r, token: try await client.token(), json: Self.hookRequest(patient: "abc"))
            #expect(notUUID.status == .preconditionFailed)
        }
    }

    @Test("Feedback is recorded in the audit log against the card's patient")
    func feedback() async throws {
        try await Self.withCDS { r, client in
            let patient = try await r.createPatient()
            let reply = try await Self.call(r, token: try await client.token(), json: Self.hookRequest(patient: patient))
            let card = Self.cards(reply).first?["uuid"]?.stringValue ?? ""
            #expect(!card.isEmpty, "a patient without visits gets at least the follow-up card: \(reply.text)")
            let feedback = try await Self.call(r, Self.servicePath + "/feedback", token: try await client.token(aud: Self.base + Self.servicePath + "/feedback"), json: """
                {"feedback": [{"card": "\(card)", "outcome": "overridden", "overrideReason": {"reason": {"code": "not-applicable"}, "userComment": "Jane said so"},
                               "outcomeTimestamp": "2026-11-24T10:00:00Z"}]}
                """)
            #expect(feedback.status == .ok, "\(feedback.text)")
            let entries = try await AuditEntry.query(on: r.app.db).filter(\.$action == "cds-feedback").all()
            #expect(entries.count == 1)
            #expect(entries.first?.patientID == patient)
            #expect(entries.first?.resourceID == card)
            #expect(entries.first?.detail.contains("overridden") == true)
            #expect(entries.first?.detail.contains("Jane") == false, "free-text comments are not copied into the log")
            let bad = try await Self.call(r, Self.servicePath + "/feedback", token: try await client.token(aud: Self.base + Self.servicePath + "/feedback"),
                                          json: #"{"feedback": [{"card": "x", "outcome": "maybe", "outcomeTimestamp": "2026-11-24T10:00:00Z"}]}"#)
            #expect(bad.status == .badRequest)
        }
    }

    @Test("Feedback refuses an override reason the cards never offer and ids with line breaks (400, naming them); nothing is audited")
    func feedbackRefusesForgedText() async throws {
        try await Self.withCDS { r, client in
            let patient = try await r.createPatient()
            let card = Self.cards(try await Self.call(r, token: try await client.token(), json: Self.hookRequest(patient: patient))).first?["uuid"]?.stringValue ?? ""
            func send(_ item: String) async throws -> TestRegistry.Reply {
                try await Self.call(r, Self.servicePath + "/feedback", token: try await client.token(aud: Self.base + Self.servicePath + "/feedback"),
                                    json: #"{"feedback": [\#(item)]}"#)
            }
            let forgedCode = try await send(#"{"card": "\#(card)", "outcome": "overridden", "overrideReason": {"reason": {"code": "../../x\nINJECT"}}, "outcomeTimestamp": "2026-11-24T10:00:00Z"}"#)
            #expect(forgedCode.status == .badRequest, "\(forgedCode.text)")
            #expect(forgedCode.text.contains("is not one of the card's overrideReasons (already-managed, benefit-outweighs-risk, not-applicable, patient-declined)"),
                    "\(forgedCode.text)")
            let otherSystem = try await send(#"{"card": "\#(card)", "outcome": "overridden", "overrideReason": {"reason": {"system": "http://x", "code": "not-applicable"}}, "outcomeTimestamp": "2026-11-24T10:00:00Z"}"#)
            #expect(otherSystem.status == .badRequest, "\(otherSystem.text)")
            let forgedCard = try await send(#"{"card": "\#(card)\nINJECT", "outcome": "accepted", "outcomeTimestamp": "2026-11-24T10:00:00Z"}"#)
            #expect(forgedCard.status == .badRequest && forgedCard.text.contains("feedback[0].card"), "\(forgedCard.text)")
            let forgedSuggestion = try await send(#"{"card": "\#(card)", "outcome": "accepted", "acceptedSuggestions": [{"id": "a\u0000b"}], "outcomeTimestamp": "2026-11-24T10:00:00Z"}"#)
            #expect(forgedSuggestion.status == .badRequest && forgedSuggestion.text.contains("acceptedSuggestions[0].id"), "\(forgedSuggestion.text)")
            #expect(try await AuditEntry.query(on: r.app.db).filter(\.$action == "cds-feedback").count() == 0)
            let offered = try await send(#"{"card": "\#(card)", "outcome": "overridden", "overrideReason": {"reason": {"system": "https://calcitrack.org/fhir/CodeSystem/cds-override-reason", "code": "patient-declined"}}, "outcomeTimestamp": "2026-11-24T10:00:00Z"}"#)
            #expect(offered.status == .ok, "\(offered.text)")
            let entries = try await AuditEntry.query(on: r.app.db).filter(\.$action == "cds-feedback").all()
            #expect(entries.count == 1 && entries.first?.detail.contains("override reason: patient-declined") == true, "\(entries.map(\.detail))")
        }
    }

    @Test("Tokens: valid ES384 accepted; missing, expired, wrong audience, unknown issuer, replayed, HMAC-signed and alg none refused with 401")
    func authentication() async throws {
        try await Self.withCDS { r, client in
            let body = Self.hookRequest(patient: "seed-1-admission", prefetch: try Self.seed1Prefetch())
            #expect(try await Self.call(r, token: try await client.token(), json: body).status == .ok)

            #expect(try await Self.call(r, token: nil, json: body).status == .unauthorized)
            let expired = try await Self.call(r, token: try await client.token(exp: Date().addingTimeInterval(-60), iat: Date().addingTimeInterval(-360)), json: body)
            #expect(expired.status == .unauthorized)
            #expect(expired.text.contains("expired"), "\(expired.text)")
            let wrongAudience = try await Self.call(r, token: try await client.token(aud: "https://other.example.org/cds-services/calcinosis-assessment"), json: body)
            #expect(wrongAudience.status == .unauthorized)
            #expect(wrongAudience.text.contains("audience"))
            #expect(try await Self.call(r, token: try await client.token(iss: "https://evil.example.org"), json: body).status == .unauthorized)
            #expect(try await Self.call(r, token: try await client.token(iat: Date().addingTimeInterval(3600)), json: body).status == .unauthorized)

            let reused = try await client.token()
            #expect(try await Self.call(r, token: reused, json: body).status == .ok)
            let replay = try await Self.call(r, token: reused, json: body)
            #expect(replay.status == .unauthorized)
            #expect(replay.text.contains("replay"))

            // HMAC with the same kid: refused on the algorithm before any key is used.
            let hmac = JWTKeyCollection()
            await hmac.add(hmac: HMACKey(from: String(repeating: "shared-secret-", count: 4)), digestAlgorithm: .sha384, kid: JWKIdentifier(string: client.kid))
            let hmacToken = try await hmac.sign(CDSClientClaims(iss: .init(value: Self.issuer), sub: "client-1",
                                                                aud: .init(value: [Self.base + Self.servicePath]), exp: .init(value: Date().addingTimeInterval(300)),
                                                                iat: .init(value: Date()), jti: .init(value: UUID().uuidString)), kid: JWKIdentifier(string: client.kid))
            let hmacReply = try await Self.call(r, token: hmacToken, json: body)
            #expect(hmacReply.status == .unauthorized)
            #expect(hmacReply.text.contains("HS384"), "\(hmacReply.text)")

            // alg none: a valid token's payload with an unsigned header.
            let valid = try await client.token().split(separator: ".")
            func b64(_ s: String) -> String {
                Data(s.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            }
            let none = b64(#"{"alg":"none","typ":"JWT","kid":"\#(client.kid)"}"#) + "." + valid[1] + "."
            #expect(try await Self.call(r, token: none, json: body).status == .unauthorized)
            // The ES384 signature under a header that claims RS384 (algorithm confusion).
            let confused = b64(#"{"alg":"RS384","typ":"JWT","kid":"\#(client.kid)"}"#) + "." + valid[1] + "." + valid[2]
            #expect(try await Self.call(r, token: confused, json: body).status == .unauthorized)
        }
    }

    @Test("An RS384 token of a trusted RSA key is accepted; the same key's RS256 token is refused")
    func rs384() async throws {
        try await TestRegistry.run { r in
            let key = try Insecure.RSA.PrivateKey(backing: try _RSA.Signing.PrivateKey(keySize: .bits2048))
            let (n, e) = try key.publicKey.getKeyPrimitives()
            func b64(_ d: Data) -> String {
                d.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            }
            let jwks = #"{"\#(Self.issuer)": {"jwks": {"keys": [{"kty": "RSA", "kid": "rsa-1", "n": "\#(b64(n))", "e": "\#(b64(e))"}]}}}"#
            r.app.cdsHooks = CDSHooksSettings(authRequired: true, issuers: try await CDSHooksSettings.parseIssuers(Array(jwks.utf8)), publicBaseURL: Self.base)
            func token(_ digest: DigestAlgorithm) async throws -> String {
                let keys = JWTKeyCollection()
                await keys.add(rsa: key, digestAlgorithm: digest, kid: "rsa-1")
                return try await keys.sign(CDSClientClaims(iss: .init(value: Self.issuer), sub: "c", aud: .init(value: [Self.base + Self.servicePath]),
                                                           exp: .init(value: Date().addingTimeInterval(300)), iat: .init(value: Date()), jti: .init(value: UUID().uuidString)),
                                           kid: "rsa-1")
            }
            let body = Self.hookRequest(patient: "seed-1-admission", prefetch: try Self.seed1Prefetch())
            #expect(try await Self.call(r, token: try await token(.sha384), json: body).status == .ok)
            #expect(try await Self.call(r, token: try await token(.sha256), json: body).status == .unauthorized)
        }
    }

    @Test("Issuer configuration refuses symmetric keys, private keys and other curves")
    func issuerConfiguration() async throws {
        let oct = #"{"iss": {"jwks": {"keys": [{"kty": "oct", "kid": "k", "k": "c2VjcmV0"}]}}}"#
        await #expect(throws: CDSHooksSettings.ConfigurationError.self) { try await CDSHooksSettings.parseIssuers(Array(oct.utf8)) }
        let p256 = ES256PrivateKey().publicKey.parameters!
        let curve = #"{"iss": {"jwks": {"keys": [{"kty": "EC", "crv": "P-256", "kid": "k", "x": "\#(p256.x)", "y": "\#(p256.y)"}]}}}"#
        await #expect(throws: CDSHooksSettings.ConfigurationError.self) { try await CDSHooksSettings.parseIssuers(Array(curve.utf8)) }
        let privateKey = ES384PrivateKey()
        let p384 = privateKey.publicKey.parameters!
        let withPrivate = #"{"iss": {"jwks": {"keys": [{"kty": "EC", "crv": "P-384", "kid": "k", "x": "\#(p384.x)", "y": "\#(p384.y)", "d": "AAAA"}]}}}"#
        await #expect(throws: CDSHooksSettings.ConfigurationError.self) { try await CDSHooksSettings.parseIssuers(Array(withPrivate.utf8)) }
        let good = #"{"iss": {"jwks": {"keys": [{"kty": "EC", "crv": "P-384", "kid": "k", "x": "\#(p384.x)", "y": "\#(p384.y)"}]}}}"#
        #expect(try await CDSHooksSettings.parseIssuers(Array(good.utf8))["iss"]?.keys["k"]?.algorithm == "ES384")
        let noKid = #"{"iss": {"jwks": {"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}}}"#
        await #expect(throws: CDSHooksSettings.ConfigurationError.self) { try await CDSHooksSettings.parseIssuers(Array(noKid.utf8)) }
    }

    @Test("CALCITRACK_CDS_AUTH=off (authRequired false) accepts calls without a token")
    func authOff() async throws {
        try await TestRegistry.run { r in
            r.app.cdsHooks = CDSHooksSettings(authRequired: false, issuers: [:], publicBaseURL: Self.base)
            let reply = try await Self.call(r, token: nil, json: Self.hookRequest(patient: "seed-1-admission", prefetch: try Self.seed1Prefetch()))
            #expect(reply.status == .ok)
            r.app.cdsHooks = CDSHooksSettings(authRequired: true, issuers: [:], publicBaseURL: Self.base)
            #expect(try await Self.call(r, token: nil, json: Self.hookRequest(patient: "seed-1-admission")).status == .unauthorized)
        }
    }
}
