import Fluent
import Foundation

/// A clinic or hospital site of the registry. Clinicians see the patients of their sites.
final class Site: Model, @unchecked Sendable {
    static let schema = "sites"
    @ID(key: .id) var id: UUID?
    @Field(key: "code") var code: String
    @Field(key: "name") var name: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}
    init(id: UUID? = nil, code: String, name: String) { self.id = id; self.code = code; self.name = name }
}
