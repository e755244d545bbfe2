import CalciTrackCore

/// Observation → a lab result (LOINC of `LabCodes`, clinical-spec 12.4), a vital sign (a vitals
/// row, or the patient's weight), or a lesion measurement (wound size panel 72287-6 with its
/// components, `focus` → the lesion's BodyStructure). Any other LOINC is not stored: rejected.
enum ObservationInbound {
    static func map(_ r: inout ResourceReader) -> [InboundRecord] {
        guard let code = r.take("code") else {
            r.reject(.required, "Observation.code is required (R4)", at: "code")
            return []
        }
        let loinc = ResourceReader.code(code, system: CodeSystem.loinc)
        let local = ResourceReader.code(code, system: CodeSystem.local)
        let patient = r.patientReference("subject")
        // preliminary results are stored as results (the registry has no result status), said once.
        let status = r.status(accepting: ["final", "amended", "corrected", "preliminary"], what: "results")
        if status == "preliminary" { r.warn("status preliminary is not stored: the value is stored as a result", at: "status") }
        // Category repeats what the code says; `issued` is when it was reported, not measured.
        r.handled("category", "issued")
        let date = effectiveDay(&r)
        guard let patient else { return [] }
        var refs: [ReferenceRole: String] = [.patient: patient]

        if loinc == InboundCodes.woundPanel || loinc.map({ InboundCodes.woundComponent[$0] != nil }) == true
            || local.map({ InboundCodes.localWoundComponent[$0] != nil }) == true {
            guard let focus = r.take("focus").map(ResourceReader.array)?.first else {
                r.reject(.required, "Observation.focus is required for a wound size: it must reference the lesion's BodyStructure", at: "focus")
                return []
            }
            if let lesion = r.reference(focus, at: "focus[0]", to: "BodyStructure") { refs[.lesion] = lesion }
            var body = JSONObject()
            if let date { body["date"] = .string(date) }
            if loinc == InboundCodes.woundPanel {
                if r.peekValue("hasMember") != nil { r.warn("hasMember is not followed: send the wound sizes as components of the panel", at: "hasMember") }
                for (i, item) in ResourceReader.array(r.take("component")).enumerated() {
                    guard case .object(let component) = item else { continue }
                    woundValue(&r, code: component["code"], in: component, at: "component[\(i)]", into: &body)
                }
            } else {
                woundValue(&r, code: code, in: r.resource, at: "", into: &body)
                markValueHandled(&r)
            }
            guard body.entries.contains(where: { $0.key != "date" }) else {
                r.reject(.required, "the wound size Observation holds no size CalciTrack stores (components 39126-8, 39125-0, 39127-6, 89260-4)", at: "component")
                return []
            }
            return [InboundRecord(kind: .measurements, body: body, references: refs, date: date)]
        }

        if loinc == InboundCodes.bloodPressurePanel {
            var body = JSONObject()
            if let date { body["date"] = .string(date) }
            for (i, item) in ResourceReader.array(r.take("component")).enumerated() {
                guard case .object(let component) = item else { continue }
                let c = ResourceReader.code(component["code"], system: CodeSystem.loinc)
                if c == "8480-6", let v = vitalValue(&r, .systolic, in: component, at: "component[\(i)]") {
                    body["systolicBP"] = .number(v)
                } else if c == InboundCodes.diastolic && component["valueQuantity"] == nil {
                    continue // absent (dataAbsentReason): nothing to drop
                } else if c == InboundCodes.diastolic {
                    r.warn("diastolic blood pressure (LOINC 8462-4) is not stored: the engine uses systolic pressure only (qSOFA)", at: "component[\(i)]")
                } else if c != "8480-6" {
                    r.warn("component \(ResourceReader.describe(component["code"])) is not stored", at: "component[\(i)]")
                }
            }
            guard body["systolicBP"] != nil else {
                if !r.rejected { r.reject(.required, "the blood pressure panel has no systolic component (LOINC 8480-6), the only one CalciTrack stores", at: "component") }
                return []
            }
            return [InboundRecord(kind: .vitals, body: body, references: refs, date: date)]
        }

        if let loinc, let vital = InboundCodes.vitalLOINC[loinc] {
            guard let value = vitalValue(&r, vital, in: r.resource, at: "") else { return [] }
            markValueHandled(&r)
            if vital == .weight {
                r.inform("the weight is stored as the patient's current weight (weightKg), which has no date", at: "valueQuantity")
                return [InboundRecord(kind: .patientUpdate, body: JSONObject([("weightKg", .number(value))]), references: refs, date: date)]
            }
            var body = JSONObject()
            if let date { body["date"] = .string(date) }
            let key = switch vital {
            case .temperature: "temperatureC"
            case .heartRate: "heartRate"
            case .respiratoryRate: "respiratoryRate"
            default: "systolicBP"
            }
            body[key] = .number(value)
            return [InboundRecord(kind: .vitals, body: body, references: refs, date: date)]
        }

        if let loinc, let test = InboundCodes.labTestByLOINC[loinc] {
            guard let (value, unit) = quantity(&r, in: r.resource, at: "") else { return [] }
            markValueHandled(&r)
            guard let converted = LabUnits.convert(value, unit: unit, test: test) else {
                r.reject(.value, "unit \"\(unit)\" cannot be stored for \(test.rawValue) (LOINC \(loinc)); accepted: \(Units.accepted(for: test).joined(separator: ", "))",
                         at: "valueQuantity.code")
                return []
            }
            if converted.unit != unit {
                r.inform("\(value) \(unit) stored as \(converted.value) \(converted.unit)", at: "valueQuantity")
            }
            var body = JSONObject([("test", .string(test.rawValue)), ("value", .number(converted.value)), ("unit", .string(converted.unit))])
            if let date { body["date"] = .string(date) }
            return [InboundRecord(kind: .labs, body: body, references: refs, date: date)]
        }

        let stored = (InboundCodes.labTestByLOINC.keys.sorted() + InboundCodes.vitalLOINC.keys.sorted()
                      + [InboundCodes.bloodPressurePanel, InboundCodes.woundPanel]).joined(separator: ", ")
        r.reject(.notSupported, "Observation.code \(ResourceReader.describe(code)) is not an observation CalciTrack stores (LOINC \(stored); clinical-spec 12.4)",
                 at: "code")
        return []
    }

