import CalciTrackCore
import Foundation
import JWTKit
import NIOConcurrencyHelpers
import Vapor

/// The claims of a CDS Hooks 2.0 client JWT ("Trusting CDS Clients"): iss, sub, aud, exp, iat,
/// jti (all required here), nbf (RFC 7519 §4.1.5) and tenant (optional).
struct CDSClientClaims: JWTPayload {
    var iss: IssuerClaim
    var sub: SubjectClaim?
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var jti: IDClaim
    var nbf: NotBeforeClaim?
    var tenant: String?

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// The caller a verified token names.
struct CDSCaller: Sendable {
    let issuer: String
    let subject: String?
    var auditActor: AuditActor { AuditActor(username: "cds:" + issuer + (subject.map { "/" + $0 } ?? ""), role: "cds-client", ip: nil) }
}

/// Verifies the bearer JWT of a CDS Hooks call. The header's `alg` must be ES384 or RS384 and
/// match the key its `kid` names in the issuer's configured JWKS (so `none`, HMAC and algorithm
/// confusion are refused before any signature check); then the required claims' presence,
/// signature, `exp`, `iat` (not in the future), `nbf` (when given: not in the future), `aud` (the
/// service's URL) and `jti` (present, never seen before while the token is valid: replay) are
/// checked. Every refusal is a 401 naming the reason (`CDSAuthenticationRefusal`).
final class CDSCallerAuthentication: Sendable {
    /// jti (with its issuer) → the token's expiry; expired entries are never a replay and are
    /// pruned once the map doubles since the last pruning (pruning whenever it held over 50,000
    /// meant a pass over all of them on every call while that many tokens were valid).
    private let seen = NIOLockedValueBox<(tokens: [String: Date], pruneAbove: Int)>(([:], 50_000))

    func verify(_ req: Request, settings: CDSHooksSettings, audience: String, now: Date = Date()) async throws -> CDSCaller {
        guard let token = Self.bearerToken(req.headers) else {
            throw CDSAuthenticationRefusal(reason: Self.reasonPrefix + "a bearer JWT is required (Authorization: Bearer <jwt>)", hadToken: false)
        }
        // Split as bytes: splitting the ~700-character token by Characters cost more than its JSON.
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Self.base64URL(parts[0]), let payloadBytes = Self.base64URL(parts[1]),
              case .object(let header)? = try? JSONParser.parse(headerBytes), case .object(let unverified)? = try? JSONParser.parse(payloadBytes)
        else { throw Self.refuse("the token is not a JWT (three base64url parts of JSON)") }
        guard case .string(let alg)? = header["alg"], CDSHooksSettings.acceptedAlgorithms.contains(alg) else {
            throw Self.refuse("token algorithm \(Self.text(header["alg"])) is not accepted: ES384 or RS384 only")
        }
        guard case .string(let kid)? = header["kid"] else { throw Self.refuse("the token header has no kid") }
        // Named here: jwt-kit's decoding error for a missing claim is Swift's DecodingError text.
        for claim in Self.requiredClaims where unverified[claim] == nil || unverified[claim] == .null {
            throw Self.refuse("the token has no \(claim) claim")
        }
        guard case .string(let iss)? = unverified["iss"], let issuer = settings.issuers[iss] else {
            throw Self.refuse("issuer \(Self.text(unverified["iss"])) is not trusted")
        }
        guard let key = issuer.keys[kid] else { throw Self.refuse("issuer \(iss) has no key \(kid)") }
        guard key.algorithm == alg else { throw Self.refuse("key \(kid) is an \(key.algorithm) key; the token says \(alg)") }
        let claims: CDSClientClaims
        do {
            claims = try await key.collection.verify(token, as: CDSClientClaims.self)
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw Self.refuse("the token has expired")
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw Self.refuse("the token's signature does not verify with key \(kid)")
        } catch let error as JWTError where error.errorType == .malformedToken {
            // The error's text is Swift's DecodingError: a claim of the wrong type.
            throw Self.refuse("the token's claims cannot be read: iss, sub, jti must be strings, aud a string or array of strings, "
                              + "exp, iat and nbf NumericDates (seconds)")
        } catch {
            throw Self.refuse("the token's signature or claims are invalid")
        }
        guard claims.iat.value.timeIntervalSince(now) <= settings.clockSkew else { throw Self.refuse("the token was issued in the future (iat)") }
        if let nbf = claims.nbf, nbf.value.timeIntervalSince(now) > settings.clockSkew {
            throw Self.refuse("the token is not valid before \(ISOTimestamp.isoMillis(nbf.value)) (nbf)")
        }
        guard claims.aud.value.contains(audience) else {
            throw Self.refuse("the token's audience \(claims.aud.value) is not this service (\(audience))")
        }
        let jti = claims.jti.value
        guard !jti.isEmpty else { throw Self.refuse("the token has no jti claim") }
        let replay = seen.withLockedValue { seen -> Bool in
            if seen.tokens.count > seen.pruneAbove {
                seen.tokens = seen.tokens.filter { $0.value > now }
                seen.pruneAbove = max(50_000, 2 * seen.tokens.count)
            }
            let key = iss + "\u{1F}" + jti
            if let until = seen.tokens[key], until > now { return true }
            seen.tokens[key] = claims.exp.value
            return false
        }
        if replay { throw Self.refuse("token \(jti) was already used (replay)") }
        return CDSCaller(issuer: iss, subject: claims.sub?.value)
    }

