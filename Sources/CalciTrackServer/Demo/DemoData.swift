import CalciTrackCore
import Fluent
import Vapor

/// The two published case reports (../shared/seeds) as registry patients with their whole
/// histories, so a new installation shows a real registry at once. Loaded through the same
/// validation as the API, in one transaction, audited as the `demo-loader`.
/// Lesion findings are dated by the measurement they were seen at (migration 011), so seed 1's
/// admission findings (purulent, erythema, oedema) and its discharge findings are both kept, and
/// a case built as of the admission day is the published admission case.
enum DemoData {
    static let siteCode = "DEMO"

    static func load(on db: any Database, today: LocalDate, logger: Logger) async throws {
        guard case .array(let patients) = try JSONParser.parse(demoJSON) else { return }
        try await AuditLog.write(on: db, actor: .system("demo-loader")) { tx in
            let site: Site
            if let existing = try await Site.query(on: tx).filter(\.$code == siteCode).first() {
                site = existing
            } else {
                site = Site(code: siteCode, name: "Demo clinic (published case reports)")
                try await site.create(on: tx)
            }
            var events: [AuditEvent] = []
            for case .object(var entry) in patients {
                let mrn = entry["mrn"]?.stringValue ?? ""
                if try await Patient.query(on: tx).filter(\.$site.$id == site.id!).filter(\.$mrn == mrn).withDeleted().count() > 0 { continue }
                let records = entry["records"]
                entry["records"] = nil
                entry["siteId"] = .string(site.id!.uuidString)
                let input = try PatientInput.validate(entry, today: today)
                let patient = Patient()
                input.store(in: patient)
                patient.dateShiftDays = PatientController.randomShift()
                patient.version = 1
                patient.createdBy = "demo-loader"; patient.updatedBy = "demo-loader"
                try PatientSummary.compute(patient: patient, records: .empty, today: today).store(in: patient)
                try await patient.create(on: tx)
                let pid = patient.id!
                var lesions: [String: UUID] = [:], medications: [String: UUID] = [:]
                func add<R: PatientRecord>(_ type: R.Type, _ body: JSONObject, parent: UUID? = nil) async throws -> R {
                    let r = R()
                    try r.apply(body, today: today)
                    r.patientID = pid
                    if let parent { r.parentID = parent }
                    r.version = 1; r.createdBy = "demo-loader"; r.updatedBy = "demo-loader"
                    try await r.create(on: tx)
                    return r
                }
                for case .object(var lesion) in records?["lesions"].arrayItems ?? [] {
                    let measurements = lesion["measurements"]
                    lesion["measurements"] = nil
                    let record = try await add(LesionRecord.self, lesion)
                    lesions[record.label] = record.id
                    for case .object(let m) in measurements.arrayItems { _ = try await add(MeasurementRecord.self, m, parent: record.id) }
                }
                for case .object(let m) in records?["medications"].arrayItems ?? [] {
                    let record = try await add(MedicationRecord.self, m)
                    medications[record.drug] = record.id
                }
                for case .object(let v) in records?["visits"].arrayItems ?? [] { _ = try await add(VisitRecord.self, v) }
                for case .object(let l) in records?["labs"].arrayItems ?? [] { _ = try await add(LabRecord.self, l) }
                for case .object(let v) in records?["vitals"].arrayItems ?? [] { _ = try await add(VitalsRecord.self, v) }
                for case .object(let i) in records?["imagingStudies"].arrayItems ?? [] { _ = try await add(ImagingRecord.self, i) }
                for case .object(var p) in records?["procedures"].arrayItems ?? [] {
                    if let label = p["lesion"]?.stringValue { p["lesion"] = nil; p["lesionId"] = lesions[label].map { .string($0.uuidString) } }
                    _ = try await add(ProcedureRecord.self, p)
                }
                for case .object(var e) in records?["infectionEpisodes"].arrayItems ?? [] {
                    if let label = e["lesion"]?.stringValue { e["lesion"] = nil; e["lesionId"] = lesions[label].map { .string($0.uuidString) } }
                    _ = try await add(InfectionEpisodeRecord.self, e)
                }
                var heldMedications: Set<UUID> = []
                for case .object(var h) in records?["holds"].arrayItems ?? [] {
                    guard let drug = h["drug"]?.stringValue, let medication = medications[drug] else { continue }
                    h["drug"] = nil
                    _ = try await add(HoldRecord.self, h, parent: medication)
                    heldMedications.insert(medication)
                }
                // The holds are part of version 1 of their medication's statement.
                try await MedicationHoldSnapshot.stamp(heldMedications, on: tx)
                try await PatientSummary.refresh(pid, on: tx, today: today)
                events.append(AuditEvent(action: "create", resourceType: "patients", resourceID: pid.lowercasedString,
                                         patientID: pid.lowercasedString, detail: "demo patient \(mrn) with its records"))
            }
            logger.info("demo data: \(events.count) patient(s) loaded into site \(siteCode)")
            return ((), events)
        }
    }

