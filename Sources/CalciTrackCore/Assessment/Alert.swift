/// One medication-safety or workflow alert. `id` is a fixed rule id (case-format.md).
public struct Alert: Sendable, Equatable {
    public enum Level: String, Sendable, Comparable {
        case high, moderate, info
        private var rank: Int { self == .high ? 0 : self == .moderate ? 1 : 2 }
        public static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
    }

    /// The fields, kept together behind one immutable shared reference: the assessor collects,
    /// moves and sorts alerts, and copying one then costs one retain rather than one per field.
    /// A change through a setter gives the alert fields of its own.
    struct Fields: Sendable, Equatable {
        var id: String
        var level: Level
        var message: DeferredText
        var action: DeferredText?
        var drugs: [String]
        var proposed: Bool
        var basis: AlertBasis
        var sources: [String]
        var tag: Verification
    }

    final class Storage: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var storage: Storage
    private var fields: Fields {
        get { storage.fields }
        set { storage = Storage(newValue) }
    }

    public var id: String { get { fields.id } set { fields.id = newValue } }
    public var level: Level { get { fields.level } set { fields.level = newValue } }
    /// Written when read where it names the patient's drugs: see `Deferred`.
    public var message: String { get { fields.message.text } set { fields.message = DeferredText(newValue) } }
    public var action: String? { get { fields.action?.text } set { fields.action = newValue.map(DeferredText.init) } }
    public var drugs: [String] { get { fields.drugs } set { fields.drugs = newValue } }
    /// True when it fired only because of a proposed empiric antibiotic, not an active one.
    public var proposed: Bool { get { fields.proposed } set { fields.proposed = newValue } }
    /// Why it fired, as text. Written when read: see `AlertBasis`.
    public var basis: String { get { fields.basis.text } set { fields.basis = .text(newValue) } }
    public var sources: [String] { get { fields.sources } set { fields.sources = newValue } }
    public var tag: Verification { get { fields.tag } set { fields.tag = newValue } }

    init(id: String, level: Level, message: DeferredText, action: DeferredText?, drugs: [String], proposed: Bool, basis: AlertBasis,
         sources: [String], tag: Verification) {
        storage = Storage(Fields(id: id, level: level, message: message, action: action, drugs: drugs, proposed: proposed, basis: basis,
                                 sources: sources, tag: tag))
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

    public static func == (a: Alert, b: Alert) -> Bool { a.storage === b.storage || a.fields == b.fields }
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
