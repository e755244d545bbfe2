import Fluent
import Foundation

/// The search a conditional create (`If-None-Exist`, Bundle `request.ifNoneExist`) runs. The
/// parameters a registry can answer exactly: `identifier` (the MRN of a patient; any identifier
/// an earlier import recorded) and `_id`. Anything else is refused by name rather than ignored,
/// because an ignored parameter would match too much and skip a create.
enum ConditionalMatch {
    static let supported = ["identifier", "_id"]

    struct Criterion: Sendable, Equatable { var name: String; var value: String }

    static func parse(_ criteria: String, type: String) throws -> [Criterion] {
        var text = criteria
        if let q = text.firstIndex(of: "?") { text = String(text[text.index(after: q)...]) }
        let pairs = text.split(separator: "&").map { pair -> Criterion in
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
            return Criterion(name: parts[0], value: parts.count > 1 ? parts[1] : "")
        }
        guard !pairs.isEmpty else {
            throw EntryFailure(.badRequest, .invalid, "If-None-Exist is empty; give search parameters such as identifier=system|value", at: type)
        }
        for c in pairs where !supported.contains(c.name) {
            throw EntryFailure(.badRequest, .notSupported,
                               "If-None-Exist parameter \(c.name) is not supported for conditional create (supported: \(supported.joined(separator: ", ")))", at: type)
        }
        return pairs
    }

    /// The ledger key that remembers the criteria of a create, so a rerun matches it.
    static func ledgerKey(_ criteria: String, type: String) -> String? {
        guard let parsed = try? parse(criteria, type: type) else { return nil }
        return "\(type)?" + parsed.map { "\($0.name)=\($0.value)" }.sorted().joined(separator: "&")
    }

    /// The records that match all criteria (several only when the criteria are not selective).
    static func find(_ criteria: String, type: String, ledger known: [String: ImportLedger.Entry], authority: WriteAuthority,
                     on db: any Database) async throws -> [FHIRRecordLocator.Match] {
        let parsed = try parse(criteria, type: type)
        var result: Set<UUID>?
        var kinds: [UUID: FHIRRecordLocator.Match] = [:]
        func intersect(_ matches: [FHIRRecordLocator.Match]) {
            for m in matches { kinds[m.recordID] = m }
            let ids = Set(matches.map(\.recordID))
            result = result.map { $0.intersection(ids) } ?? ids
        }
        if let key = ledgerKey(criteria, type: type) {
            let found = try await ImportLedger.lookup([key], on: db)
            if let e = found[key], let kind = RegistryRecordKind(rawValue: e.kind) {
                return [FHIRRecordLocator.Match(kind: kind, recordID: e.recordID, patientID: e.patientID)]
            }
        }
        for c in parsed {
            switch c.name {
            case "_id":
                if let (kind, id) = try await FHIRRecordLocator.locate(type: type, id: c.value, ledger: [:], on: db) {
                    intersect([FHIRRecordLocator.Match(kind: kind, recordID: id, patientID: nil)])
                } else { intersect([]) }
            default: // identifier
                let (system, value): (String, String) = {
                    guard let bar = c.value.firstIndex(of: "|") else { return ("", c.value) }
                    return (String(c.value[..<bar]), String(c.value[c.value.index(after: bar)...]))
                }()
                var matches: [FHIRRecordLocator.Match] = []
                let key = "\(type)|identifier|\(system)|\(value)"
                let found = try await ImportLedger.lookup([key], on: db)
                if let e = found[key], let kind = RegistryRecordKind(rawValue: e.kind) {
                    matches.append(FHIRRecordLocator.Match(kind: kind, recordID: e.recordID, patientID: e.patientID))
                }
                if type == "Patient" && (system.isEmpty || system.hasPrefix(InboundAdapter.mrnSystemPrefix)) {
                    var query = Patient.query(on: db).filter(\.$mrn == value)
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
        _ = known
        return (result ?? []).sorted { $0.uuidString < $1.uuidString }.compactMap { kinds[$0] }
    }
}
