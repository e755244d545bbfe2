import Fluent
import Vapor

/// A bearer token for scripts. Only the SHA-256 of the token is stored; the token itself is
/// printed once by `calcitrack token issue`. Revoked tokens stay for the audit trail.
final class APIToken: Model, @unchecked Sendable {
    static let schema = "api_tokens"
    @ID(key: .id) var id: UUID?
    @Parent(key: "user_id") var user: User
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "label") var label: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @OptionalField(key: "revoked_at") var revokedAt: Date?

    init() {}
    init(userID: UUID, tokenHash: String, label: String) { self.$user.id = userID; self.tokenHash = tokenHash; self.label = label }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// 32 random bytes, URL-safe base64, prefixed so a leaked token is recognisable.
    static func generate() -> String {
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let b64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return "ctk_" + b64
    }
}
