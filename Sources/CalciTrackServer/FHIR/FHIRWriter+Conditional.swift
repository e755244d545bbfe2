import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation
import SQLKit
import Vapor

/// Conditional update and delete: which record an entry with search criteria acts on.
extension FHIRWriter {
    enum ConditionalResolution {
        /// The entry as a plain update (the match's id), delete, or create (no match).
        case resolved(Prepared)
        /// A conditional delete that matched nothing.
        case nothingToDelete(EntryResult)
    }

    /// A record an earlier entry of this call wrote (not stored yet, so no search finds it) that
    /// the criteria name: by the same criteria (an earlier conditional create's), or by every
    /// `identifier` criterion naming it (the identifiers each written resource carries).
    func pendingMatch(_ criteria: String, type: String, _ state: State) -> FHIRRecordLocator.Match? {
        func match(_ e: ImportLedger.Entry) -> FHIRRecordLocator.Match? {
            RegistryRecordKind(rawValue: e.kind).map { FHIRRecordLocator.Match(kind: $0, recordID: e.recordID, patientID: e.patientID) }
        }
        if let key = ConditionalMatch.ledgerKey(criteria, type: type), let e = state.written[key] { return match(e) }
        guard let parsed = try? ConditionalMatch.parse(criteria, type: type), parsed.allSatisfy({ $0.name == "identifier" }) else { return nil }
        let named = parsed.map { c -> ImportLedger.Entry? in
            let (system, value) = ConditionalMatch.systemAndValue(c.value)
            return state.written["\(type)|identifier|\(system)|\(value)"]
        }
        guard let first = named.first ?? nil, named.allSatisfy({ $0?.recordID == first.recordID }) else { return nil }
        return match(first)
    }

    /// Conditional update and delete (FHIR R4 http.html#cond-update, #cond-delete), over the
    /// records the writer may see: no match: an update creates (with the resource's id when it
    /// names no record), a delete does nothing; one match: acts on it; several: 412.
    func resolveConditional(_ p: Prepared, _ criteria: String, _ state: State, on tx: any Database) async throws -> ConditionalResolution {
        var p = p
        let type = p.entry.resourceType
        let interaction: ConditionalMatch.Interaction = p.entry.method == .delete ? .delete : .update
        if pendingMatch(criteria, type: type, state) != nil {
            // FHIR transaction rules: one entry per resource. The earlier entry's record is not
            // stored yet, so this one could neither update nor delete it.
            throw EntryFailure(.badRequest, .invalid, "\(interaction.rawValue) \(type)?\(criteria) matches a resource an earlier entry of this call writes; act on a resource in one entry only",
                               at: type)
        }
        let matches = try await ConditionalMatch.find(criteria, type: type, authority: authority, for: interaction, on: tx)
        p.entry.conditional = nil
        if matches.count > 1 {
            throw EntryFailure(.preconditionFailed, .duplicate,
                               "\(interaction.rawValue) \(type)?\(criteria) matches \(matches.count) resources; make the criteria selective (only one may be \(p.entry.method == .delete ? "deleted" : "updated"))",
                               at: type)
        }
        let resourceID = p.entry.resource?["id"]?.stringValue
        if let match = matches.first {
            let fhirID = Self.fhirID(kind: match.kind, recordID: match.recordID, record: p.mapped.records.first, resourceType: type)
            if p.entry.method == .put {
                if let resourceID, resourceID != fhirID {
                    throw EntryFailure(.badRequest, .invalid, "the resource's id \(resourceID) is not \(type)/\(fhirID), the resource the criteria \(criteria) match", at: "\(type).id")
                }
                if let kind = p.mapped.records.first?.kind, kind != match.kind {
                    throw EntryFailure(.badRequest, .invalid, "the criteria \(criteria) match a \(match.kind.rawValue) record but the resource maps to \(kind.rawValue)", at: type)
                }
                // The match is what this update changes, whatever else the source keys name.
                p.sourceKeys.insert("\(type)/\(fhirID)", at: 0)
            }
            p.entry.id = fhirID
            return .resolved(p)
        }
        if p.entry.method == .delete {
            return .nothingToDelete(EntryResult(action: .deleted, status: .noContent, resourceType: type, issues: [
                .init(.information, .notFound, "no \(type) matches \(criteria); nothing deleted", at: [type])]))
        }
        if let resourceID {
            if let (kind, id) = try await FHIRRecordLocator.locate(type: type, id: resourceID, ledger: [:], on: tx),
               try await ConditionalMatch.visible(FHIRRecordLocator.Match(kind: kind, recordID: id, patientID: nil), authority, on: tx) != nil {
                throw EntryFailure(.conflict, .conflict, "\(type)/\(resourceID) exists but does not match the criteria \(criteria); update it by id, or fix the criteria", at: "\(type).id")
            }
            p.entry.id = resourceID // update as create, with the client's id
            p.sourceKeys.insert("\(type)/\(resourceID)", at: 0)
            return .resolved(p)
        }
        if let expected = p.entry.ifMatch, !p.entry.ifMatchFromMeta {
            throw EntryFailure(.preconditionFailed, .conflict, "If-Match names version \(expected), but no \(type) matches \(criteria)", at: "If-Match")
        }
        // No match, no id: a create that remembers the criteria (like If-None-Exist).
        p.entry.method = .post
        p.entry.ifNoneExist = criteria
        p.entry.ifMatch = nil
        return .resolved(p)
    }
}
