import CalciTrackCore
import Fluent
import Vapor

/// Recording a visit in one form: vitals, labs, lesion measurements with the day's findings and
/// lesion status (and a new lesion), medication changes, a procedure, an infection episode and an
/// imaging study. Everything is validated first; then every record, the
/// patient's summary and the audit entries are written in one transaction. After saving, the
/// patient page shows the assessment recomputed from the new record.
struct VisitFormController: Sendable {
    func register(_ pages: any RoutesBuilder) {
        pages.get("patients", ":id", "visits", "new", use: page)
        pages.post("patients", ":id", "visits", use: save)
    }

    private func load(_ req: Request, _ ctx: WebContext, on db: any Database) async throws -> (Patient, VisitForm.Context) {
        let id = try req.uuidParameter("id", "patient")
        let (patient, _) = try await PatientAccess.load(id, ctx.principal, .write, on: db)
        async let lesions = LesionRecord.query(on: db).filter(\.$patientID == id).sort(\.$createdAt).all()
        async let medications = MedicationRecord.query(on: db).filter(\.$patientID == id).sort(\.$start).all()
        // In the order the case is built from (RegistryCase.records): by date, then entry.
        async let measurements = MeasurementRecord.query(on: db).filter(\.$patientID == id).sort(\.$date).sort(\.$createdAt).sort(\.$id).all()
        let today = req.today.description
        let current = try await medications.filter { $0.stop == nil || $0.stop! > today }
        var context = VisitForm.Context(lesions: try await lesions, medications: current, measurements: try await measurements)
        context.birthDate = patient.birthDate
        return (patient, context)
    }

    @Sendable func page(req: Request) async throws -> Response {
        let ctx = try await req.webContext()
        let (patient, context) = try await load(req, ctx, on: req.db)
        let pid = patient.id!.lowercasedString
        try await req.recordAudit([AuditEvent(action: "read", resourceType: "patients", resourceID: pid, patientID: pid, detail: "web visit form")],
                                  actor: try await req.auditActor)
        return .html(VisitFormPage(ctx: ctx, patient: patient, context: context, form: .blank(today: req.today, context)).render())
    }

    @Sendable func save(req: Request) async throws -> Response {
        let ctx = try await req.webContext()
        let (patient, context) = try await load(req, ctx, on: req.db)
        let today = req.today
        var form = VisitForm()
        form.values = (try? req.content.decode([String: String].self)) ?? [:]
        form.values["_csrf"] = nil
        guard let plan = form.plan(context, today: today) else {
            return .html(VisitFormPage(ctx: ctx, patient: patient, context: context, form: form).render(), status: .unprocessableEntity)
        }
        let pid = patient.id!
        let principal = ctx.principal
        do {
            try await write(plan, patient: pid, principal: principal, today: today, req: req)
        } catch let duplicate as DuplicateLesionLabel {
            // Another write took the label since the form was checked: nothing was saved.
            form.fail("new_label", VisitForm.duplicateLabel(duplicate.label))
            return .html(VisitFormPage(ctx: ctx, patient: patient, context: context, form: form).render(), status: .unprocessableEntity)
        }
        return .seeOther("/patients/\(pid.lowercasedString)?saved=1")
    }

    /// A new lesion's label taken inside the write transaction (the label is the lesion's id in
    /// the case format, unique per patient).
    struct DuplicateLesionLabel: Error { let label: String }

    /// Every record of the plan, the summary and the audit entries in one transaction.
    private func write(_ plan: VisitForm.Plan, patient pid: UUID, principal: Principal, today: LocalDate, req: Request) async throws {
        try await AuditLog.write(on: req.db, actor: try await req.auditActor) { tx in
            _ = try await PatientAccess.load(pid, principal, .write, on: tx)
            var events: [AuditEvent] = []
            func create<R: PatientRecord>(_ record: R, parent: UUID? = nil) async throws {
                record.patientID = pid
                if let parent { record.parentID = parent }
                record.version = 1
                record.createdBy = principal.username
                record.updatedBy = principal.username
                try await record.create(on: tx)
                events.append(AuditEvent(action: "create", resourceType: R.info.path, resourceID: record.id?.lowercasedString,
                                         patientID: pid.lowercasedString, detail: "version 1 (web visit form)"))
            }
            try await create(plan.visit)
            if let vitals = plan.vitals { try await create(vitals) }
            for lab in plan.labs { try await create(lab) }
            for m in plan.measurements { try await create(m, parent: m.lesionID) }
            for (id, body) in plan.statusUpdates {
                guard let lesion = try await LesionRecord.find(id, on: tx), lesion.patientID == pid else { throw APIError.notFound("lesion") }
                try lesion.apply(body, today: today)
                lesion.version += 1
                lesion.updatedBy = principal.username
                try await lesion.update(on: tx)
                events.append(AuditEvent(action: "update", resourceType: "lesions", resourceID: id.lowercasedString,
                                         patientID: pid.lowercasedString, detail: "version \(lesion.version); changed: status (web visit form)"))
            }
            if let lesion = plan.newLesion {
                if try await LesionRecord.query(on: tx).filter(\.$patientID == pid).filter(\.$label == lesion.label).count() > 0 {
                    throw DuplicateLesionLabel(label: lesion.label)
                }
                try await create(lesion)
                if let m = plan.newLesionMeasurement { try await create(m, parent: lesion.id) }
            }
            if let medication = plan.newMedication { try await create(medication) }
            for id in plan.stops {
                guard let med = try await MedicationRecord.find(id, on: tx), med.patientID == pid else { throw APIError.notFound("medication") }
                med.stop = plan.date
                med.version += 1
                med.updatedBy = principal.username
                try await med.update(on: tx)
                events.append(AuditEvent(action: "update", resourceType: "medications", resourceID: id.lowercasedString,
                                         patientID: pid.lowercasedString, detail: "version \(med.version); changed: stop (web visit form)"))
            }
            for hold in plan.holds {
                try await create(hold, parent: hold.medicationID)
                // The hold is part of its medication's statement; a medication stopped in this same
                // visit already got its new version above.
                if !plan.stops.contains(hold.medicationID) {
                    events.append(try await MedicationRecord.versionForHoldChange(hold.medicationID, hold: "hold created (web visit form)", by: principal.username, on: tx))
                }
            }
            // A drug stopped and held in this visit: its new version (written at the stop) lists the hold.
            try await MedicationHoldSnapshot.stamp(Set(plan.holds.map(\.medicationID)).intersection(plan.stops), on: tx)
            if let procedure = plan.procedure { try await create(procedure) }
            if let infection = plan.infection { try await create(infection) }
            if let imaging = plan.imaging { try await create(imaging) }
            try await PatientSummary.refresh(pid, on: tx, today: today)
            return ((), events)
        }
    }
}