    /// effectiveDateTime / effectiveInstant / effectivePeriod.start → a day (required).
    private static func effectiveDay(_ r: inout ResourceReader) -> String? {
        if let v = r.take("effectiveDateTime") { return r.day(v, at: "effectiveDateTime", what: "the day of the observation") }
        if let v = r.take("effectiveInstant") { return r.day(v, at: "effectiveInstant", what: "the day of the observation") }
        if let period = r.take("effectivePeriod") {
            if period["end"] != nil { r.inform("the observation is stored on the day its period started", at: "effectivePeriod") }
            return r.day(period["start"], at: "effectivePeriod.start", what: "the day of the observation")
        }
        _ = r.day(nil, at: "effective[x]", what: "the day of the observation")
        return nil
    }

    /// Marks every value[x] of the resource handled (the mapper read the one it stores).
    private static func markValueHandled(_ r: inout ResourceReader) {
        for key in r.resource.keys where key.hasPrefix("value") { r.handled(key) }
        r.handled("dataAbsentReason")
    }

    /// The valueQuantity of a resource or component as (value, UCUM unit). The UCUM `code` is
    /// preferred; `unit` is display text and used only when no UCUM code is given.
    static func quantity(_ r: inout ResourceReader, in object: JSONObject, at base: String) -> (Double, String)? {
        let prefix = base.isEmpty ? "" : base + "."
        guard let q = ResourceReader.object(object["valueQuantity"]) else {
            let other = object.keys.first { $0.hasPrefix("value") }
            if let other { r.reject(.value, "\(r.path(prefix + other)) cannot be stored: a numeric valueQuantity is needed", at: prefix + other) }
            else if object["dataAbsentReason"] != nil { r.reject(.required, "no value (dataAbsentReason): there is nothing to store", at: prefix + "dataAbsentReason") }
            else { r.reject(.required, "\(r.path(prefix + "valueQuantity")) is required", at: prefix + "valueQuantity") }
            return nil
        }
        if let comparator = ResourceReader.string(q["comparator"]) {
            r.reject(.value, "a value with comparator \"\(comparator)\" is not exact and cannot be stored", at: prefix + "valueQuantity.comparator")
            return nil
        }
        guard let value = ResourceReader.number(q["value"]), value.isFinite else {
            r.reject(.required, "\(r.path(prefix + "valueQuantity.value")) is required (a number)", at: prefix + "valueQuantity.value")
            return nil
        }
        let system = ResourceReader.string(q["system"])
        let unit = (system == nil || system == CodeSystem.ucum ? ResourceReader.string(q["code"]) : nil) ?? ResourceReader.string(q["unit"])
        guard let unit else {
            r.reject(.required, "\(r.path(prefix + "valueQuantity")) needs a UCUM unit (code)", at: prefix + "valueQuantity.code")
            return nil
        }
        return (value, unit)
    }

