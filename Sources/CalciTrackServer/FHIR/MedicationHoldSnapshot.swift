import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation
import SQLKit

/// A medication's version row (009) carries the holds the medication had in that version, under
/// `holds` (each hold's API JSON, by start), because its MedicationStatement is the medication
/// and its holds: a vread or history of an older version must show that version's holds and
/// status, not today's. Invariant: when a transaction ends, the latest version row of every
/// medication it touched lists the medication's current holds.
///
/// - A medication written through Fluent (JSON API, forms, FHIR updates) gets its holds at the
///   write (`ResourceHistoryMiddleware`), and the bulk creates of `FHIRWriter` from the holds
///   created with it (`adding`).
/// - A write that changes holds after writing the medication's version row (a FHIR update of a
///   statement, the visit form's stop and hold of one drug, the demo data) calls `stamp`, which
///   rewrites that latest row's `holds`. It never touches an earlier version: every hold change
///   is a new medication version (`MedicationRecord.versionForHoldChange`) or part of one.
///
/// Version rows written before this existed have no `holds`; a read of them shows the current
/// holds, as before (OutboundMapper).
enum MedicationHoldSnapshot {
    /// The key of the holds in a medication's version body.
    static let key = "holds"

    /// A medication's API JSON with the given holds (API JSON, sorted by start).
    static func adding(_ holds: [JSONValue], to body: JSONValue) -> JSONValue {
        guard case .object(var object) = body else { return body }
        object[key] = .array(holds)
        return .object(object)
    }

    /// The stored holds of medications (not deleted), as API JSON sorted by start, by medication.
    static func holds(of medicationIDs: [UUID], on db: any Database) async throws -> [UUID: [JSONValue]] {
        guard !medicationIDs.isEmpty else { return [:] }
        var result: [UUID: [JSONValue]] = [:]
        for hold in try await HoldRecord.query(on: db).filter(\.$medicationID ~~ medicationIDs).sort(\.$start).all() {
            result[hold.medicationID, default: []].append(hold.apiJSON(.none, includeAuthors: true))
        }
        return result
    }

    /// The body of a medication's version row: its API JSON and its stored holds.
    static func body(_ medication: MedicationRecord, on db: any Database) async throws -> JSONValue {
        let id = try medication.requireID()
        return adding(try await holds(of: [id], on: db)[id] ?? [], to: medication.apiJSON(.none, includeAuthors: true))
    }

    /// Rewrites the `holds` of each medication's latest version row with its stored holds (a
    /// deletion's row is left as it is).
    static func stamp(_ medicationIDs: Set<UUID>, on db: any Database) async throws {
        guard !medicationIDs.isEmpty else { return }
        let sql = db as! any SQLDatabase
        let ids = medicationIDs.sorted { $0.precedes($1) }
        let holds = try await holds(of: ids, on: db)
        for id in ids {
            guard let latest = try await ResourceHistory.versions(kind: RecordKind.medications.rawValue, id: id, on: db).first, !latest.deleted else { continue }
            let body = adding(holds[id] ?? [], to: latest.body)
            try await sql.raw("""
                UPDATE resource_versions SET body = \(bind: JSONWriter.write(body, pretty: false))
                WHERE record_kind = \(bind: RecordKind.medications.rawValue) AND record_id = \(bind: id) AND version = \(bind: latest.version)
                """).run()
        }
    }
}
