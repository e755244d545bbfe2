import CalciTrackFHIR

/// `_elements` and `_summary` on a read or vread, as on a search (R4 search.html#elements and
/// #summary), so a client that asks a read for a subset gets one: the resource cut as a search
/// cuts its matches (`ElementsSubset`: mandatory elements kept, tagged SUBSETTED). `_format` and `_pretty` are
/// checked as everywhere; other parameters are not read (a read never refused them).
enum ReadSubset {
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
                for n in names where !ElementsSubset.isElementName(n) {
                    issues.append(.init(.error, .value, "_elements must list element names of \(type) such as status,code (comma-separated), got \(n.isEmpty ? "(empty)" : n)", at: [name]))
                }
                elements = (elements ?? []).union(names)
            case "_summary":
                switch value {
                case "true": summary = Set(ElementsSubset.summary[type] ?? [])
                case "text": summary = []
                case "data", "false": break
                default: issues.append(.init(.error, .value, "_summary on a read must be true, text, data or false, got \(value)", at: [name]))
                }
            default: continue
            }
        }
        if summary != nil && elements != nil {
            issues.append(.init(.error, .value, "_summary=true or text and _elements each choose the elements returned; send one of them", at: ["_summary"]))
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
