import Fluent
import Foundation
import SQLKit

/// A model's INSERT row written by hand, for `BulkRecordInsert`: collecting a Fluent model's
/// values goes through reflection (`Model.properties`, a `Mirror` per model and a dynamic cast
/// per property), which was the biggest single cost of `calcitrack import` (BENCHMARKS.md).
/// The values are bound exactly as Fluent binds them (`SQLBind` of the same Swift value, NULL for
/// nil). `BulkInsertRowTests` checks every model's columns against its Fluent fields, so a field
/// added to a model and not here fails a test, and round-trips a row of each.
protocol BulkInsertRow {
    /// The columns, in the order of `bulkValues`.
    static var bulkColumns: [String] { get }
    var bulkValues: [any SQLExpression] { get }
}

/// A bind, or NULL for nil (what Fluent writes for an unset optional field).
func bulkBind<T: Encodable & Sendable>(_ value: T?) -> any SQLExpression {
    value.map { SQLBind($0) } ?? SQLLiteral.null
}

/// Whether two values of a `bulkValues` column differ, compared as Swift values (describing
/// each as text, through a `Mirror`, was a large share of a section update). A bind whose value
/// is not `Hashable` counts as changed, so an unknown type is written rather than skipped.
enum BulkBindComparison {
    static func differ(_ a: any SQLExpression, _ b: any SQLExpression) -> Bool {
        switch (a as? SQLBind, b as? SQLBind) {
        case (nil, nil): return !(isNull(a) && isNull(b))
        case let (x?, y?):
            guard let x = x.encodable as? AnyHashable, let y = y.encodable as? AnyHashable else { return true }
            return x != y
        default: return true
        }
    }

    private static func isNull(_ e: any SQLExpression) -> Bool {
        if let literal = e as? SQLLiteral, case .null = literal { return true }
        return false
    }
}

/// The columns every record table shares (`RecordColumns`), before and after a kind's own.
enum BulkRecordColumns {
    static let head = ["id", "patient_id"]
    static let tail = ["version", "created_at", "updated_at", "deleted_at", "created_by", "updated_by"]

    static func columns(_ own: [String]) -> [String] { head + own + tail }

    static func values(_ r: some PatientRecord & AnyObject, deletedAt: Date?, _ own: [any SQLExpression]) -> [any SQLExpression] {
        [bulkBind(r.id), SQLBind(r.patientID)] + own
            + [SQLBind(r.version), bulkBind(r.createdAt), bulkBind(r.updatedAt), bulkBind(deletedAt), SQLBind(r.createdBy), SQLBind(r.updatedBy)]
    }
}

extension LesionRecord: BulkInsertRow {
    static let bulkColumns = BulkRecordColumns.columns(["label", "site", "laterality", "morphology", "periarticular_mass", "findings", "status", "note"])
    var bulkValues: [any SQLExpression] {
        BulkRecordColumns.values(self, deletedAt: deletedAt, [SQLBind(label), bulkBind(site), bulkBind(laterality), bulkBind(morphology),
                                                             bulkBind(periarticularMass), bulkBind(findings), SQLBind(status), bulkBind(note)])
    }
}

extension MeasurementRecord: BulkInsertRow {
    static let bulkColumns = BulkRecordColumns.columns(["lesion_id", "date", "length_cm", "width_cm", "depth_cm", "area_cm2", "perimeter_cm",
                                                        "healed", "pain_vas", "findings"])
    var bulkValues: [any SQLExpression] {
        BulkRecordColumns.values(self, deletedAt: deletedAt, [SQLBind(lesionID), SQLBind(date), bulkBind(lengthCm), bulkBind(widthCm), bulkBind(depthCm),
                                                             bulkBind(areaCm2), bulkBind(perimeterCm), bulkBind(healed), bulkBind(painVAS), bulkBind(findings)])
    }
}

extension VisitRecord: BulkInsertRow {
    static let bulkColumns = BulkRecordColumns.columns(["date", "kind", "next_due", "pain_vas", "note"])
    var bulkValues: [any SQLExpression] {
        BulkRecordColumns.values(self, deletedAt: deletedAt, [SQLBind(date), bulkBind(kind), bulkBind(nextDue), bulkBind(painVAS), bulkBind(note)])
    }
}

extension LabRecord: BulkInsertRow {
    static let bulkColumns = BulkRecordColumns.columns(["test", "value", "unit", "value_normalised", "unit_normalised", "loinc", "date"])
    var bulkValues: [any SQLExpression] {
        BulkRecordColumns.values(self, deletedAt: deletedAt, [SQLBind(test), SQLBind(value), SQLBind(unit), SQLBind(valueNormalised),
                                                             SQLBind(unitNormalised), bulkBind(loinc), SQLBind(date)])
    }
}

