import CalciTrackCore
import Fluent
import FluentSQL
import SQLKit
import Vapor

/// The one path from stored records to a case (architecture.md "Data flow"): the API's
/// assessment, the worklist summary, the web UI and CDS Hooks all use it. The case is built as
/// case-format JSON and decoded by the engine's own decoder, so stored data passes the same
/// validation as a file given to `calcitrack assess`.
enum RegistryCase {
    struct Records: Sendable {
        var lesions: [LesionRecord]
        var measurements: [MeasurementRecord]
        var visits: [VisitRecord]
        var labs: [LabRecord]
        var vitals: [VitalsRecord]
        var medications: [MedicationRecord]
        var imaging: [ImagingRecord]
        var infections: [InfectionEpisodeRecord]

        static let empty = Records(lesions: [], measurements: [], visits: [], labs: [], vitals: [], medications: [], imaging: [], infections: [])
    }

    static func records(of patientID: UUID, on db: any Database) async throws -> Records {
        try await records(ofPatients: [patientID], on: db)[patientID] ?? .empty
    }

    /// The records of several patients, eight queries in all (migration 008 fills 500 at a time).
    static func records(ofPatients ids: [UUID], on db: any Database) async throws -> [UUID: Records] {
        async let lesions = LesionRecord.query(on: db).filter(\.$patientID ~~ ids).sort(\.$createdAt).sort(\.$id).all()
        async let measurements = MeasurementRecord.query(on: db).filter(\.$patientID ~~ ids).sort(\.$date).sort(\.$createdAt).sort(\.$id).all()
        async let visits = VisitRecord.query(on: db).filter(\.$patientID ~~ ids).sort(\.$date).sort(\.$createdAt).sort(\.$id).all()
        async let labs = LabRecord.query(on: db).filter(\.$patientID ~~ ids).sort(\.$date).sort(\.$createdAt).sort(\.$id).all()
        async let vitals = VitalsRecord.query(on: db).filter(\.$patientID ~~ ids).sort(\.$date).sort(\.$createdAt).sort(\.$id).all()
        async let medications = MedicationRecord.query(on: db).filter(\.$patientID ~~ ids).sort(\.$start).sort(\.$createdAt).sort(\.$id).all()
        async let imaging = ImagingRecord.query(on: db).filter(\.$patientID ~~ ids).sort(\.$date).sort(\.$createdAt).sort(\.$id).all()
        async let infections = InfectionEpisodeRecord.query(on: db).filter(\.$patientID ~~ ids).sort(\.$onset).sort(\.$createdAt).sort(\.$id).all()
        // Records of the same day come in the order they were entered, then by id, so the order
        // (and the stored case sections) is the same on every read; `calcitrack generate` orders
        // its records the same way. Grouping keeps that order.
        func byPatient<R: PatientRecord>(_ rows: [R]) -> [UUID: [R]] { Dictionary(grouping: rows, by: \.patientID) }
        let (l, m, v, lab, vit, med, img, inf) = try await (byPatient(lesions), byPatient(measurements), byPatient(visits), byPatient(labs),
                                                            byPatient(vitals), byPatient(medications), byPatient(imaging), byPatient(infections))
        return Dictionary(uniqueKeysWithValues: ids.map { id in
            (id, Records(lesions: l[id] ?? [], measurements: m[id] ?? [], visits: v[id] ?? [], labs: lab[id] ?? [], vitals: vit[id] ?? [],
                         medications: med[id] ?? [], imaging: img[id] ?? [], infections: inf[id] ?? []))
        })
    }

    /// A patient that exists (not deleted) with the record sections stored for them
    /// (`patient_case_records`, kept current by `PatientSummary` in every write transaction), in
    /// one query: the assessment's reads were its main cost at 100,000 patients (BENCHMARKS.md).
    static func patientWithSections(_ id: UUID, on db: any Database) async throws -> (Patient, sections: String?)? {
        guard let row = try await (db as! any SQLDatabase).raw("""
            SELECT p.*, c.records AS case_records FROM patients p LEFT JOIN patient_case_records c ON c.patient_id = p.id
            WHERE p.id = \(bind: id) AND p.deleted_at IS NULL
            """).first() else { return nil }
        return (try row.decode(fluentModel: Patient.self), try row.decode(column: "case_records", as: String?.self))
    }

