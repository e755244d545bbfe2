/// The case as seen on `asOf`: records dated later are dropped, and the values several rules
/// share (latest lab per test, latest vitals row, active medications, age) are found once.
/// It is a pure function of (case, asOf, thresholds), built by the `Assessor`.
public struct CaseContext: Sendable {
    public let `case`: Case
    public let asOf: LocalDate
    public let thresholds: Thresholds
    /// Labs on or before asOf, oldest first.
    public let labs: [LabResult]
    public let latestVitals: VitalSigns?
    public var activeMedications: [Medication] { c.medications.filter { $0.isActive(on: asOf) } }
    /// Medications known to the engine and active on asOf, with their table entry.
    public var activeDrugs: [(medication: Medication, drug: Drug)] { active.map { (c.medications[$0.index], $0.drug) } }
    /// `activeDrugs` without copies of the medication records: the rules read the record's
    /// fields in place through `index`.
    let active: [ActiveDrug]
    /// The union of the active drugs' classes (`DrugClass.bit`).
    let activeClasses: UInt32
    /// Lesions with measurements after asOf removed.
    public let lesions: [Lesion]
    public let visits: [Visit]
    public let ageYears: Int?
    public let ageDays: Int?
    /// How many records dated after asOf were left out (shown, so nothing vanishes silently).
    public let ignoredRecordCount: Int

    public init(case c: Case, asOf: LocalDate, thresholds: Thresholds = Thresholds()) {
        self.case = c
        self.asOf = asOf
        self.thresholds = thresholds
        var ignored = 0
        // Records after asOf are rare: the case's own lists are shared unless one must be trimmed.
        func onOrBefore<T>(_ records: [T], _ date: (T) -> LocalDate) -> [T] {
            guard records.contains(where: { date($0) > asOf }) else { return records }
            let kept = records.filter { date($0) <= asOf }
            ignored += records.count - kept.count
            return kept
        }
        var labs = onOrBefore(c.labs, \.date)
        // Stable, so skipping an already ordered list changes nothing.
        if !labs.indices.dropFirst().allSatisfy({ labs[$0 - 1].date <= labs[$0].date }) { labs.sort { $0.date < $1.date } }
        self.labs = labs
        let vitals = onOrBefore(c.vitals, \.date)
        // The latest row; among rows of one day, the last one entered.
        latestVitals = vitals.enumerated().max { ($0.element.date, $0.offset) < ($1.element.date, $1.offset) }?.element
        var active: [ActiveDrug] = [], classes: UInt32 = 0
        for i in c.medications.indices where c.medications[i].isActive(on: asOf) {
            guard let drug = c.medications[i].drugInfo else { continue }
            active.append(ActiveDrug(drug: drug, index: i))
            classes |= drug.classMask
        }
        self.active = active
        activeClasses = classes
        if c.lesions.contains(where: { $0.measurements.contains { $0.date > asOf } }) {
            lesions = c.lesions.map { lesion in
                var trimmed = lesion
                trimmed.measurements = lesion.measurements.filter { $0.date <= asOf }
                ignored += lesion.measurements.count - trimmed.measurements.count
                return trimmed
            }
        } else {
            lesions = c.lesions
        }
        self.visits = onOrBefore(c.visits, \.date)
        ignoredRecordCount = ignored
        if let birth = c.patient.birthDate {
            ageYears = birth.wholeYears(until: asOf)
            ageDays = birth.days(until: asOf)
        } else {
            ageYears = nil
            ageDays = nil
        }
    }

    /// The most recent result of a test on or before asOf.
    public func latest(_ test: LabTest) -> LabResult? { labs.last { $0.test == test } }

    public func activeDrugs(in drugClass: DrugClass) -> [(medication: Medication, drug: Drug)] {
        activeDrugs.filter { $0.drug.is(drugClass) }
    }

    public func isActive(_ drugClass: DrugClass) -> Bool { activeClasses & drugClass.bit != 0 }

    /// The record of an active drug, read in place.
    func medication(_ a: ActiveDrug) -> Medication { c.medications[a.index] }

    /// dialysis or eGFR below the threshold (KDIGO G5 by default): the renal side of R2 and DDI-04.
    public func renalFailure(egfrBelow threshold: ThresholdID) -> (value: Bool?, basis: String) {
        let renal = renalStatus(egfrBelow: threshold)
        return (renal.value, renal.basis)
    }

    /// `renalFailure` as values; the basis text is written only when a rule shows it.
    func renalStatus(egfrBelow threshold: ThresholdID) -> RenalStatus {
        if c.history.dialysis == true { return RenalStatus(value: true, dialysis: true, egfr: nil, egfrDate: nil, limit: 0) }
        if let egfr = latest(.egfr) {
            let limit = thresholds[threshold]
            return RenalStatus(value: egfr.canonicalValue < limit, dialysis: c.history.dialysis, egfr: egfr.canonicalValue, egfrDate: egfr.date, limit: limit)
        }
        return RenalStatus(value: nil, dialysis: c.history.dialysis, egfr: nil, egfrDate: nil, limit: 0)
    }

    private var c: Case { self.case }
}

/// An active medication known to the drug table: its entry and its place in `case.medications`.
struct ActiveDrug: Sendable {
    let drug: Drug
    let index: Int
}

/// Dialysis or eGFR below a limit, with what it was judged on.
struct RenalStatus: Sendable {
    let value: Bool?
    let dialysis: Bool?
    let egfr: Double?
    let egfrDate: LocalDate?
    let limit: Double

    var basis: String {
        if dialysis == true { return "on dialysis" }
        if let egfr, let egfrDate { return "eGFR \(fmt(egfr)) on \(egfrDate) (\(value == true ? "<" : "≥") \(fmt(limit)))" }
        if dialysis == false { return "not on dialysis; eGFR not given" }
        return "dialysis status and eGFR not given"
    }
}

/// Number text for basis lines: shortest round-trip form, at most 2 decimals.
public func fmt(_ value: Double) -> String { JSONWriter.formatNumber(rounded(value, places: 2)) }
