import SQLKit

// MARK: - Rows

/// The rows of one batch, per table in insertion order (parents before children).
struct Batch: Sendable {
    var rows: [[[any SQLExpression]]] = Array(repeating: [], count: TableWriter.tables.count)
}

/// Accumulates one table's rows and sends them as multi-row INSERTs that stay under the bind limit.
struct TableWriter {
    let table: String
    let columns: [String]
    let rowsPerStatement: Int
    var count = 0

    /// Columns per table; the order of `SyntheticRegistry.Generator`'s row builders. Every record
    /// table also has version, created_at, updated_at, created_by, updated_by (deleted_at is NULL).
    static let tables: [(String, [String])] = {
        let common = ["id", "patient_id", "version", "created_at", "updated_at", "created_by", "updated_by"]
        return [
            ("patients", ["id", "site_id", "mrn", "family_name", "given_name", "sex", "birth_date", "weight_kg", "pregnant", "ssc",
                          "other_ctd", "history", "infection_inputs", "workup", "date_shift_days", "version", "created_at", "updated_at",
                          "created_by", "updated_by", "last_contact", "next_due", "has_unhealed_lesion", "active_infection",
                          "infection_severity", "worsening_lesion", "body_sites", "infection_onset", "onset_severity",
                          "onset_sepsis_screen", "sepsis_screen_positive", "sepsis_screen", "high_alert", "high_alerts",
                          "follow_up_status", "worklist_tier", "standing_day", "standing_until", "family_key", "given_key"]),
            ("lesions", common + ["label", "site", "laterality", "morphology", "periarticular_mass", "findings", "status", "note"]),
            ("lesion_measurements", common + ["lesion_id", "date", "length_cm", "width_cm", "depth_cm", "area_cm2", "perimeter_cm", "healed", "pain_vas", "findings"]),
            ("visits", common + ["date", "kind", "next_due", "pain_vas", "note"]),
            ("lab_results", common + ["test", "value", "unit", "value_normalised", "unit_normalised", "loinc", "date"]),
            ("vital_signs", common + ["date", "temperature_c", "heart_rate", "respiratory_rate", "systolic_bp", "altered_mentation"]),
            ("medications", common + ["drug", "rxnorm", "dose_mg", "frequency", "route", "start", "stop", "indication"]),
            ("medication_holds", common + ["medication_id", "start", "end", "reason"]),
            ("procedures", common + ["lesion_id", "date", "kind", "note"]),
            ("infection_episodes", common + ["lesion_id", "onset", "organism", "mrsa", "culture_source", "culture_result", "antibiotic",
                                             "antibiotic_route", "antibiotic_start", "antibiotic_stop", "outcome", "resolved_date", "note"]),
            ("imaging_studies", common + ["date", "modality", "inconclusive", "findings", "scores"]),
            ("patient_case_records", ["patient_id", "records"]),
        ]
    }()

    enum Index: Int { case patients, lesions, measurements, visits, labs, vitals, medications, holds, procedures, infections, imaging, caseRecords }

    static func all(maxBinds: Int) -> [TableWriter] {
        tables.map { TableWriter(table: $0.0, columns: $0.1, rowsPerStatement: max(1, maxBinds / $0.1.count)) }
    }

    mutating func write(_ rows: [[any SQLExpression]], on db: any SQLDatabase) async throws {
        var start = 0
        while start < rows.count {
            let end = min(start + rowsPerStatement, rows.count)
            try await db.insert(into: table).columns(columns).rows(rows[start..<end]).run()
            start = end
        }
        count += rows.count
    }
}
