import Fluent
import Foundation

/// Names as searched: case and accents folded ("Müller" and "muller" are one key), stored beside
/// the name (migration 012) so a prefix search is an index range (`key >= "mu" AND key < "mu\u{10FFFF}"`)
/// instead of `lower(name) LIKE` over every patient, which no index serves (849 ms p95 at 100,000
/// patients, BENCHMARKS.md). SQLite's `lower()` folds ASCII only; this folds every script the same
/// way on SQLite and PostgreSQL, and `%` or `_` in a search are plain characters.
enum NameSearchKey {
    static func fold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil).lowercased()
    }

    /// The half-open range of keys that start with `prefix` (already folded). Keys compare by code
    /// point on both databases (PostgreSQL: the columns are `COLLATE "C"`), and no key character
    /// follows U+10FFFF.
    static func prefixRange(_ prefix: String) -> (lower: String, upper: String) {
        (prefix, prefix + "\u{10FFFF}")
    }
}

/// Keeps a patient's name keys in step with the name on every create and update through Fluent
/// (the API, the web form, FHIR). `calcitrack generate` writes rows with SQL and sets them itself.
struct PatientNameKeyMiddleware: AsyncModelMiddleware {
    typealias Model = Patient

    func create(model: Patient, on db: any Database, next: any AnyAsyncModelResponder) async throws {
        model.setNameKeys()
        try await next.create(model, on: db)
    }

    func update(model: Patient, on db: any Database, next: any AnyAsyncModelResponder) async throws {
        model.setNameKeys()
        try await next.update(model, on: db)
    }
}

extension Patient {
    func setNameKeys() {
        familyKey = NameSearchKey.fold(familyName)
        givenKey = NameSearchKey.fold(givenName)
    }
}

extension QueryBuilder where Model == Patient {
    /// Patients whose family or given name starts with `text` (case and accents folded), or whose
    /// MRN is `text` exactly: the worklist's and the API's search.
    func matching(search text: String) -> QueryBuilder<Patient> {
        let range = NameSearchKey.prefixRange(NameSearchKey.fold(text))
        return group(.or) {
            $0.group(.and) { $0.filter(\.$familyKey >= range.lower).filter(\.$familyKey < range.upper) }
              .group(.and) { $0.filter(\.$givenKey >= range.lower).filter(\.$givenKey < range.upper) }
              .filter(\.$mrn == text)
        }
    }
}
