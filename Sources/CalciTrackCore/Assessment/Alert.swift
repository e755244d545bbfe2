/// One medication-safety or workflow alert. `id` is a fixed rule id (case-format.md).
public struct Alert: Sendable, Equatable {
    public enum Level: String, Sendable, Comparable {
        case high, moderate, info
        private var rank: Int { self == .high ? 0 : self == .moderate ? 1 : 2 }
        public static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
    }

    public var id: String
    public var level: Level
    /// Written when read where it names the patient's drugs: see `DeferredText`.
    public var message: String {
        get { messageText.text }
        set { messageText = DeferredText(newValue) }
    }
    public var action: String? {
        get { actionText?.text }
        set { actionText = newValue.map(DeferredText.init) }
    }
    public var drugs: [String]
    /// True when it fired only because of a proposed empiric antibiotic, not an active one.
    public var proposed: Bool
    /// Why it fired, as text. Written when read: see `AlertBasis`.
    public var basis: String {
        get { basisData.text }
        set { basisData = .text(newValue) }
    }
    var messageText: DeferredText
    var actionText: DeferredText?
    var basisData: AlertBasis
    public var sources: [String]
    public var tag: Verification

    init(id: String, level: Level, message: DeferredText, action: DeferredText?, drugs: [String], proposed: Bool, basis: AlertBasis,
         sources: [String], tag: Verification) {
        self.id = id; self.level = level; self.messageText = message; self.actionText = action; self.drugs = drugs
        self.proposed = proposed; self.basisData = basis; self.sources = sources; self.tag = tag
    }

    init(id: String, level: Level, message: String, action: String?, drugs: [String], proposed: Bool, basis: AlertBasis,
         sources: [String], tag: Verification) {
        self.init(id: id, level: level, message: DeferredText(message), action: action.map(DeferredText.init), drugs: drugs,
                  proposed: proposed, basis: basis, sources: sources, tag: tag)
    }

    init(id: String, level: Level, message: String, action: String?, drugs: [String], proposed: Bool, basis: String,
         sources: [String], tag: Verification) {
        self.init(id: id, level: level, message: message, action: action, drugs: drugs, proposed: proposed, basis: .text(basis),
                  sources: sources, tag: tag)
    }

    /// The citation text of the fixed `source` key.
    public var source: String { Sources.shortText(sources) }
}

/// An alert's basis as the rule found it. Interaction rules keep the matched drug records and
/// write "warfarin 2.5 mg daily oral since 2020-01-01 with ..." only when the text is read (JSON,
/// text report); other rules keep a `DeferredText`. Equal when the texts are.
enum AlertBasis: Sendable, Equatable {
    case text(String)
    case deferred(DeferredText)
    case interaction(Interactions.Hit, candidates: [Interactions.Candidate])

    var text: String {
        switch self {
        case .text(let text): text
        case .deferred(let text): text.text
        case .interaction(let hit, let candidates): hit.basis(candidates)
        }
    }

    static func == (a: AlertBasis, b: AlertBasis) -> Bool { a.text == b.text }
}