    /// The case-format JSON of a patient as of `asOf`, from their stored record sections, or
    /// from the records themselves when there are none (a patient stored before 008).
    static func json(patient: Patient, sections stored: String?, asOf: LocalDate, on db: any Database) async throws -> JSONObject {
        if let stored, case .object(let sections)? = try? JSONParser.parse(stored) {
            return json(patient: patient, sections: sections, asOf: asOf)
        }
        return json(patient: patient, records: try await records(of: try patient.requireID(), on: db), asOf: asOf)
    }

    /// The stored record sections (compact JSON) of a patient, if any (migration 008).
    static func storedSections(of patientID: UUID, on db: any Database) async throws -> String? {
        try await (db as! any SQLDatabase).raw("SELECT records FROM patient_case_records WHERE patient_id = \(bind: patientID)")
            .first()?.decode(column: "records", as: String.self)
    }

    /// Stores a patient's record sections; called by `PatientSummary`, inside the write transaction.
    static func storeSections(_ json: String, of patientID: UUID, on db: any Database) async throws {
        try await (db as! any SQLDatabase).raw("""
            INSERT INTO patient_case_records (patient_id, records) VALUES (\(bind: patientID), \(bind: json))
            ON CONFLICT (patient_id) DO UPDATE SET records = excluded.records
            """).run()
    }

    /// Stores the record sections of several patients in multi-row upserts (bulk writes).
    static func storeSections(_ rows: [(patientID: UUID, json: String)], on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        for start in stride(from: 0, to: rows.count, by: 1000) {
            let slice = rows[start..<min(start + 1000, rows.count)]
            try await sql.insert(into: "patient_case_records").columns("patient_id", "records")
                .rows(slice.map { [SQLBind($0.patientID), SQLBind($0.json)] })
                .onConflict(with: ["patient_id"]) { $0.set(excludedValueOf: "records") }
                .run()
        }
    }

    static func json(patient: Patient, records: Records, asOf: LocalDate) -> JSONObject {
        json(patient: patient, sections: recordSections(records), asOf: asOf)
    }

    /// The sections of a case that come from the patient's records, every measurement included:
    /// labs, vitals, medications, lesions (with measurements), visits, imagingStudies.
    static func recordSections(_ r: Records) -> JSONObject {
        var sections = JSONObject()
        sections["labs"] = .array(r.labs.map { .object(JSONObject([("test", .string($0.test)), ("value", .number($0.value)), ("unit", .string($0.unit)), ("date", .string($0.date))])) })
        sections["vitals"] = .array(r.vitals.map {
            .object(JSONObject(compacting: [("date", .string($0.date)), ("temperatureC", .optional($0.temperatureC)), ("heartRate", .optional($0.heartRate)),
                                            ("respiratoryRate", .optional($0.respiratoryRate)), ("systolicBP", .optional($0.systolicBP)),
                                            ("alteredMentation", .optional($0.alteredMentation))]))
        })
        sections["medications"] = .array(r.medications.map {
            .object(JSONObject(compacting: [("drug", .string($0.drug)), ("doseMg", .optional($0.doseMg)), ("frequency", .optional($0.frequency)),
                                            ("route", .optional($0.route)), ("start", .optional($0.start)), ("stop", .optional($0.stop) ?? .null)]))
        })
        sections["lesions"] = .array(r.lesions.map { lesion in
            let measurements = r.measurements.filter { $0.lesionID == lesion.id }
            return .object(JSONObject(compacting: [
                ("id", .string(lesion.label)), ("site", .optional(lesion.site)), ("laterality", .optional(lesion.laterality)),
                ("morphology", .optional(lesion.morphology)), ("periarticularMass", .optional(lesion.periarticularMass)),
                ("findings", lesion.findingsJSON),
                ("measurements", .array(measurements.map {
                    .object(JSONObject(compacting: [("date", .string($0.date)), ("lengthCm", .optional($0.lengthCm)), ("widthCm", .optional($0.widthCm)),
                                                    ("depthCm", .optional($0.depthCm)), ("areaCm2", .optional($0.areaCm2)),
                                                    ("perimeterCm", .optional($0.perimeterCm)), ("healed", .optional($0.healed)),
                                                    ("findings", $0.findingsJSON)]))
                })),
            ]))
        })
        sections["visits"] = .array(r.visits.map {
            .object(JSONObject(compacting: [("date", .string($0.date)), ("kind", .optional($0.kind)), ("nextDue", .optional($0.nextDue))]))
        })
        sections["imagingStudies"] = .array(r.imaging.map {
            .object(JSONObject(compacting: [("date", .string($0.date)), ("modality", .string($0.modality)), ("inconclusive", .optional($0.inconclusive))]))
        })
        return sections
    }