    /// Seed 1: septic calcinosis of the thigh in limited SSc on warfarin and mycophenolate
    /// (admission 2023-09-01, discharge 2023-09-04). Seed 2: a tibial ulcer over calcinosis
    /// followed in a wound clinic 2013-2018, healed, recurred, then lost to follow-up.
    static let demoJSON = #"""
    [
      { "mrn": "SEED-1", "familyName": "Seed", "givenName": "One (case report 1)", "sex": "female", "birthDate": "1994-03-01",
        "ssc": { "subtype": "limited", "diagnosisDate": "2009", "antibodies": { "scl70": "positive", "centromere": "unknown", "pmScl": "unknown", "rnaPolIII": "unknown" },
                 "features": ["raynaud", "sclerodactyly", "telangiectasia", "salt-and-pepper"] },
        "history": { "dialysis": false, "mrsaInfectionElsewhere": false, "penetratingTrauma": false },
        "infection": { "failedPriorTherapy": false },
        "records": {
          "lesions": [
            { "label": "thigh", "site": "thigh", "laterality": "right", "morphology": "mousse",
              "measurements": [
                { "date": "2023-09-01", "lengthCm": 4.0, "widthCm": 3.0, "painVas": 8,
                  "findings": { "ulcerated": true, "purulent": true, "erythema": true, "edema": true, "pain": true, "extrusion": true } },
                { "date": "2023-09-04", "lengthCm": 3.5, "widthCm": 2.5, "painVas": 5,
                  "findings": { "ulcerated": true, "purulent": false, "erythema": false, "pain": true } } ] },
            { "label": "knee", "site": "knee", "laterality": "right", "morphology": "stone",
              "measurements": [ { "date": "2023-09-01", "lengthCm": 3.0, "widthCm": 2.0, "findings": { "pain": true } } ] }
          ],
          "medications": [
            { "drug": "mycophenolate", "doseMg": 500, "frequency": "daily", "route": "oral", "start": "2020-01-01", "stop": "2023-09-01", "indication": "systemic sclerosis" },
            { "drug": "warfarin", "doseMg": 2.5, "frequency": "daily", "route": "oral", "start": "2020-01-01", "stop": null },
            { "drug": "doxycycline", "doseMg": 100, "frequency": "q12h", "route": "oral", "start": "2023-09-04", "stop": null, "indication": "infected calcinosis, thigh" }
          ],
          "holds": [ { "drug": "mycophenolate", "start": "2023-09-01", "end": null, "reason": "held during sepsis (HOLD-01)" } ],
          "visits": [ { "date": "2023-04-01", "kind": "hospital" }, { "date": "2023-09-01", "kind": "hospital", "painVas": 8 },
                      { "date": "2023-09-04", "kind": "hospital", "nextDue": "2023-09-18", "note": "discharged on oral doxycycline" } ],
          "labs": [ { "test": "wbc", "value": 17000, "unit": "/mm3", "date": "2023-09-01" }, { "test": "wbc", "value": 9.8, "unit": "10*9/L", "date": "2023-09-04" } ],
          "vitals": [ { "date": "2023-09-01", "temperatureC": 38.6, "heartRate": 104 }, { "date": "2023-09-04", "temperatureC": 36.9, "heartRate": 82 } ],
          "imagingStudies": [ { "date": "2023-09-01", "modality": "radiograph", "findings": "calcinosis in the soft tissues; grade-4 gonarthrosis" } ],
          "procedures": [ { "date": "2023-09-01", "kind": "incision-and-drainage", "lesion": "thigh", "note": "drainage and wound culture" } ],
          "infectionEpisodes": [ { "onset": "2023-09-01", "lesion": "thigh", "organism": "Streptococcus dysgalactiae", "mrsa": false,
                                   "cultureSource": "wound-swab", "cultureResult": "positive", "antibiotic": "doxycycline", "antibioticRoute": "oral",
                                   "antibioticStart": "2023-09-04", "outcome": "ongoing" } ]
        } },
      { "mrn": "SEED-2", "familyName": "Seed", "givenName": "Two (case report 2)", "sex": "female", "birthDate": "1947-06-01",
        "ssc": { "subtype": "limited", "diagnosisDate": "2003", "antibodies": { "scl70": "unknown", "centromere": "unknown", "pmScl": "unknown", "rnaPolIII": "unknown" },
                 "features": ["raynaud", "sclerodactyly", "telangiectasia", "digital-ischemia", "dysphagia", "pulmonary-arterial-hypertension"] },
        "history": { "dialysis": false },
        "records": {
          "lesions": [
            { "label": "right-tibia", "site": "lower-leg", "laterality": "right", "morphology": "stone",
              "findings": { "ulcerated": true, "pain": true, "extrusion": true },
              "measurements": [ { "date": "2013-01-30", "lengthCm": 2.0, "widthCm": 0.5 }, { "date": "2014-03-18", "lengthCm": 3.5, "widthCm": 2.0 },
                                { "date": "2014-12-30", "lengthCm": 0, "widthCm": 0, "healed": true }, { "date": "2016-06-01", "lengthCm": 2.5, "widthCm": 1.5 },
                                { "date": "2018-04-16", "lengthCm": 1.0, "widthCm": 0.5 } ] },
            { "label": "left-leg", "site": "lower-leg", "laterality": "left", "morphology": "stone", "findings": { "ulcerated": true, "pain": true },
              "measurements": [ { "date": "2016-06-01", "lengthCm": 1.5, "widthCm": 1.0 }, { "date": "2018-04-16", "lengthCm": 2.0, "widthCm": 1.5 } ] }
          ],
          "medications": [
            { "drug": "nifedipine", "frequency": "daily", "route": "oral", "start": "2012-01-01", "stop": null },
            { "drug": "esomeprazole", "frequency": "daily", "route": "oral", "start": "2012-01-01", "stop": null },
            { "drug": "metoclopramide", "frequency": "tid", "route": "oral", "start": "2012-01-01", "stop": null },
            { "drug": "colchicine", "doseMg": 0.6, "frequency": "daily", "route": "oral", "start": "2013-02-01", "stop": null },
            { "drug": "sildenafil", "doseMg": 20, "frequency": "tid", "route": "oral", "start": "2016-06-01", "stop": null },
            { "drug": "simvastatin", "doseMg": 20, "frequency": "daily", "route": "oral", "start": "2016-06-01", "stop": null },
            { "drug": "metoprolol", "doseMg": 25, "frequency": "daily", "route": "oral", "start": "2016-06-01", "stop": null },
            { "drug": "ambrisentan", "doseMg": 5, "frequency": "daily", "route": "oral", "start": "2016-06-01", "stop": null }
          ],
          "visits": [ { "date": "2013-01-30", "kind": "wound-care" }, { "date": "2016-06-01", "kind": "wound-care" },
                      { "date": "2018-04-16", "kind": "wound-care", "nextDue": "2018-05-16" } ],
          "labs": [ { "test": "calcium", "value": 9.2, "unit": "mg/dL", "date": "2013-01-30" }, { "test": "phosphate", "value": 3.5, "unit": "mg/dL", "date": "2013-01-30" },
                    { "test": "creatinine", "value": 0.8, "unit": "mg/dL", "date": "2013-01-30" } ],
          "imagingStudies": [ { "date": "2013-01-30", "modality": "radiograph", "inconclusive": true, "findings": "initial imaging negative" } ],
          "procedures": [ { "date": "2013-01-30", "kind": "biopsy", "lesion": "right-tibia", "note": "bone biopsy negative" },
                          { "date": "2013-02-06", "kind": "debridement", "lesion": "right-tibia", "note": "weekly debridement, removal of calcium deposits" },
                          { "date": "2014-03-18", "kind": "debridement", "lesion": "right-tibia", "note": "worsening at one year despite debridements" },
                          { "date": "2016-06-01", "kind": "debridement", "lesion": "right-tibia", "note": "bimonthly surgical debridement" } ],
          "infectionEpisodes": [ { "onset": "2013-01-30", "lesion": "right-tibia", "cultureSource": "wound-swab", "cultureResult": "negative",
                                   "outcome": "resolved", "resolvedDate": "2013-01-30", "note": "wound culture negative" } ]
        } }
    ]
    """#
}

extension Optional where Wrapped == JSONValue {
    var arrayItems: [JSONValue] { if case .array(let items)? = self { items } else { [] } }
}