extension VitalsRecord: BulkInsertRow {
    static let bulkColumns = BulkRecordColumns.columns(["date", "temperature_c", "heart_rate", "respiratory_rate", "systolic_bp", "altered_mentation"])
    var bulkValues: [any SQLExpression] {
        BulkRecordColumns.values(self, deletedAt: deletedAt, [SQLBind(date), bulkBind(temperatureC), bulkBind(heartRate), bulkBind(respiratoryRate),
                                                             bulkBind(systolicBP), bulkBind(alteredMentation)])
    }
}

extension MedicationRecord: BulkInsertRow {
    static let bulkColumns = BulkRecordColumns.columns(["drug", "rxnorm", "dose_mg", "frequency", "route", "start", "stop", "indication"])
    var bulkValues: [any SQLExpression] {
        BulkRecordColumns.values(self, deletedAt: deletedAt, [SQLBind(drug), bulkBind(rxnorm), bulkBind(doseMg), bulkBind(frequency), bulkBind(route),
                                                             bulkBind(start), bulkBind(stop), bulkBind(indication)])
    }
}

extension HoldRecord: BulkInsertRow {
    static let bulkColumns = BulkRecordColumns.columns(["medication_id", "start", "end", "reason"])
    var bulkValues: [any SQLExpression] {
        BulkRecordColumns.values(self, deletedAt: deletedAt, [SQLBind(medicationID), SQLBind(start), bulkBind(end), SQLBind(reason)])
    }
}

extension ProcedureRecord: BulkInsertRow {
    static let bulkColumns = BulkRecordColumns.columns(["lesion_id", "date", "kind", "note"])
    var bulkValues: [any SQLExpression] {
        BulkRecordColumns.values(self, deletedAt: deletedAt, [bulkBind(lesionID), SQLBind(date), SQLBind(kind), bulkBind(note)])
    }
}

extension InfectionEpisodeRecord: BulkInsertRow {
    static let bulkColumns = BulkRecordColumns.columns(["lesion_id", "onset", "organism", "mrsa", "culture_source", "culture_result", "antibiotic",
                                                        "antibiotic_route", "antibiotic_start", "antibiotic_stop", "outcome", "resolved_date", "note"])
    var bulkValues: [any SQLExpression] {
        BulkRecordColumns.values(self, deletedAt: deletedAt, [bulkBind(lesionID), SQLBind(onset), bulkBind(organism), bulkBind(mrsa), bulkBind(cultureSource),
                                                             bulkBind(cultureResult), bulkBind(antibiotic), bulkBind(antibioticRoute), bulkBind(antibioticStart),
                                                             bulkBind(antibioticStop), SQLBind(outcome), bulkBind(resolvedDate), bulkBind(note)])
    }
}

extension ImagingRecord: BulkInsertRow {
    static let bulkColumns = BulkRecordColumns.columns(["date", "modality", "inconclusive", "findings", "scores"])
    var bulkValues: [any SQLExpression] {
        BulkRecordColumns.values(self, deletedAt: deletedAt, [SQLBind(date), SQLBind(modality), bulkBind(inconclusive), bulkBind(findings), bulkBind(scores)])
    }
}

extension Patient: BulkInsertRow {
    static let bulkColumns = [
        "id", "site_id", "mrn", "family_name", "given_name", "sex", "birth_date", "weight_kg", "pregnant", "ssc", "other_ctd", "history",
        "infection_inputs", "workup", "date_shift_days", "version", "created_at", "updated_at", "deleted_at", "created_by", "updated_by",
        "last_contact", "next_due", "has_unhealed_lesion", "active_infection", "infection_severity", "worsening_lesion", "body_sites",
        "infection_onset", "onset_severity", "onset_sepsis_screen", "sepsis_screen_positive", "sepsis_screen", "high_alert", "high_alerts",
        "follow_up_status", "worklist_tier", "standing_day", "standing_until", "family_key", "given_key",
    ]
    var bulkValues: [any SQLExpression] {
        [bulkBind(id), SQLBind($site.id), SQLBind(mrn), SQLBind(familyName), SQLBind(givenName), SQLBind(sex), bulkBind(birthDate), bulkBind(weightKg),
         bulkBind(pregnant), bulkBind(ssc), bulkBind(otherCTD), bulkBind(history), bulkBind(infectionInputs), bulkBind(workup), SQLBind(dateShiftDays),
         SQLBind(version), bulkBind(createdAt), bulkBind(updatedAt), bulkBind(deletedAt), SQLBind(createdBy), SQLBind(updatedBy),
         bulkBind(lastContact), bulkBind(nextDue), SQLBind(hasUnhealedLesion), SQLBind(activeInfection), bulkBind(infectionSeverity),
         SQLBind(worseningLesion), bulkBind(bodySites), bulkBind(infectionOnset), bulkBind(onsetSeverity), bulkBind(onsetSepsisScreen),
         SQLBind(sepsisScreenPositive), bulkBind(sepsisScreen), SQLBind(highAlert), bulkBind(highAlerts), SQLBind(followUpStatus),
         SQLBind(worklistTier), SQLBind(standingDay), bulkBind(standingUntil), SQLBind(familyKey), SQLBind(givenKey)]
    }
}
