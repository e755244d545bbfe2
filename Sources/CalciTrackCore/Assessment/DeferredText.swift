/// A text of the assessment that is written when it is read, not while assessing: an assessment
/// nobody prints (the API's status checks, the benchmark) then costs no string building, and
/// one that is printed shows exactly the same text. The closure captures the values the rule
/// judged on (never the whole case), so the text is a pure function of them. Equal when the
/// texts are.
struct DeferredText: Sendable, Equatable {
    private enum Storage: Sendable {
        case text(String)
        case written(@Sendable () -> String)
    }
    private let storage: Storage

    init(_ text: String) { storage = .text(text) }
    /// `write` runs each time the text is read.
    init(written write: @escaping @Sendable () -> String) { storage = .written(write) }

    var text: String {
        switch storage {
        case .text(let text): text
        case .written(let write): write()
        }
    }

    static func == (a: DeferredText, b: DeferredText) -> Bool { a.text == b.text }
}
