/// One medication-safety or workflow alert. `id` is a fixed rule id (case-format.md).
public struct Alert: Sendable, Equatable {
    public enum Level: String, Sendable, Comparable {
        case high, moderate, info
        private var rank: Int { self == .high ? 0 : self == .moderate ? 1 : 2 }
        public static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
    }

    public var id: String
    public var level: Level
    public var message: String
    public var action: String?
    public var drugs: [String]
    /// True when it fired only because of a proposed empiric antibiotic, not an active one.
    public var proposed: Bool
    public var basis: String
    public var sources: [String]
    public var tag: Verification

    /// The citation text of the fixed `source` key.
    public var source: String { Sources.shortText(sources) }
}
