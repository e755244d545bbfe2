import CalciTrackCore
import Fluent
import Vapor

/// The derived columns of a patient: the worklist columns, taken from the engine's assessment of
/// the stored record (follow-up dates, unhealed lesions, worsening or recurred lesions,
/// infection) and from open infection episodes, and the case sections built from the records
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
    /// `RegistryCase.recordSections` as compact JSON.
    var caseRecords: String

    static func compute(patient: Patient, records: RegistryCase.Records, today: LocalDate) throws -> PatientSummary {
        let sections = RegistryCase.recordSections(records)
        let decoded = try RegistryCase.decode(RegistryCase.json(patient: patient, sections: sections, asOf: today), today: today)
        let assessment = Assessor().assess(decoded)
        let followUp = assessment.followUp
        var nextDue: LocalDate?
        if let due = followUp.nextDue, !(followUp.lastVisit.map { $0 >= due } ?? false) { nextDue = due }
        let severity = assessment.infection.severity.rawValue
        let sites = Set(records.lesions.compactMap(\.site)).sorted()
        return PatientSummary(
            lastContact: followUp.lastVisit?.description,
            nextDue: nextDue?.description,
            hasUnhealedLesion: assessment.lesions.contains { $0.healed != true },
            activeInfection: records.infections.contains(where: \.isActive) || assessment.infection.present,
            infectionSeverity: severity == "none" ? nil : severity,
            worseningLesion: assessment.lesions.contains { $0.trend == "worsening" || $0.trend == "recurred" },
            bodySites: sites.isEmpty ? nil : "," + sites.joined(separator: ",") + ",",
            caseRecords: JSONWriter.write(.object(sections), pretty: false))
    }

    func store(in patient: Patient) {
        patient.lastContact = lastContact
        patient.nextDue = nextDue
        patient.hasUnhealedLesion = hasUnhealedLesion
        patient.activeInfection = activeInfection
        patient.infectionSeverity = infectionSeverity
        patient.worseningLesion = worseningLesion
        patient.bodySites = bodySites
    }

    /// Recomputes and saves the summary (no version bump: the summary is derived, not entered).
    static func refresh(_ patientID: UUID, on db: any Database, today: LocalDate) async throws {
        guard let patient = try await Patient.find(patientID, on: db) else { return }
        let summary = try compute(patient: patient, records: try await RegistryCase.records(of: patientID, on: db), today: today)
        try await Patient.query(on: db).filter(\.$id == patientID)
            .set(\.$lastContact, to: summary.lastContact).set(\.$nextDue, to: summary.nextDue)
            .set(\.$hasUnhealedLesion, to: summary.hasUnhealedLesion).set(\.$activeInfection, to: summary.activeInfection)
            .set(\.$infectionSeverity, to: summary.infectionSeverity).set(\.$worseningLesion, to: summary.worseningLesion)
            .set(\.$bodySites, to: summary.bodySites)
            .update()
        try await RegistryCase.storeSections(summary.caseRecords, of: patientID, on: db)
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
                let summary = try compute(patient: patient, records: records[id] ?? .empty, today: today)
                try await Patient.query(on: db).filter(\.$id == id)
                    .set(\.$lastContact, to: summary.lastContact).set(\.$nextDue, to: summary.nextDue)
                    .set(\.$hasUnhealedLesion, to: summary.hasUnhealedLesion).set(\.$activeInfection, to: summary.activeInfection)
                    .set(\.$infectionSeverity, to: summary.infectionSeverity).set(\.$worseningLesion, to: summary.worseningLesion)
                    .set(\.$bodySites, to: summary.bodySites)
                    .update()
                try await RegistryCase.storeSections(summary.caseRecords, of: id, on: db)
            }
        }
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
