import CalciTrackCore
import Fluent
import Foundation
import SQLKit

/// 011 (issue 4): dated lesion findings and the worklist flags the engine computes.
/// - `lesion_measurements.findings`: the findings seen at that measurement (case-format
///   `lesions[].findings` keys), so a case built as of a date carries the findings of that date
///   (`RegistryCase.json(patient:sections:asOf:)`), not only the latest state.
/// - On `patients`, written by `PatientSummary` in every write transaction: the triage of an open
///   infection episode at its onset when today's assessment does not classify it
///   (`infection_onset`, `onset_severity`, `onset_sepsis_screen`), a currently positive sepsis
///   screen (`sepsis_screen_positive` with its reason `sepsis_screen`) and the assessment's high
///   medication-safety alerts (`high_alert`, reasons `high_alerts`). The worklist reads them
///   instead of running the engine per row.
/// - Indexes for the two new flag worklists, with the name order inside (as 007 does for the
///   infection and worsening flags).
/// Every patient's derived data (summary columns and case sections, which 008 created the table
/// for) is computed here, 500 patients at a time, as of today (UTC), in one transaction: the
/// record models read the columns this migration adds, so no earlier migration can read them.
struct FindingsHistoryAndWorklistFlags: AsyncMigration {
    var name: String { "011_FindingsHistoryAndWorklistFlags" }

    static let indexes = [
        ("patients_site_sepsis", "site_id, sepsis_screen_positive, family_name, given_name, id, deleted_at"),
        ("patients_site_high_alert", "site_id, high_alert, family_name, given_name, id, deleted_at"),
    ]

    func prepare(on database: any Database) async throws {
        try await database.transaction { tx in
            let sql = tx as! any SQLDatabase
            try await sql.raw("ALTER TABLE lesion_measurements ADD COLUMN findings TEXT").run()
            for column in ["infection_onset TEXT", "onset_severity TEXT", "onset_sepsis_screen TEXT",
                           "sepsis_screen_positive BOOLEAN NOT NULL DEFAULT false", "sepsis_screen TEXT",
                           "high_alert BOOLEAN NOT NULL DEFAULT false", "high_alerts TEXT"] {
                try await sql.raw("ALTER TABLE patients ADD COLUMN \(unsafeRaw: column)").run()
            }
            for (name, columns) in Self.indexes {
                try await sql.raw("CREATE INDEX \(unsafeRaw: name) ON patients (\(unsafeRaw: columns))").run()
            }
            try await Self.recompute(on: tx, today: LocalDate.utc(Date()))
            try await sql.raw("ANALYZE patients").run()
        }
    }

    /// The summary columns and case sections of every patient (deleted ones too: a restore
    /// must find them current).
    static func recompute(on db: any Database, today: LocalDate) async throws {
        let batch = 500
        var after: UUID?
        while true {
            // Only the columns the case is built from: later migrations add columns to the model
            // (012) that do not exist yet when this one runs on a new database.
            let patients = try await (after.map { Patient.query(on: db).withDeleted().filter(\.$id > $0) } ?? Patient.query(on: db).withDeleted())
                .field(\.$id).field(\.$birthDate).field(\.$sex).field(\.$weightKg).field(\.$pregnant).field(\.$ssc)
                .field(\.$otherCTD).field(\.$history).field(\.$infectionInputs).field(\.$workup)
                .sort(\.$id).limit(batch).all()
            let ids = patients.compactMap(\.id)
            let records = try await RegistryCase.records(ofPatients: ids, on: db)
            for patient in patients {
                try await PatientSummary.compute(patient: patient, records: records[patient.id!] ?? .empty, today: today).save(of: patient.id!, on: db, standing: false)
            }
            guard ids.count == batch else { break }
            after = ids.last
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for (name, _) in Self.indexes { try await sql.raw("DROP INDEX \(unsafeRaw: name)").run() }
        for column in ["infection_onset", "onset_severity", "onset_sepsis_screen", "sepsis_screen_positive", "sepsis_screen", "high_alert", "high_alerts"] {
            try await sql.raw("ALTER TABLE patients DROP COLUMN \(unsafeRaw: column)").run()
        }
        try await sql.raw("ALTER TABLE lesion_measurements DROP COLUMN findings").run()
    }
}
