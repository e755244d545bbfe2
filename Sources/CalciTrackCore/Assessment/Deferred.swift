/// A value of the assessment (a text, a list of reason texts) that is written when it is read,
/// not while assessing: an assessment nobody prints (the API's status checks, the benchmark)
/// then costs no string building, and one that is printed shows exactly the same text. The
/// closure captures the values the rule judged on (never the whole case), so the result is a
/// pure function of them. Equal when the values are.
struct Deferred<Value: Sendable & Equatable>: Sendable, Equatable {
    private enum Storage: Sendable {
        case value(Value)
        case written(@Sendable () -> Value)
    }
    private let storage: Storage

    init(_ value: Value) { storage = .value(value) }
    /// `write` runs each time the value is read.
    init(written write: @escaping @Sendable () -> Value) { storage = .written(write) }

    var value: Value {
        switch storage {
        case .value(let value): value
        case .written(let write): write()
        }
    }

    static func == (a: Deferred, b: Deferred) -> Bool { a.value == b.value }
}

typealias DeferredText = Deferred<String>

extension Deferred where Value == String {
    var text: String { value }
}