    /// A vital sign in the registry's unit (12.6 UCUM: Cel, /min, mm[Hg], kg); convertible units
    /// are converted, others rejected.
    private static func vitalValue(_ r: inout ResourceReader, _ vital: InboundCodes.Vital, in object: JSONObject, at base: String) -> Double? {
        guard let (value, unit) = quantity(&r, in: object, at: base) else { return nil }
        let converted: Double? = switch (vital, unit) {
        case (.temperature, "Cel"): value
        case (.temperature, "[degF]"): rounded((value - 32) * 5 / 9, places: 2)
        case (.heartRate, "/min"), (.heartRate, "{beats}/min"), (.heartRate, "{beat}/min"): value
        case (.respiratoryRate, "/min"), (.respiratoryRate, "{breaths}/min"), (.respiratoryRate, "{breath}/min"): value
        case (.systolic, "mm[Hg]"): value
        case (.weight, "kg"): value
        case (.weight, "g"): rounded(value / 1000, places: 6)
        case (.weight, "[lb_av]"): rounded(value * 0.45359237, places: 3)
        default: nil
        }
        guard let converted else {
            let allowed = switch vital {
            case .temperature: "Cel, [degF]"
            case .heartRate, .respiratoryRate: "/min"
            case .systolic: "mm[Hg]"
            case .weight: "kg, g, [lb_av]"
            }
            r.reject(.value, "unit \"\(unit)\" cannot be stored for \(vital.rawValue); accepted UCUM units: \(allowed)", at: (base.isEmpty ? "" : base + ".") + "valueQuantity.code")
            return nil
        }
        return converted
    }

    /// One wound size (panel component or standalone Observation) into a measurement body.
    private static func woundValue(_ r: inout ResourceReader, code: JSONValue?, in object: JSONObject, at base: String, into body: inout JSONObject) {
        let prefix = base.isEmpty ? "" : base + "."
        let key = ResourceReader.code(code, system: CodeSystem.loinc).flatMap { InboundCodes.woundComponent[$0] }
            ?? ResourceReader.code(code, system: CodeSystem.local).flatMap { InboundCodes.localWoundComponent[$0] }
        guard let key else {
            r.warn("component \(ResourceReader.describe(code)) is not stored (wound sizes: LOINC 39126-8, 39125-0, 39127-6, 89260-4)", at: base)
            return
        }
        if key == "healed" {
            if let b = ResourceReader.bool(object["valueBoolean"]) { body["healed"] = .bool(b) }
            else { r.reject(.value, "\(r.path(prefix + "valueBoolean")) is required for healed", at: prefix + "valueBoolean") }
            return
        }
        guard let (value, unit) = quantity(&r, in: object, at: base) else { return }
        let factor: Double? = switch (key, unit) {
        case ("areaCm2", "cm2"): 1
        case ("areaCm2", "mm2"): 0.01
        case ("areaCm2", "[sin_i]"): 6.4516
        case ("painVas", "{score}"), ("painVas", "1"): 1
        case ("painVas", _): nil
        case (_, "cm"): 1
        case (_, "mm"): 0.1
        case (_, "[in_i]"): 2.54
        default: nil
        }
        guard let factor else {
            r.reject(.value, "unit \"\(unit)\" cannot be stored for \(key) (UCUM cm, mm, [in_i]; area cm2, mm2, [sin_i])", at: prefix + "valueQuantity.code")
            return
        }
        body[key] = .number(rounded(value * factor, places: 6))
    }
}

/// Lab units: the engine's accepted units pass as they are; a few UCUM units of the same
/// quantity are converted exactly to one of them (the registry stores value and unit as entered,
/// so only lossless scalings are done; anything else is rejected by the caller).
enum LabUnits {
    static func convert(_ value: Double, unit: String, test: LabTest) -> (value: Double, unit: String)? {
        if Units.accepted(for: test).contains(unit) { return (value, unit) }
        let scaled: (Double, String)? = switch (test, unit) {
        case (.calcium, "mg/L"), (.calciumCorrected, "mg/L"), (.phosphate, "mg/L"), (.creatinine, "mg/L"): (0.1, "mg/dL")
        case (.calcium, "umol/L"), (.calciumCorrected, "umol/L"), (.calciumIonized, "umol/L"), (.phosphate, "umol/L"): (0.001, "mmol/L")
        case (.creatinine, "mmol/L"): (1000, "umol/L")
        case (.wbc, "10*3/mm3"): (1, "10*3/uL")
        case (.wbc, "/uL"): (1, "/mm3")
        case (.crp, "ug/mL"): (1, "mg/L")
        case (.pth, "ng/L"): (1, "pg/mL")
        case (.egfr, "mL/min/{1.73m2}"), (.egfr, "mL/min/1.73.m2"): (1, "mL/min/{1.73_m2}")
        default: nil
        }
        guard let (factor, target) = scaled else { return nil }
        return (rounded(value * factor, places: 6), target)
    }
}