    /// The token of `Authorization: Bearer <token>` (scheme case-insensitive), as Vapor's
    /// `bearerAuthorization` reads it, but split as bytes rather than Characters.
    static func bearerToken(_ headers: HTTPHeaders) -> String? {
        guard let value = headers.first(name: .authorization) else { return nil }
        let parts = value.utf8.split(separator: UInt8(ascii: " "))
        guard parts.count == 2, Substring(parts[0]).lowercased() == "bearer" else { return nil }
        return String(Substring(parts[1]))
    }

    /// Claims CDS Hooks 2.0 requires of a client's token, besides `sub` (optional here).
    static let requiredClaims = ["iss", "aud", "exp", "iat", "jti"]

    static let reasonPrefix = "CDS Hooks authentication failed: "

    /// A refusal of a token the request carried.
    static func refuse(_ reason: String) -> CDSAuthenticationRefusal { CDSAuthenticationRefusal(reason: reasonPrefix + reason, hadToken: true) }

    private static func text(_ value: JSONValue?) -> String {
        value.map { JSONWriter.write($0, pretty: false) } ?? "(none)"
    }

    /// base64url (RFC 4648 §5; JWS leaves out the padding) → bytes, nil for a character outside
    /// the alphabet or a length no encoder writes. Decoded byte by byte: the Foundation string
    /// round trip it replaces cost more than parsing the token's JSON (BENCHMARKS.md, CDS Hooks).
    /// Like that round trip it also takes `+`, `/` and trailing `=`: jwt-kit decides on the token.
    static func base64URL(_ text: Substring.UTF8View) -> [UInt8]? {
        var utf8 = text
        while utf8.last == UInt8(ascii: "=") { utf8 = utf8.dropLast() }
        guard utf8.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for c in utf8 {
            let sextet: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): sextet = c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): sextet = c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): sextet = c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"), UInt8(ascii: "+"): sextet = 62
            case UInt8(ascii: "_"), UInt8(ascii: "/"): sextet = 63
            default: return nil
            }
            accumulator = (accumulator << 6) | UInt32(sextet)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        return out
    }
}

private struct CDSCallerAuthenticationKey: StorageKey { typealias Value = CDSCallerAuthentication }

extension Application {
    var cdsCallerAuthentication: CDSCallerAuthentication {
        if let existing = storage[CDSCallerAuthenticationKey.self] { return existing }
        let created = CDSCallerAuthentication()
        storage[CDSCallerAuthenticationKey.self] = created
        return created
    }
}
