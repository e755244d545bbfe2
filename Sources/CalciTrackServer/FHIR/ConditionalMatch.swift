import Fluent
import Foundation

/// The search a conditional interaction runs: create (`If-None-Exist`, Bundle
/// `request.ifNoneExist`), update (`PUT Type?criteria`) and delete (`DELETE Type?criteria`). The
/// parameters a registry can answer exactly: `identifier` (the MRN of a patient; any identifier
/// an earlier import recorded) and `_id`. Anything else is refused by name rather than ignored,
/// because an ignored parameter would match too much.
///
/// Only records the writer may see count (`WriteAuthority`, the clinician's sites): a match at
/// another site would answer 200 or 412 and so tell the caller that an MRN exists there.
enum ConditionalMatch {
    static let supported = ["identifier", "_id"]
    /// Parameters about the response, not the search (FHIR http.html#parameters).
    static let ignored = ["_format", "_pretty"]

    /// Which interaction the criteria belong to, for messages.
    enum Interaction: String, Sendable {
        case create = "If-None-Exist", update = "conditional update", delete = "conditional delete"
    }

    struct Criterion: Sendable, Equatable { var name: String; var value: String }

    static func parse(_ criteria: String, type: String, for interaction: Interaction = .create) throws -> [Criterion] {
        var text = criteria
        if let q = text.firstIndex(of: "?") { text = String(text[text.index(after: q)...]) }
        let pairs = text.split(separator: "&").map { pair -> Criterion in
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
            return Criterion(name: parts[0], value: parts.count > 1 ? parts[1] : "")
        }.filter { !ignored.contains($0.name) }
        guard !pairs.isEmpty else {
            throw EntryFailure(.badRequest, .invalid, "\(interaction.rawValue) has no search parameters; give some such as identifier=system|value", at: type)
        }
        for c in pairs where !supported.contains(c.name) {
            throw EntryFailure(.badRequest, .notSupported,
                               "\(interaction.rawValue) parameter \(c.name) is not supported (supported: \(supported.joined(separator: ", ")))", at: c.name)
        }
        for c in pairs where c.value.isEmpty {
            throw EntryFailure(.badRequest, .value, "\(interaction.rawValue) parameter \(c.name) has no value", at: c.name)
        }
        return pairs
    }

    /// The ledger key that remembers the criteria of a create, so a rerun matches it.
    static func ledgerKey(_ criteria: String, type: String) -> String? {
        guard let parsed = try? parse(criteria, type: type) else { return nil }
        return "\(type)?" + parsed.map { "\($0.name)=\($0.value)" }.sorted().joined(separator: "&")
    }

    /// An `identifier` token's system and value (`system|value`, or a bare value with no system).
    static func systemAndValue(_ token: String) -> (system: String, value: String) {
        guard let bar = token.firstIndex(of: "|") else { return ("", token) }
        return (String(token[..<bar]), String(token[token.index(after: bar)...]))
    }

    /// The records the writer may see that match all criteria (several only when the criteria
    /// are not selective).
    static func find(_ criteria: String, type: String, authority: WriteAuthority, for interaction: Interaction = .create,
                     on db: any Database) async throws -> [FHIRRecordLocator.Match] {
        let parsed = try parse(criteria, type: type, for: interaction)
        if let key = ledgerKey(criteria, type: type) {
            let found = try await ImportLedger.lookup([key], on: db)
            if let e = found[key], let kind = RegistryRecordKind(rawValue: e.kind) {
                let match = FHIRRecordLocator.Match(kind: kind, recordID: e.recordID, patientID: e.patientID)
                // A match the writer may not see is no match: the search below answers for its sites.
                if try await visible(match, authority, on: db) != nil { return [match] }
            }
        }
        var result: Set<UUID>?
        var kinds: [UUID: FHIRRecordLocator.Match] = [:]
        func intersect(_ matches: [FHIRRecordLocator.Match]) {
            for m in matches { kinds[m.recordID] = m }
            let ids = Set(matches.map(\.recordID))
            result = result.map { $0.intersection(ids) } ?? ids
        }
        for c in parsed {
            switch c.name {
            case "_id":
                if let (kind, id) = try await FHIRRecordLocator.locate(type: type, id: c.value, ledger: [:], on: db) {
                    intersect([FHIRRecordLocator.Match(kind: kind, recordID: id, patientID: kind == .patient || kind == .patientSection ? id : nil)])
                } else { intersect([]) }
            default: // identifier
                let (system, value) = systemAndValue(c.value)
                var matches: [FHIRRecordLocator.Match] = []
                let key = "\(type)|identifier|\(system)|\(value)"
                let found = try await ImportLedger.lookup([key], on: db)
                if let e = found[key], let kind = RegistryRecordKind(rawValue: e.kind) {
                    matches.append(FHIRRecordLocator.Match(kind: kind, recordID: e.recordID, patientID: e.patientID))
                }
                if type == "Patient" && (system.isEmpty || system.hasPrefix(InboundAdapter.mrnSystemPrefix)) {
                    var query = Patient.query(on: db).filter(\.$mrn == value)
                    if let sites = authority.sites { query = query.filter(\.$site.$id ~~ Array(sites)) }
                    if system.hasPrefix(InboundAdapter.mrnSystemPrefix) {
                        let code = String(system.dropFirst(InboundAdapter.mrnSystemPrefix.count))
                        guard let site = try await Site.query(on: db).filter(\.$code == code).first() else { intersect([]); continue }
                        query = query.filter(\.$site.$id == site.id!)
                    }
                    for p in try await query.all() where !matches.contains(where: { $0.recordID == p.id }) {
                        matches.append(FHIRRecordLocator.Match(kind: .patient, recordID: p.id!, patientID: p.id!))
                    }
                }
                intersect(matches)
            }
        }
        var visibleMatches: [FHIRRecordLocator.Match] = []
        for id in (result ?? []).sorted(by: { $0.precedes($1) }) {
            guard let match = kinds[id], let patientID = try await visible(match, authority, on: db) else { continue }
            var m = match
            m.patientID = patientID
            visibleMatches.append(m)
        }
        return visibleMatches
    }

    /// The patient of a matched record when the writer may see it (a clinician: one of their
    /// sites; the command line: any), else nil, also when the record or its patient is gone.
    static func visible(_ match: FHIRRecordLocator.Match, _ authority: WriteAuthority, on db: any Database) async throws -> UUID? {
        var patientID = match.patientID
        if patientID == nil {
            switch match.kind {
            case .patient, .patientSection: patientID = match.recordID
            default: patientID = try await match.kind.find(match.recordID, on: db)?.patientID
            }
        }
        guard let patientID, let patient = try await Patient.find(patientID, on: db) else { return nil }
        return authority.allows(patient.$site.id) ? patientID : nil
    }
}
