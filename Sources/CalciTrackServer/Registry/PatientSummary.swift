import CalciTrackCore
import Fluent
import SQLKit
import Vapor

/// The derived columns of a patient: the worklist columns, taken from the engine's assessment of
/// the stored record (follow-up dates, unhealed lesions, worsening or recurred lesions,
/// infection, sepsis screen, high alerts; the triage at onset of an open infection episode) and
/// from open infection episodes, and the case sections built from the records
/// (read by the assessment instead of the records). Refreshed inside every write transaction
/// that touches the patient, so the worklist and the assessment never disagree with the records:
/// a new write path must call `refresh` too.
struct PatientSummary: Sendable, Equatable {
    var lastContact: String?
    /// The latest nextDue that no later visit or measurement has met.
    var nextDue: String?
    var hasUnhealedLesion: Bool
    var activeInfection: Bool
    var infectionSeverity: String?
    var worseningLesion: Bool
    var bodySites: String?
    /// An open infection episode that today's assessment does not classify (its findings or
    /// vital signs have changed since): the engine's triage of the case as of the episode's
    /// onset, with that day's findings, vitals and labs.
    var infectionOnset: String?
    var onsetSeverity: String?
    var onsetSepsisScreen: String?
    /// Today's sepsis screen when positive (SIRS ≥ 2, clinical-spec 6.1, or qSOFA ≥ 2, 6.3) in a patient
    /// with an infection (the engine's or an open episode), with its criteria.
    var sepsisScreen: String?
    /// Today's high-severity medication-safety alerts, one "ID: message" line each.
    var highAlerts: String?
    /// `RegistryCase.recordSections` as compact JSON.
    var caseRecords: String
    /// Follow-up status and worklist tier on the day of the write (migration 012).
    var standing: WorklistStanding

    static func compute(patient: Patient, records: RegistryCase.Records, today: LocalDate) throws -> PatientSummary {
        let sections = RegistryCase.recordSections(records)
        let decoded = try RegistryCase.decode(RegistryCase.json(patient: patient, sections: sections, asOf: today), today: today)
        let assessment = Assessor().assess(decoded)
        let followUp = assessment.followUp
        var nextDue: LocalDate?
        if let due = followUp.nextDue, !(followUp.lastVisit.map { $0 >= due } ?? false) { nextDue = due }
        let severity = assessment.infection.severity.rawValue
        let sites = Set(records.lesions.compactMap(\.site)).sorted()
        let openEpisode = records.infections.last(where: \.isActive)
        var onset: (date: String, severity: String?, sepsis: String?)?
        // The case as of an onset before the birth date is no case (the decoder refuses it): such an
        // episode (imported, or written before the API checked it) keeps no severity at onset
        // rather than making every write to the patient fail.
        let born = patient.birthDate.flatMap { LocalDate(iso: $0) }
        if let openEpisode, severity == "none", let onsetDate = LocalDate(iso: openEpisode.onset), born.map({ $0 <= onsetDate }) ?? true {
            // The day's records count (labs and vitals of the admission day).
            let atOnset = Assessor().assess(try RegistryCase.decode(RegistryCase.json(patient: patient, sections: sections, asOf: onsetDate), today: today)).infection
            onset = (openEpisode.onset, atOnset.severity == .none ? nil : atOnset.severity.rawValue, sepsisScreen(atOnset))
        }
        let high = assessment.alerts.filter { $0.level == .high }
        var summary = PatientSummary(
            lastContact: followUp.lastVisit?.description,
            nextDue: nextDue?.description,
            hasUnhealedLesion: assessment.lesions.contains { $0.healed != true },
            activeInfection: records.infections.contains(where: \.isActive) || assessment.infection.present,
            infectionSeverity: severity == "none" ? nil : severity,
            worseningLesion: assessment.lesions.contains { $0.trend == "worsening" || $0.trend == "recurred" },
            bodySites: sites.isEmpty ? nil : "," + sites.joined(separator: ",") + ",",
            infectionOnset: onset?.date, onsetSeverity: onset?.severity, onsetSepsisScreen: onset?.sepsis,
            // A screen for sepsis in infection: only with an infection (engine or open episode).
            sepsisScreen: assessment.infection.present || openEpisode != nil ? sepsisScreen(assessment.infection) : nil,
            highAlerts: high.isEmpty ? nil : high.map { "\($0.id): \($0.message.replacingOccurrences(of: "\n", with: " "))" }.joined(separator: "\n"),
            caseRecords: JSONWriter.write(.object(sections), pretty: false),
            standing: WorklistStanding(followUpStatus: "no-visits", tier: 9, day: today, until: nil))
        summary.standing = WorklistStanding.of(WorklistStanding.Inputs(summary), on: today)
        return summary
    }

