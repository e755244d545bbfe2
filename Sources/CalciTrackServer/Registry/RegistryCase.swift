import CalciTrackCore
import Fluent
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
    }

    static func records(of patientID: UUID, on db: any Database) async throws -> Records {
        async let lesions = LesionRecord.query(on: db).filter(\.$patientID == patientID).sort(\.$createdAt).all()
        async let measurements = MeasurementRecord.query(on: db).filter(\.$patientID == patientID).sort(\.$date).all()
        async let visits = VisitRecord.query(on: db).filter(\.$patientID == patientID).sort(\.$date).all()
        async let labs = LabRecord.query(on: db).filter(\.$patientID == patientID).sort(\.$date).all()
        async let vitals = VitalsRecord.query(on: db).filter(\.$patientID == patientID).sort(\.$date).all()
        async let medications = MedicationRecord.query(on: db).filter(\.$patientID == patientID).sort(\.$start).all()
        async let imaging = ImagingRecord.query(on: db).filter(\.$patientID == patientID).sort(\.$date).all()
        async let infections = InfectionEpisodeRecord.query(on: db).filter(\.$patientID == patientID).sort(\.$onset).all()
        return try await Records(lesions: lesions, measurements: measurements, visits: visits, labs: labs, vitals: vitals,
                                 medications: medications, imaging: imaging, infections: infections)
    }

    /// The case-format JSON of a patient as of `asOf`. Measurements after `asOf` are left out
    /// (the case format rejects them); the engine itself ignores other records after `asOf`.
    static func json(patient: Patient, records r: Records, asOf: LocalDate) -> JSONObject {
        var root = JSONObject([("formatVersion", 1), ("id", .string(patient.id?.uuidString.lowercased() ?? "")), ("asOf", .string(asOf.description))])
        root["patient"] = .object(JSONObject(compacting: [
            ("sex", .string(patient.sex)), ("birthDate", .optional(patient.birthDate)),
            ("weightKg", .optional(patient.weightKg)), ("pregnant", .optional(patient.pregnant)),
        ]))
        func section(_ text: String?) -> JSONValue? { text.flatMap { try? JSONParser.parse($0) } }
        root["ssc"] = section(patient.ssc)
        root["otherConnectiveTissueDisease"] = section(patient.otherCTD)
        root["history"] = section(patient.history)
        root["labs"] = .array(r.labs.map { .object(JSONObject([("test", .string($0.test)), ("value", .number($0.value)), ("unit", .string($0.unit)), ("date", .string($0.date))])) })
        root["vitals"] = .array(r.vitals.map {
            .object(JSONObject(compacting: [("date", .string($0.date)), ("temperatureC", .optional($0.temperatureC)), ("heartRate", .optional($0.heartRate)),
                                            ("respiratoryRate", .optional($0.respiratoryRate)), ("systolicBP", .optional($0.systolicBP)),
                                            ("alteredMentation", .optional($0.alteredMentation))]))
        })
        root["medications"] = .array(r.medications.map {
            .object(JSONObject(compacting: [("drug", .string($0.drug)), ("doseMg", .optional($0.doseMg)), ("frequency", .optional($0.frequency)),
                                            ("route", .optional($0.route)), ("start", .optional($0.start)), ("stop", .optional($0.stop) ?? .null)]))
        })
        let limit = asOf.description
        root["lesions"] = .array(r.lesions.map { lesion in
            let measurements = r.measurements.filter { $0.lesionID == lesion.id && $0.date <= limit }
            return .object(JSONObject(compacting: [
                ("id", .string(lesion.label)), ("site", .optional(lesion.site)), ("laterality", .optional(lesion.laterality)),
                ("morphology", .optional(lesion.morphology)), ("periarticularMass", .optional(lesion.periarticularMass)),
                ("findings", lesion.findingsJSON),
                ("measurements", .array(measurements.map {
                    .object(JSONObject(compacting: [("date", .string($0.date)), ("lengthCm", .optional($0.lengthCm)), ("widthCm", .optional($0.widthCm)),
                                                    ("depthCm", .optional($0.depthCm)), ("areaCm2", .optional($0.areaCm2)),
                                                    ("perimeterCm", .optional($0.perimeterCm)), ("healed", .optional($0.healed))]))
                })),
            ]))
        })
        root["infection"] = section(patient.infectionInputs)
        root["visits"] = .array(r.visits.map {
            .object(JSONObject(compacting: [("date", .string($0.date)), ("kind", .optional($0.kind)), ("nextDue", .optional($0.nextDue))]))
        })
        root["imagingStudies"] = .array(r.imaging.map {
            .object(JSONObject(compacting: [("date", .string($0.date)), ("modality", .string($0.modality)), ("inconclusive", .optional($0.inconclusive))]))
        })
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
