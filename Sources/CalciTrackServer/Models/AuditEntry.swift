import Fluent
import Foundation

/// One entry of the append-only, hash-chained audit log: who did what to which record, when and
/// from where. `hash` = SHA-256 over the entry's fields and the previous entry's hash, so editing
/// or removing an entry breaks the chain at that entry (`calcitrack audit verify`).
final class AuditEntry: Model, @unchecked Sendable {
    static let schema = "audit_entries"
    @ID(custom: "seq", generatedBy: .user) var id: Int?
    @Field(key: "at") var at: String
    @Field(key: "actor") var actor: String
    @Field(key: "role") var role: String
    @Field(key: "action") var action: String
    @Field(key: "resource_type") var resourceType: String
    @OptionalField(key: "resource_id") var resourceID: String?
    @OptionalField(key: "patient_id") var patientID: String?
    @OptionalField(key: "ip") var ip: String?
    @Field(key: "detail") var detail: String
    @Field(key: "prev_hash") var prevHash: String
    @Field(key: "hash") var hash: String

    init() {}

    /// Listed instead of found by reflection (see `Patient.properties`): every request appends entries.
    var properties: [any AnyProperty] {
        [$id, $at, $actor, $role, $action, $resourceType, $resourceID, $patientID, $ip, $detail, $prevHash, $hash]
    }

    /// The text the hash covers, fields separated by a unit separator that no field may hold.
    var hashedText: String {
        Self.hashedText(seq: id ?? 0, at: at, actor: actor, role: role, action: action, resourceType: resourceType,
                        resourceID: resourceID, patientID: patientID, ip: ip, detail: detail, prevHash: prevHash)
    }

    /// `hashedText` of an entry not (yet) a model: `AuditLog.append` chains thousands per import
    /// chunk, and building a Fluent model for each was most of its cost.
    static func hashedText(seq: Int, at: String, actor: String, role: String, action: String, resourceType: String,
                           resourceID: String?, patientID: String?, ip: String?, detail: String, prevHash: String) -> String {
        [String(seq), at, actor, role, action, resourceType, resourceID ?? "", patientID ?? "", ip ?? "", detail, prevHash]
            .joined(separator: "\u{1F}")
    }
}

/// The newest entry's sequence number and hash. Every write transaction updates this row
/// first, which serialises appends on both SQLite and PostgreSQL.
final class AuditHead: Model, @unchecked Sendable {
    static let schema = "audit_head"
    @ID(custom: "id", generatedBy: .user) var id: Int?
    @Field(key: "seq") var seq: Int
    @Field(key: "hash") var hash: String
    init() {}

    /// Listed instead of found by reflection (see `Patient.properties`): read by every audit batch.
    var properties: [any AnyProperty] { [$id, $seq, $hash] }
}
