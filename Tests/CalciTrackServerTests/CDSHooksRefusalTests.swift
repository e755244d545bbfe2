@testable import CalciTrackServer
import CalciTrackCore
import Foundation
import JWTKit
import Testing
import VaporTesting

/// How /cds-services refuses: `nbf` honoured (RFC 7519 §4.1.5), a missing claim named in plain
/// words, every 401 with a `WWW-Authenticate` challenge (RFC 9110 §15.5.2, RFC 6750 §3), and CORS
/// headers on errors as on cards, so a browser-based client can read the reason.
@Suite(.serialized) struct CDSHooksRefusalTests {
    static let origin = "https://sandbox.cds-hooks.org"

    /// A token payload whose claims may each be left out.
    struct PartialClaims: JWTPayload {
        var iss: IssuerClaim?
        var sub: SubjectClaim?
        var aud: AudienceClaim?
        var exp: ExpirationClaim?
        var iat: IssuedAtClaim?
        var jti: IDClaim?
        func verify(using algorithm: some JWTAlgorithm) async throws {}

        static func complete() -> PartialClaims {
            PartialClaims(iss: .init(value: CDSHooksTests.issuer), sub: "client-1", aud: .init(value: [CDSHooksTests.base + CDSHooksTests.servicePath]),
                          exp: .init(value: Date().addingTimeInterval(300)), iat: .init(value: Date()), jti: .init(value: UUID().uuidString))
        }
    }

    /// A token whose `exp` is a string, not a NumericDate.
    struct TextExpiryClaims: JWTPayload {
        var iss = CDSHooksTests.issuer
        var aud = CDSHooksTests.base + CDSHooksTests.servicePath
        var exp = "tomorrow"
        var iat = Int(Date().timeIntervalSince1970)
        var jti = UUID().uuidString
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func body() throws -> String { CDSHooksTests.hookRequest(patient: "seed-1-admission", prefetch: try CDSHooksTests.seed1Prefetch()) }

    @Test("nbf: a token not valid for another hour is refused; one within the clock skew, or already valid, is accepted")
    func notBefore() async throws {
        try await CDSHooksTests.withCDS { r, client in
            let early = try await CDSHooksTests.call(r, token: try await client.token(nbf: Date().addingTimeInterval(3600)), json: try Self.body())
            #expect(early.status == .unauthorized, "\(early.text)")
            #expect(early.text.contains("nbf"), "\(early.text)")
            #expect(try await CDSHooksTests.call(r, token: try await client.token(nbf: Date().addingTimeInterval(30)), json: try Self.body()).status == .ok)
            #expect(try await CDSHooksTests.call(r, token: try await client.token(nbf: Date().addingTimeInterval(-60)), json: try Self.body()).status == .ok)
        }
    }

    @Test("A token without iss, aud, exp, iat or jti is refused naming the claim, with no Swift error text")
    func missingClaims() async throws {
        try await CDSHooksTests.withCDS { r, client in
            for claim in ["iss", "aud", "exp", "iat", "jti"] {
                var claims = PartialClaims.complete()
                switch claim {
                case "iss": claims.iss = nil
                case "aud": claims.aud = nil
                case "exp": claims.exp = nil
                case "iat": claims.iat = nil
                default: claims.jti = nil
                }
                let reply = try await CDSHooksTests.call(r, token: try await client.sign(claims), json: try Self.body())
                #expect(reply.status == .unauthorized, "\(claim): \(reply.text)")
                #expect(reply["error"]?["reason"] == .string("CDS Hooks authentication failed: the token has no \(claim) claim"), "\(claim): \(reply.text)")
            }
            let complete = try await CDSHooksTests.call(r, token: try await client.sign(PartialClaims.complete()), json: try Self.body())
            #expect(complete.status == .ok, "the same payload with every claim is accepted: \(complete.text)")
            let mistyped = try await CDSHooksTests.call(r, token: try await client.sign(TextExpiryClaims()), json: try Self.body())
            #expect(mistyped.status == .unauthorized)
            #expect(!mistyped.text.contains("Error") && !mistyped.text.contains("keyNotFound") && mistyped.text.contains("NumericDate"), "\(mistyped.text)")
        }
    }

