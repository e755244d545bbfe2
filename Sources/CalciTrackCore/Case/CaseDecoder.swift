/// Turns case JSON into a validated `Case`, or rejects it whole with every error found
/// (case-format.md "Validation"). Decoding and cross-field checks live here; rules never see
/// an invalid case.
public struct DecodedCase: Sendable {
    public let `case`: Case
    /// The effective assessment date: the override, else the case's `asOf`, else the caller's today.
    public let asOf: LocalDate
    public let warnings: [FieldIssue]
}

public struct CaseRejection: Error, Sendable, Equatable {
    public let errors: [FieldIssue]

    public init(errors: [FieldIssue]) { self.errors = errors }

    /// `{"errors": [...]}`, the body the CLI prints and the API answers with 422.
    public var json: JSONValue {
        .object(JSONObject([("errors", .array(errors.map(\.json)))]))
    }
}

public enum CaseDecoder {
    /// - Parameters:
    ///   - today: the caller's date, used when neither `asOfOverride` nor the case gives `asOf`.
    ///     The core reads no clock.
    public static func decode(_ bytes: [UInt8], asOfOverride: LocalDate? = nil, today: LocalDate) throws(CaseRejection) -> DecodedCase {
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes)
        } catch {
            throw CaseRejection(errors: [FieldIssue(field: "", value: nil, message: "the case is not valid JSON: \(error.description)")])
        }
        return try decode(json, asOfOverride: asOfOverride, today: today)
    }

    public static func decode(_ json: JSONValue, asOfOverride: LocalDate? = nil, today: LocalDate) throws(CaseRejection) -> DecodedCase {
        var reader = FieldReader()
        var result = Case()
        guard let root = reader.object(json, at: "", known: Keys.root) else {
            throw CaseRejection(errors: reader.errors.isEmpty
                ? [FieldIssue(field: "", value: json, message: "the case must be a JSON object")] : reader.errors)
        }

        if let value = root["formatVersion"] {
            if value != .number(1) { reader.fail("formatVersion", value, "formatVersion must be 1 (this engine reads case format version 1)") }
        } else {
            reader.fail("formatVersion", nil, "formatVersion is required (1)")
        }
        if let value = root["id"], value != .null {
            if case .string(let id) = value { result.id = id } else { reader.fail("id", value, "id must be a string, got \(value.typeName)") }
        }
        result.asOf = reader.date(root, "asOf", at: "")
        let asOf = asOfOverride ?? result.asOf ?? today

        if root["patient"] == nil || root["patient"] == .null {
            reader.fail("patient", nil, "patient is required (an object; all its fields are optional)")
        } else if let patient = reader.object(root["patient"], at: "patient", known: Keys.patient) {
            result.patient.sex = reader.vocabulary(Sex.self, patient, "sex", at: "patient")
            result.patient.birthDate = reader.date(patient, "birthDate", at: "patient")
            result.patient.weightKg = reader.number(patient, "weightKg", at: "patient", range: PlausibleRanges.weightKg)
            result.patient.pregnant = reader.bool(patient, "pregnant", at: "patient")
            if let birth = result.patient.birthDate, birth > asOf {
                reader.fail("patient.birthDate", .string(birth.description), "birthDate must not be after asOf (\(asOf))")
            }
        }

        decodeSSc(root, into: &result, reader: &reader)
        for (i, item) in reader.array(root, "otherConnectiveTissueDisease", at: "").enumerated() {
            let field = "otherConnectiveTissueDisease[\(i)]"
            guard case .string(let text) = item else { reader.fail(field, item, "must be a string"); continue }
            if let disease = reader.vocabulary(ConnectiveTissueDisease.self, text, field: field, name: "otherConnectiveTissueDisease") {
                result.otherConnectiveTissueDisease.append(disease)
            }
        }
        decodeHistory(root, into: &result, reader: &reader)
        decodeLabs(root, into: &result, reader: &reader)
        decodeVitals(root, into: &result, reader: &reader)
        decodeMedications(root, into: &result, reader: &reader)
        decodeLesions(root, asOf: asOf, into: &result, reader: &reader)
        decodeInfectionAndWorkup(root, into: &result, reader: &reader)
        decodeVisits(root, into: &result, reader: &reader)

        guard reader.errors.isEmpty else { throw CaseRejection(errors: reader.errors) }
        return DecodedCase(case: result, asOf: asOf, warnings: reader.warnings)
    }

    private static func decodeSSc(_ root: JSONObject, into result: inout Case, reader: inout FieldReader) {
        guard let ssc = reader.object(root["ssc"], at: "ssc", known: Keys.ssc) else { return }
        var profile = SScProfile()
        profile.subtype = reader.vocabulary(SScSubtype.self, ssc, "subtype", at: "ssc")
        if let text = reader.string(ssc, "diagnosisDate", at: "ssc") {
            if let date = PartialDate(text: text, allowYearOnly: true) {
                profile.diagnosisDate = date
                if let birth = result.patient.birthDate, date.latest < birth {
                    reader.fail("ssc.diagnosisDate", .string(text), "diagnosisDate must not be before patient.birthDate (\(birth))")
                }
            } else {
                reader.fail("ssc.diagnosisDate", .string(text), "diagnosisDate must be a date written YYYY-MM-DD or a year YYYY")
            }
        }
        if let antibodies = reader.object(ssc["antibodies"], at: "ssc.antibodies", known: Keys.antibodies) {
            let path = "ssc.antibodies"
            profile.antibodies.scl70 = reader.vocabulary(AntibodyStatus.self, antibodies, "scl70", at: path) ?? .unknown
            profile.antibodies.centromere = reader.vocabulary(AntibodyStatus.self, antibodies, "centromere", at: path) ?? .unknown
            profile.antibodies.pmScl = reader.vocabulary(AntibodyStatus.self, antibodies, "pmScl", at: path) ?? .unknown
            profile.antibodies.rnaPolIII = reader.vocabulary(AntibodyStatus.self, antibodies, "rnaPolIII", at: path) ?? .unknown
        }
        for (i, item) in reader.array(ssc, "features", at: "ssc").enumerated() {
            let field = "ssc.features[\(i)]"
            guard case .string(let text) = item else { reader.fail(field, item, "must be a string"); continue }
            if let feature = reader.vocabulary(SScFeature.self, text, field: field, name: "feature") {
                profile.features.append(feature)
            }
        }
        result.ssc = profile
    }

    private static func decodeHistory(_ root: JSONObject, into result: inout Case, reader: inout FieldReader) {
        guard let history = reader.object(root["history"], at: "history", known: Keys.history) else { return }
        var h = History()
        h.dialysis = reader.bool(history, "dialysis", at: "history")
        h.mrsaInfectionElsewhere = reader.bool(history, "mrsaInfectionElsewhere", at: "history")
        h.mrsaNasalColonization = reader.bool(history, "mrsaNasalColonization", at: "history")
        h.injectionDrugUse = reader.bool(history, "injectionDrugUse", at: "history")
        h.penetratingTrauma = reader.bool(history, "penetratingTrauma", at: "history")
        h.familyHistoryTumoralCalcinosis = reader.bool(history, "familyHistoryTumoralCalcinosis", at: "history")
        for (i, item) in reader.array(history, "calciumOrPhosphateExposures", at: "history").enumerated() {
            let path = "history.calciumOrPhosphateExposures[\(i)]"
            guard let exposure = reader.object(item, at: path, known: Keys.exposure) else {
                if item == .null { reader.fail(path, item, "must be an object") }
                continue
            }
            let date = reader.date(exposure, "date", at: path, required: true)
            let kind = reader.vocabulary(ExposureKind.self, exposure, "kind", at: path, required: true)
            let site = reader.vocabulary(BodySite.self, exposure, "site", at: path)
            let laterality = reader.vocabulary(Laterality.self, exposure, "laterality", at: path)
            if let date, let kind {
                h.calciumOrPhosphateExposures.append(Exposure(date: date, site: site, laterality: laterality, kind: kind))
            }
        }
        result.history = h
    }

    private static func decodeLabs(_ root: JSONObject, into result: inout Case, reader: inout FieldReader) {
        for (i, item) in reader.array(root, "labs", at: "").enumerated() {
            let path = "labs[\(i)]"
            guard let lab = reader.object(item, at: path, known: Keys.lab) else {
                if item == .null { reader.fail(path, item, "must be an object") }
                continue
            }
            let test = reader.vocabulary(LabTest.self, lab, "test", at: path, required: true)
            let value = reader.number(lab, "value", at: path, required: true)
            let unit = reader.string(lab, "unit", at: path, required: true)
            let date = reader.date(lab, "date", at: path, required: true)
            guard let test, let unit else { continue }
            let canonical: Double
            do {
                canonical = try Units.toCanonical(value ?? 0, unit: unit, test: test)
            } catch {
                reader.fail(path + ".unit", .string(unit), error.message)
                continue
            }
            guard let value, let date else { continue }
            let range = PlausibleRanges.lab(test)
            if !range.contains(canonical) {
                let canonicalUnit = Units.canonicalUnit(for: test)
                let converted = unit == canonicalUnit ? "" : "; \(JSONWriter.formatNumber(value)) \(unit) = \(JSONWriter.formatNumber(rounded(canonical, places: 3))) \(canonicalUnit)"
                reader.fail(path + ".value", .number(value), range.message(for: test.rawValue) + converted)
                continue
            }
            if let result0 = try? LabResult(test: test, value: value, unit: unit, date: date) { result.labs.append(result0) }
        }
    }

    private static func decodeVitals(_ root: JSONObject, into result: inout Case, reader: inout FieldReader) {
        for (i, item) in reader.array(root, "vitals", at: "").enumerated() {
            let path = "vitals[\(i)]"
            guard let row = reader.object(item, at: path, known: Keys.vitals) else {
                if item == .null { reader.fail(path, item, "must be an object") }
                continue
            }
            let date = reader.date(row, "date", at: path, required: true)
            let vitals = VitalSigns(
                date: date ?? LocalDate(daysSinceEpoch: 0),
                temperatureC: reader.number(row, "temperatureC", at: path, range: PlausibleRanges.temperatureC),
                heartRate: reader.number(row, "heartRate", at: path, range: PlausibleRanges.heartRate),
                respiratoryRate: reader.number(row, "respiratoryRate", at: path, range: PlausibleRanges.respiratoryRate),
                systolicBP: reader.number(row, "systolicBP", at: path, range: PlausibleRanges.systolicBP),
                alteredMentation: reader.bool(row, "alteredMentation", at: path))
            if date != nil { result.vitals.append(vitals) }
        }
    }

    private static func decodeMedications(_ root: JSONObject, into result: inout Case, reader: inout FieldReader) {
        for (i, item) in reader.array(root, "medications", at: "").enumerated() {
            let path = "medications[\(i)]"
            guard let row = reader.object(item, at: path, known: Keys.medication) else {
                if item == .null { reader.fail(path, item, "must be an object") }
                continue
            }
            let drug = reader.string(row, "drug", at: path, required: true)
            if let drug, drug.trimmingSpaces.isEmpty { reader.fail(path + ".drug", .string(drug), "drug must name a drug (lower-case generic name)") }
            let dose = reader.number(row, "doseMg", at: path, range: PlausibleRanges.doseMg)
            let frequency = reader.vocabulary(Frequency.self, row, "frequency", at: path)
            let route = reader.vocabulary(Route.self, row, "route", at: path)
            let start = reader.date(row, "start", at: path)
            let stop = reader.date(row, "stop", at: path)
            if let start, let stop, stop < start {
                reader.fail(path + ".stop", .string(stop.description), "stop must be on or after start (\(start))")
            }
            if let drug, !drug.trimmingSpaces.isEmpty {
                result.medications.append(Medication(drug: drug.trimmingSpaces.lowercased(), doseMg: dose, frequency: frequency,
                                                     route: route, start: start, stop: stop))
            }
        }
    }

    private static func decodeLesions(_ root: JSONObject, asOf: LocalDate, into result: inout Case, reader: inout FieldReader) {
        var seenIDs = Set<String>()
        let futureLimit = asOf.adding(days: Int(Thresholds()[.measurementFutureToleranceDays]))
        for (i, item) in reader.array(root, "lesions", at: "").enumerated() {
            let path = "lesions[\(i)]"
            guard let row = reader.object(item, at: path, known: Keys.lesion) else {
                if item == .null { reader.fail(path, item, "must be an object") }
                continue
            }
            let id = reader.string(row, "id", at: path, required: true)
            if let id {
                if id.isEmpty { reader.fail(path + ".id", .string(id), "id must not be empty") }
                if !seenIDs.insert(id).inserted { reader.fail(path + ".id", .string(id), "lesion id \"\(id)\" is used twice; ids must be unique") }
            }
            var lesion = Lesion(id: id ?? "",
                                site: reader.vocabulary(BodySite.self, row, "site", at: path),
                                laterality: reader.vocabulary(Laterality.self, row, "laterality", at: path),
                                morphology: reader.vocabulary(Morphology.self, row, "morphology", at: path))
            lesion.periarticularMass = reader.bool(row, "periarticularMass", at: path)
            if let findings = reader.object(row["findings"], at: path + ".findings", known: Keys.findings) {
                let fp = path + ".findings"
                var f = LesionFindings()
                f.ulcerated = reader.bool(findings, "ulcerated", at: fp) ?? false
                f.purulent = reader.bool(findings, "purulent", at: fp) ?? false
                f.abscess = reader.bool(findings, "abscess", at: fp) ?? false
                f.erythema = reader.bool(findings, "erythema", at: fp) ?? false
                f.warmth = reader.bool(findings, "warmth", at: fp) ?? false
                f.edema = reader.bool(findings, "edema", at: fp) ?? false
                f.pain = reader.bool(findings, "pain", at: fp) ?? false
                f.extrusion = reader.bool(findings, "extrusion", at: fp) ?? false
                f.bullae = reader.bool(findings, "bullae", at: fp) ?? false
                f.skinSloughing = reader.bool(findings, "skinSloughing", at: fp) ?? false
                f.necrosis = reader.bool(findings, "necrosis", at: fp) ?? false
                f.retiformPurpura = reader.bool(findings, "retiformPurpura", at: fp) ?? false
                f.livedo = reader.bool(findings, "livedo", at: fp) ?? false
                lesion.findings = f
            }
            for (j, entry) in reader.array(row, "measurements", at: path).enumerated() {
                let mp = "\(path).measurements[\(j)]"
                guard let m = reader.object(entry, at: mp, known: Keys.measurement) else {
                    if entry == .null { reader.fail(mp, entry, "must be an object") }
                    continue
                }
                let date = reader.date(m, "date", at: mp, required: true)
                if let date, date > futureLimit {
                    reader.fail(mp + ".date", .string(date.description), "a measurement must not be dated after asOf + 1 day (\(futureLimit))")
                }
                let measurement = LesionMeasurement(
                    date: date ?? asOf,
                    lengthCm: reader.number(m, "lengthCm", at: mp, range: PlausibleRanges.lengthCm),
                    widthCm: reader.number(m, "widthCm", at: mp, range: PlausibleRanges.lengthCm),
                    depthCm: reader.number(m, "depthCm", at: mp, range: PlausibleRanges.lengthCm),
                    areaCm2: reader.number(m, "areaCm2", at: mp, range: PlausibleRanges.areaCm2),
                    perimeterCm: reader.number(m, "perimeterCm", at: mp, range: PlausibleRanges.perimeterCm),
                    healed: reader.bool(m, "healed", at: mp))
                let hasSize = measurement.areaCm2 != nil || (measurement.lengthCm != nil && measurement.widthCm != nil)
                // A size given but rejected above (type, range) is already an error; null counts as absent.
                func given(_ key: String) -> Bool { m[key].map { $0 != .null } ?? false }
                if !hasSize && measurement.healed != true && (!given("lengthCm") || !given("widthCm")) && !given("areaCm2") {
                    reader.fail(mp, entry, "a measurement needs lengthCm and widthCm, or areaCm2 (planimetry), or healed: true")
                }
                if date != nil { lesion.measurements.append(measurement) }
            }
            lesion.measurements.sort { $0.date < $1.date }
            result.lesions.append(lesion)
        }
    }

    private static func decodeInfectionAndWorkup(_ root: JSONObject, into result: inout Case, reader: inout FieldReader) {
        if let infection = reader.object(root["infection"], at: "infection", known: Keys.infection) {
            result.infection.failedPriorTherapy = reader.bool(infection, "failedPriorTherapy", at: "infection")
            result.infection.immunocompromised = reader.bool(infection, "immunocompromised", at: "infection")
            result.infection.hypotension = reader.bool(infection, "hypotension", at: "infection")
            result.infection.organDysfunction = reader.bool(infection, "organDysfunction", at: "infection")
            result.infection.deepInfectionSigns = reader.bool(infection, "deepInfectionSigns", at: "infection")
        }
        if let workup = reader.object(root["workup"], at: "workup", known: Keys.workup) {
            result.workup.plannedSurgery = reader.bool(workup, "plannedSurgery", at: "workup")
            result.workup.suspectedDeepExtension = reader.bool(workup, "suspectedDeepExtension", at: "workup")
            result.workup.neurovascularSymptoms = reader.bool(workup, "neurovascularSymptoms", at: "workup")
            result.workup.suspectedSoftTissueInflammation = reader.bool(workup, "suspectedSoftTissueInflammation", at: "workup")
        }
        for (i, item) in reader.array(root, "imagingStudies", at: "").enumerated() {
            let path = "imagingStudies[\(i)]"
            guard let row = reader.object(item, at: path, known: Keys.imaging) else {
                if item == .null { reader.fail(path, item, "must be an object") }
                continue
            }
            let date = reader.date(row, "date", at: path, required: true)
            let modality = reader.vocabulary(ImagingModality.self, row, "modality", at: path, required: true)
            let inconclusive = reader.bool(row, "inconclusive", at: path)
            if let date, let modality { result.imagingStudies.append(ImagingStudy(date: date, modality: modality, inconclusive: inconclusive)) }
        }
    }

    private static func decodeVisits(_ root: JSONObject, into result: inout Case, reader: inout FieldReader) {
        for (i, item) in reader.array(root, "visits", at: "").enumerated() {
            let path = "visits[\(i)]"
            guard let row = reader.object(item, at: path, known: Keys.visit) else {
                if item == .null { reader.fail(path, item, "must be an object") }
                continue
            }
            let date = reader.date(row, "date", at: path, required: true)
            let kind = reader.vocabulary(VisitKind.self, row, "kind", at: path)
            let nextDue = reader.date(row, "nextDue", at: path)
            if let date, let nextDue, nextDue < date {
                reader.fail(path + ".nextDue", .string(nextDue.description), "nextDue must be on or after the visit date (\(date))")
            }
            if let date { result.visits.append(Visit(date: date, kind: kind, nextDue: nextDue)) }
        }
    }

    /// The keys case format v1 defines at each level (plus this engine's documented additions).
    enum Keys {
        static let root: Set<String> = ["formatVersion", "id", "asOf", "patient", "ssc", "otherConnectiveTissueDisease", "history",
                                        "labs", "vitals", "medications", "lesions", "infection", "visits", "imagingStudies", "workup"]
        static let patient: Set<String> = ["sex", "birthDate", "weightKg", "pregnant"]
        static let ssc: Set<String> = ["subtype", "diagnosisDate", "antibodies", "features"]
        static let antibodies: Set<String> = ["scl70", "centromere", "pmScl", "rnaPolIII"]
        static let history: Set<String> = ["dialysis", "calciumOrPhosphateExposures", "mrsaInfectionElsewhere", "mrsaNasalColonization",
                                           "injectionDrugUse", "penetratingTrauma", "familyHistoryTumoralCalcinosis"]
        static let exposure: Set<String> = ["date", "site", "laterality", "kind"]
        static let lab: Set<String> = ["test", "value", "unit", "date"]
        static let vitals: Set<String> = ["date", "temperatureC", "heartRate", "respiratoryRate", "systolicBP", "alteredMentation"]
        static let medication: Set<String> = ["drug", "doseMg", "frequency", "route", "start", "stop"]
        static let lesion: Set<String> = ["id", "site", "laterality", "morphology", "periarticularMass", "findings", "measurements"]
        static let findings: Set<String> = ["ulcerated", "purulent", "abscess", "erythema", "warmth", "edema", "pain", "extrusion",
                                            "bullae", "skinSloughing", "necrosis", "retiformPurpura", "livedo"]
        static let measurement: Set<String> = ["date", "lengthCm", "widthCm", "depthCm", "areaCm2", "perimeterCm", "healed"]
        static let infection: Set<String> = ["failedPriorTherapy", "immunocompromised", "hypotension", "organDysfunction", "deepInfectionSigns"]
        static let visit: Set<String> = ["date", "kind", "nextDue"]
        static let imaging: Set<String> = ["date", "modality", "inconclusive"]
        static let workup: Set<String> = ["plannedSurgery", "suspectedDeepExtension", "neurovascularSymptoms", "suspectedSoftTissueInflammation"]
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