    /// The case from the patient row and its record sections. Measurements after `asOf` are left
    /// out (the case format rejects them); the engine itself ignores other records after `asOf`.
    /// A case describes the patient as of `asOf` (case-format.md), so each lesion's `findings` are
    /// those of its latest measurement on or before `asOf` that recorded findings, else the
    /// lesion's own (undated) findings; the measurements then carry no findings of their own.
    static func json(patient: Patient, sections: JSONObject, asOf: LocalDate) -> JSONObject {
        var root = JSONObject([("formatVersion", 1), ("id", .string(patient.id?.lowercasedString ?? "")), ("asOf", .string(asOf.description))])
        root["patient"] = .object(JSONObject(compacting: [
            ("sex", .string(patient.sex)), ("birthDate", .optional(patient.birthDate)),
            ("weightKg", .optional(patient.weightKg)), ("pregnant", .optional(patient.pregnant)),
        ]))
        func section(_ text: String?) -> JSONValue? { text.flatMap { try? JSONParser.parse($0) } }
        root["ssc"] = section(patient.ssc)
        root["otherConnectiveTissueDisease"] = section(patient.otherCTD)
        root["history"] = section(patient.history)
        root["labs"] = sections["labs"]
        root["vitals"] = sections["vitals"]
        root["medications"] = sections["medications"]
        let limit = asOf.description
        if case .array(let lesions)? = sections["lesions"] {
            root["lesions"] = .array(lesions.map { lesion in
                guard case .object(var object) = lesion, case .array(let measurements)? = object["measurements"] else { return lesion }
                var kept: [JSONValue] = []
                for case .object(var m) in measurements {
                    if case .string(let date)? = m["date"], date > limit { continue }
                    // Same-day measurements come in entry order: the last one entered wins.
                    if let findings = m["findings"] { object["findings"] = findings; m["findings"] = nil }
                    kept.append(.object(m))
                }
                object["measurements"] = .array(kept)
                return .object(object)
            })
        }
        root["infection"] = section(patient.infectionInputs)
        root["visits"] = sections["visits"]
        root["imagingStudies"] = sections["imagingStudies"]
        root["workup"] = section(patient.workup)
        return JSONObject(root.entries.filter { $0.value != .null }.map { ($0.key, $0.value) })
    }

    /// Decodes the built case with the engine's decoder. Stored data was validated on the way
    /// in, so a rejection here is a server fault, reported with the engine's errors.
    static func decode(_ json: JSONObject, today: LocalDate) throws -> DecodedCase {
        do {
            return try CaseDecoder.decode(.object(json), today: today)
        } catch {
            throw APIError(.internalServerError, "stored records do not form a valid case: " + error.errors.map { "\($0.field): \($0.message)" }.joined(separator: "; "))
        }
    }

    /// A case as a de-identified reader (a researcher, `shift` non-zero) sees it: the patient's
    /// birth date top-coded at 90 years before `today` (`DeidentifiedAge`), then every date shifted.
    static func deidentified(_ json: JSONObject, by shift: DateShift, today: LocalDate) -> JSONObject {
        guard shift.days != 0 else { return json }
        var json = json
        if case .object(var patient)? = json["patient"], let born = patient["birthDate"]?.stringValue {
            patient["birthDate"] = .string(DeidentifiedAge.birthDate(born, today: today) ?? born)
            json["patient"] = .object(patient)
        }
        guard case .object(let shifted) = shiftDates(.object(json), by: shift) else { return json }
        return shifted
    }

    /// Moves every full ISO date in a JSON document by `shift` days (de-identified reads).
    static func shiftDates(_ value: JSONValue, by shift: DateShift) -> JSONValue {
        guard shift.days != 0 else { return value }
        switch value {
        case .string(let s):
            if s.count == 10, let date = LocalDate(iso: s) { return .string(date.adding(days: shift.days).description) }
            return value
        case .array(let items): return .array(items.map { shiftDates($0, by: shift) })
        case .object(let object): return .object(JSONObject(object.entries.map { ($0.key, shiftDates($0.value, by: shift)) }))
        default: return value
        }
    }
}
