import CalciTrackCore
import Foundation
import JWTKit
import Vapor

/// CDS Hooks caller authentication settings (README "CDS Hooks"), from the environment:
/// - `CALCITRACK_CDS_ISSUERS`: path of a JSON file `{"<iss>": {"jwks": {"keys": [...]}}}`, the
///   trusted CDS clients and their public keys. Only EC P-384 keys (ES384) and RSA keys (RS384)
///   are accepted, each with a `kid`; symmetric (`oct`) keys are refused, so HMAC tokens cannot verify.
/// - `CALCITRACK_CDS_AUTH=off`: no caller authentication, for local testing only (logged as a
///   warning at startup and on every call while off).
/// - `CALCITRACK_PUBLIC_URL`: the server's public base URL (e.g. https://calcitrack.example.org).
///   A token's `aud` must be `<base>/cds-services/<service id>`; card links use it too. Without
///   it the base is taken from the request's Host header (a startup warning says so).
struct CDSHooksSettings: Sendable {
    var authRequired: Bool
    var issuers: [String: TrustedIssuer]
    var publicBaseURL: String?
    /// Largest accepted clock difference for `iat` in the future.
    var clockSkew: TimeInterval = 60

    struct TrustedIssuer: Sendable {
        /// By `kid`: the key's one algorithm and a collection holding that key alone.
        var keys: [String: TrustedKey]
    }

    struct TrustedKey: Sendable {
        var algorithm: String
        /// The same key in several collections: `JWTKeyCollection` is an actor, so one collection
        /// would verify every call's signature in turn; calls pick one at random.
        var collections: [JWTKeyCollection]
        var collection: JWTKeyCollection { collections.randomElement()! }
    }

    struct ConfigurationError: Error, CustomStringConvertible {
        let description: String
    }

    static let acceptedAlgorithms: Set<String> = ["ES384", "RS384"]
    static let verifiersPerKey = max(2, min(8, System.coreCount * 2))

    static func fromEnvironment(logger: Logger) async throws -> CDSHooksSettings {
        let env = ProcessInfo.processInfo.environment
        let off = env["CALCITRACK_CDS_AUTH"]?.lowercased() == "off"
        var settings = CDSHooksSettings(authRequired: !off, issuers: [:], publicBaseURL: env["CALCITRACK_PUBLIC_URL"].map(trimmed))
        if let path = env["CALCITRACK_CDS_ISSUERS"], !path.isEmpty {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError(description: "CALCITRACK_CDS_ISSUERS: cannot read \(path)")
            }
            settings.issuers = try await parseIssuers(Array(data))
        }
        if off {
            logger.warning("CDS Hooks caller authentication is OFF (CALCITRACK_CDS_AUTH=off): any caller can read assessments at /cds-services. Local testing only.")
        } else if settings.issuers.isEmpty {
            logger.warning("CDS Hooks: no trusted issuers (CALCITRACK_CDS_ISSUERS unset): every /cds-services call will be refused with 401")
        }
        if settings.publicBaseURL == nil {
            logger.warning("CDS Hooks: CALCITRACK_PUBLIC_URL unset: token audiences are checked against the request's Host header")
        }
        return settings
    }

    static func trimmed(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }

    /// `{"<iss>": {"jwks": {"keys": [JWK, ...]}}}` → trusted issuers. Every key must be an EC
    /// P-384 or RSA public key with a `kid`, its `alg` (when given) ES384 or RS384.
    static func parseIssuers(_ bytes: [UInt8]) async throws -> [String: TrustedIssuer] {
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch { throw ConfigurationError(description: "CALCITRACK_CDS_ISSUERS: not valid JSON: \(error)") }
        guard case .object(let root) = json else { throw ConfigurationError(description: "CALCITRACK_CDS_ISSUERS: must be an object of issuers") }
        var issuers: [String: TrustedIssuer] = [:]
        for (iss, entry) in root.entries {
            guard case .array(let keys)? = entry["jwks"]?["keys"] else {
                throw ConfigurationError(description: "CALCITRACK_CDS_ISSUERS: \(iss).jwks.keys is required (a JWK Set)")
            }
            var trusted: [String: TrustedKey] = [:]
            for (i, key) in keys.enumerated() {
                let at = "\(iss).jwks.keys[\(i)]"
                func field(_ name: String) throws -> String {
                    guard case .string(let s)? = key[name], !s.isEmpty else { throw ConfigurationError(description: "CALCITRACK_CDS_ISSUERS: \(at).\(name) is required") }
                    return s
                }
                let kid = try field("kid")
                let alg: String? = if case .string(let a)? = key["alg"] { a } else { nil }
                let collections = (0..<Self.verifiersPerKey).map { _ in JWTKeyCollection() }
                let algorithm: String
                switch try field("kty") {
                case "EC":
                    guard try field("crv") == "P-384", alg == nil || alg == "ES384" else {
                        throw ConfigurationError(description: "CALCITRACK_CDS_ISSUERS: \(at) must be a P-384 key for ES384")
                    }
                    if key["d"] != nil { throw ConfigurationError(description: "CALCITRACK_CDS_ISSUERS: \(at) holds a private key; give the public key only") }
                    let publicKey = try ES384PublicKey(parameters: (x: try field("x"), y: try field("y")))
                    for c in collections { await c.add(ecdsa: publicKey, kid: JWKIdentifier(string: kid)) }
                    algorithm = "ES384"
                case "RSA":
                    guard alg == nil || alg == "RS384" else { throw ConfigurationError(description: "CALCITRACK_CDS_ISSUERS: \(at) alg must be RS384") }
                    if key["d"] != nil { throw ConfigurationError(description: "CALCITRACK_CDS_ISSUERS: \(at) holds a private key; give the public key only") }
                    let publicKey = try Insecure.RSA.PublicKey(modulus: try field("n"), exponent: try field("e"))
                    for c in collections { await c.add(rsa: publicKey, digestAlgorithm: .sha384, kid: JWKIdentifier(string: kid)) }
                    algorithm = "RS384"
                case let other:
                    throw ConfigurationError(description: "CALCITRACK_CDS_ISSUERS: \(at) has kty \(other); only EC P-384 (ES384) and RSA (RS384) keys are accepted (no shared secrets)")
                }
                trusted[kid] = TrustedKey(algorithm: algorithm, collections: collections)
            }
            issuers[iss] = TrustedIssuer(keys: trusted)
        }
        return issuers
    }
}

private struct CDSHooksSettingsKey: StorageKey { typealias Value = CDSHooksSettings }

extension Application {
    /// Set by `configure` from the environment; tests replace it.
    var cdsHooks: CDSHooksSettings {
        get { storage[CDSHooksSettingsKey.self] ?? CDSHooksSettings(authRequired: true, issuers: [:], publicBaseURL: nil) }
        set { storage[CDSHooksSettingsKey.self] = newValue }
    }
}