    @Test("Every 401 carries WWW-Authenticate: Bearer without a token, error=\"invalid_token\" with the reason for a refused one")
    func wwwAuthenticate() async throws {
        try await CDSHooksTests.withCDS { r, client in
            let none = try await CDSHooksTests.call(r, token: nil, json: try Self.body())
            #expect(none.status == .unauthorized)
            #expect(none.headers.first(name: "WWW-Authenticate") == "Bearer", "\(none.headers)")
            let expired = try await CDSHooksTests.call(r, token: try await client.token(exp: Date().addingTimeInterval(-60), iat: Date().addingTimeInterval(-360)),
                                                       json: try Self.body())
            #expect(expired.status == .unauthorized)
            #expect(expired.headers.first(name: "WWW-Authenticate")
                        == #"Bearer error="invalid_token", error_description="CDS Hooks authentication failed: the token has expired""#, "\(expired.headers)")
            // The untrusted issuer is quoted in the reason; the header keeps RFC 6750's characters only.
            let evil = try await CDSHooksTests.call(r, token: try await client.token(iss: "https://evil.example.org/\"x\"\n\u{e9}"), json: try Self.body())
            let challenge = evil.headers.first(name: "WWW-Authenticate") ?? ""
            #expect(challenge.hasPrefix(#"Bearer error="invalid_token", error_description=""#), "\(challenge)")
            let description = challenge.dropFirst(#"Bearer error="invalid_token", error_description=""#.count).dropLast()
            #expect(!description.isEmpty && description.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) && $0 != "\"" && $0 != "\\" }, "\(challenge)")
            #expect(CDSAuthenticationRefusal.quotable("a\"b\\c\nd\u{e9}") == "a'b?c?d?")
        }
    }

    @Test("Refusals (401, 400, 412) carry the CORS headers the cards carry; preflight too")
    func corsOnErrors() async throws {
        try await CDSHooksTests.withCDS { r, client in
            func post(_ token: String?, _ json: String) async throws -> TestRegistry.Reply {
                var headers: HTTPHeaders = ["Origin": Self.origin]
                if let token { headers.bearerAuthorization = BearerAuthorization(token: token) }
                return try await r.send(.POST, CDSHooksTests.servicePath, as: nil, json: json, headers: headers)
            }
            let unauthorized = try await post(nil, try Self.body())
            let badRequest = try await post(try await client.token(), #"{"hook": "patient-view"}"#)
            let precondition = try await post(try await client.token(), CDSHooksTests.hookRequest(patient: UUID().uuidString))
            let ok = try await post(try await client.token(), try Self.body())
            for (reply, status) in [(unauthorized, HTTPStatus.unauthorized), (badRequest, .badRequest), (precondition, .preconditionFailed), (ok, .ok)] {
                #expect(reply.status == status, "\(reply.text)")
                #expect(reply.headers.first(name: "Access-Control-Allow-Origin") == "*", "\(status): \(reply.headers)")
            }
            #expect(unauthorized.headers.first(name: "Access-Control-Expose-Headers")?.lowercased().contains("www-authenticate") == true,
                    "a browser client may read the challenge: \(unauthorized.headers)")
            let preflight = try await r.send(.OPTIONS, CDSHooksTests.servicePath + "/feedback", as: nil,
                                             headers: ["Origin": Self.origin, "Access-Control-Request-Method": "POST"])
            #expect(preflight.headers.first(name: "Access-Control-Allow-Origin") == "*", "\(preflight.headers)")
            // Registry routes are not CDS Hooks and get no CORS headers.
            let api = try await r.send(.GET, "/api/v1/patients", as: nil, headers: ["Origin": Self.origin])
            #expect(api.headers.first(name: "Access-Control-Allow-Origin") == nil)
        }
    }
}
