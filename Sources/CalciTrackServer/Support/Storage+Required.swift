import Vapor

extension Storage {
    /// A value `configure` sets before the first request; its absence is a programming error.
    func required<Key: StorageKey>(_ key: Key.Type, _ name: String) -> Key.Value {
        guard let value = self[key] else { preconditionFailure("configure sets \(name)") }
        return value
    }
}