    /// "SIRS 3/4: temperature, heart rate, WBC", "qSOFA 2/3", both, or nil when neither is positive.
    static func sepsisScreen(_ triage: InfectionTriage) -> String? {
        let names = ["temperature": "temperature", "heartRate": "heart rate", "respiration": "respiration", "wbc": "WBC"]
        var parts: [String] = []
        if triage.sirs.positive { parts.append("SIRS \(triage.sirs.criteriaMet)/4: \(triage.sirs.criteria.map { names[$0] ?? $0 }.joined(separator: ", "))") }
        if let q = triage.qsofa, q.positive { parts.append("qSOFA \(q.score)/3") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    func store(in patient: Patient) {
        patient.lastContact = lastContact
        patient.nextDue = nextDue
        patient.hasUnhealedLesion = hasUnhealedLesion
        patient.activeInfection = activeInfection
        patient.infectionSeverity = infectionSeverity
        patient.worseningLesion = worseningLesion
        patient.bodySites = bodySites
        patient.infectionOnset = infectionOnset
        patient.onsetSeverity = onsetSeverity
        patient.onsetSepsisScreen = onsetSepsisScreen
        patient.sepsisScreenPositive = sepsisScreen != nil
        patient.sepsisScreen = sepsisScreen
        patient.highAlert = highAlerts != nil
        patient.highAlerts = highAlerts
        patient.followUpStatus = standing.followUpStatus
        patient.worklistTier = standing.tier
        patient.standingDay = standing.day.description
        patient.standingUntil = standing.until?.description
    }

    /// Recomputes and saves the summary (no version bump: the summary is derived, not entered).
    static func refresh(_ patientID: UUID, on db: any Database, today: LocalDate) async throws {
        guard let patient = try await Patient.find(patientID, on: db) else { return }
        let summary = try compute(patient: patient, records: try await RegistryCase.records(of: patientID, on: db), today: today)
        try await summary.save(of: patientID, on: db)
    }

    /// Writes the summary columns and the case sections of a patient, and its worklist standing
    /// unless `standing` is false (migration 011, which runs before 012 adds those columns).
    func save(of patientID: UUID, on db: any Database, standing: Bool = true) async throws {
        try await saveColumns(of: patientID, on: db, standing: standing)
        try await RegistryCase.storeSections(caseRecords, of: patientID, on: db)
    }

    /// The patient columns the summary fills, and the worklist standing's (migration 012).
    static let summaryColumns = ["last_contact", "next_due", "has_unhealed_lesion", "active_infection", "infection_severity",
                                 "worsening_lesion", "body_sites", "infection_onset", "onset_severity", "onset_sepsis_screen",
                                 "sepsis_screen_positive", "sepsis_screen", "high_alert", "high_alerts"]
    static let standingColumns = ["follow_up_status", "worklist_tier", "standing_day", "standing_until"]

    /// Values of `summaryColumns`, in order.
    var summaryValues: [any SQLExpression] {
        [bulkBind(lastContact), bulkBind(nextDue), SQLBind(hasUnhealedLesion), SQLBind(activeInfection), bulkBind(infectionSeverity),
         SQLBind(worseningLesion), bulkBind(bodySites), bulkBind(infectionOnset), bulkBind(onsetSeverity), bulkBind(onsetSepsisScreen),
         SQLBind(sepsisScreen != nil), bulkBind(sepsisScreen), SQLBind(highAlerts != nil), bulkBind(highAlerts)]
    }

    /// Values of `standingColumns`, in order.
    var standingValues: [any SQLExpression] {
        [SQLBind(standing.followUpStatus), SQLBind(standing.tier), SQLBind(standing.day.description), bulkBind(standing.until?.description)]
    }

    /// Writes the summary columns of the patient row (and its worklist standing unless `standing`
    /// is false), deleted or not. SQLKit, not a Fluent update: Fluent resolves each `.set` key path
    /// by building a `Patient`. The row's update time moves, as it did with Fluent's update (FHIR
    /// meta.lastUpdated of the Patient).
    func saveColumns(of patientID: UUID, on db: any Database, standing: Bool = true, at now: Date = Date()) async throws {
        var update = (db as! any SQLDatabase).update(Patient.schema)
        let columns = Self.summaryColumns + (standing ? Self.standingColumns : [])
        for (column, value) in zip(columns, summaryValues + (standing ? standingValues : [])) { update = update.set(column, to: value) }
        try await update.set("updated_at", to: SQLBind(now)).where("id", .equal, SQLBind(patientID)).run()
    }

    /// `saveColumns` of many patients in multi-row UPDATEs (the import changes thousands per chunk;
    /// on PostgreSQL one statement each was a round trip each).
    static func saveColumns(_ rows: [(id: UUID, summary: PatientSummary)], at now: Date, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        let columns = summaryColumns + standingColumns
        let maxBinds = sql.dialect.name == "sqlite" ? 32_766 : 65_535
        for slice in rows.chunked(max(1, (maxBinds - 1) / (columns.count + 1))) {
            let values = slice.map { [SQLBind($0.id)] + $0.summary.summaryValues + $0.summary.standingValues }
            try await sql.execute(sql: MultiRowUpdate(table: Patient.schema, columns: columns, rows: values, updatedAt: now)) { _ in }
        }
    }

    /// Refreshes several patients at once (bulk writes: FHIR Bundles, `calcitrack import`): their
    /// records in eight queries per 500 patients, the engine once per patient, one UPDATE each.
    static func refresh(_ patientIDs: [UUID], on db: any Database, today: LocalDate) async throws {
        for chunk in patientIDs.chunked(500) {
            let ids = Array(chunk)
            let patients = try await Patient.query(on: db).filter(\.$id ~~ ids).all()
            let records = try await RegistryCase.records(ofPatients: ids, on: db)
            for patient in patients {
                let id = try patient.requireID()
                try await compute(patient: patient, records: records[id] ?? .empty, today: today).save(of: id, on: db)
            }
        }
    }

    /// The summaries of patients whose rows and records the caller already holds, as they are
    /// in its transaction (`calcitrack import`: `FHIRWriter` with an `ImportRecordCache`). Pure:
    /// the import runs it beside its inserts, then `store`s the result.
    static func compute(_ patients: [Patient], records: [UUID: RegistryCase.Records], today: LocalDate) throws -> [(patient: Patient, summary: PatientSummary)] {
        try patients.map { patient in (patient, try compute(patient: patient, records: records[try patient.requireID()] ?? .empty, today: today)) }
    }

    /// Writes computed summaries: a patient row only when a column changes (the row is the
    /// caller's, as stored), in multi-row UPDATEs, and the case sections of all of them in
    /// multi-row upserts.
    static func store(_ computed: [(patient: Patient, summary: PatientSummary)], on db: any Database) async throws {
        var sections: [(UUID, String)] = []
        var changed: [(id: UUID, summary: PatientSummary)] = []
        let now = Date()
        for (patient, summary) in computed {
            let id = try patient.requireID()
            if !summary.isStored(in: patient) {
                changed.append((id, summary))
                summary.store(in: patient)
                patient.updatedAt = now
            }
            sections.append((id, summary.caseRecords))
        }
        try await saveColumns(changed, at: now, on: db)
        try await RegistryCase.storeSections(sections, on: db)
    }

    /// Whether the patient row already holds this summary's columns.
    func isStored(in p: Patient) -> Bool {
        p.lastContact == lastContact && p.nextDue == nextDue && p.hasUnhealedLesion == hasUnhealedLesion
            && p.activeInfection == activeInfection && p.infectionSeverity == infectionSeverity && p.worseningLesion == worseningLesion
            && p.bodySites == bodySites && p.infectionOnset == infectionOnset && p.onsetSeverity == onsetSeverity
            && p.onsetSepsisScreen == onsetSepsisScreen && p.sepsisScreenPositive == (sepsisScreen != nil) && p.sepsisScreen == sepsisScreen
            && p.highAlert == (highAlerts != nil) && p.highAlerts == highAlerts
            && p.followUpStatus == standing.followUpStatus && p.worklistTier == standing.tier
            && p.standingDay == standing.day.description && p.standingUntil == standing.until?.description
    }

    /// Follow-up status from the stored columns on `today`, with the engine's thresholds
    /// (case-format.md follow-up; `FollowUp.evaluate` gives the same answer for the same data).
    static func followUpStatus(lastContact: String?, nextDue: String?, unhealed: Bool, today: LocalDate, thresholds: Thresholds = Thresholds()) -> String {
        guard let lastText = lastContact, let last = LocalDate(iso: lastText) else { return "no-visits" }
        if last.days(until: today) > Int(thresholds[.followUpLostDays]) && unhealed { return "lost" }
        if let dueText = nextDue, let due = LocalDate(iso: dueText) {
            let past = due.days(until: today)
            if past > Int(thresholds[.followUpOverdueDays]) { return "overdue" }
            if past >= 1 { return "due" }
        }
        return "ok"
    }
}
