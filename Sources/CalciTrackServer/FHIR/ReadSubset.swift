import CalciTrackFHIR

/// `_elements` and `_summary` on a read or vread, as on a search (R4 search.html#elements and
/// #summary), so a client that asks a read for a subset gets one: the resource cut as a search
/// cuts its matches (`ElementsSubset`: mandatory elements kept, tagged SUBSETTED). `_format` and `_pretty` are
/// checked as everywhere; other parameters are not read (a read never refused them). The meaning of
/// a `_summary` value and the names `_elements` accepts are decided here for search too.
enum ReadSubset {
    /// What a `_summary` value asks for.
    enum Summary: Equatable { case count, whole, elements(Set<String>) }

    /// R4 search.html#summary: count the total only; false the whole resources; data all but the
    /// narrative, which no resource served has (so the whole ones, nothing tagged); true the type's
    /// summary elements; text the narrative and the mandatory elements (no narrative: those only).
    /// nil for any other value.
    static func summary(_ value: String, type: String) -> Summary? {
        switch value {
        case "count": .count
        case "false", "data": .whole
        case "true": .elements(Set(ElementsSubset.summary[type] ?? []))
        case "text": .elements([])
        default: nil
        }
    }

    /// The message for each name of an `_elements` list that is not an element name.
    static func elementNameProblems(_ names: [String], type: String) -> [String] {
        names.filter { !ElementsSubset.isElementName($0) }
            .map { "_elements must list element names of \(type) such as status,code (comma-separated), got \($0.isEmpty ? "(empty)" : $0)" }
    }

    /// `_summary=true` or `text` and `_elements` both choose the elements: one of them is refused.
    static let summaryWithElements = "_summary=true or text and _elements each choose the elements returned; send one of them"

    /// The elements to keep, nil for the whole resource; a malformed value is a 400 naming it.
    static func elements(_ pairs: [(String, String)], type: String) throws -> Set<String>? {
        var issues: [OperationOutcome.Issue] = []
        var elements: Set<String>?, summary: Set<String>?
        for (name, value) in pairs {
            switch name {
            case "_format", "_pretty":
                if let problem = FHIRSearch.formatProblem(name, value) { issues.append(.init(.error, .value, problem, at: [name])) }
            case "_elements":
                let names = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                issues += elementNameProblems(names, type: type).map { .init(.error, .value, $0, at: [name]) }
                elements = (elements ?? []).union(names)
            case "_summary":
                switch Self.summary(value, type: type) {
                case .elements(let keep)?: summary = keep
                case .whole?: break
                case .count?, nil: issues.append(.init(.error, .value, "_summary on a read must be true, text, data or false, got \(value)", at: [name]))
                }
            default: continue
            }
        }
        if summary != nil && elements != nil {
            issues.append(.init(.error, .value, summaryWithElements, at: ["_summary"]))
        }
        if !issues.isEmpty { throw FHIRError(.badRequest, OperationOutcome(issues)) }
        return summary ?? elements
    }

    /// The answer with its resource cut down to `keep` (nil: whole).
    static func apply(_ answer: FHIRReadAnswer, keeping keep: Set<String>?) -> FHIRReadAnswer {
        guard let keep else { return answer }
        var cut = answer
        cut.resource = ElementsSubset.apply(answer.resource, keeping: keep)
        return cut
    }
}
