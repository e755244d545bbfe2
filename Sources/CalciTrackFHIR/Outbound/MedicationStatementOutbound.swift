import CalciTrackCore

/// Registry medication (+ its holds) → FHIR R4 MedicationStatement. The drug is coded with the
/// RxNorm ingredient code the registry stored from Core's drug table (clinical-spec 12.5), and
/// always named in `text`. Holds: a hold covering `asOf` makes the status `on-hold` with the
/// hold's reason as `statusReason`; every hold, past or current, is also a `note`, so none is lost.
public enum MedicationStatementOutbound {
    /// Case-format frequencies as FHIR Timing.repeat.
    static func timing(_ frequency: String) -> JSONValue? {
        let r: [(String, JSONValue?)]
        switch frequency {
        case "once": r = [("count", 1)]
        case "daily", "q24h": r = [("frequency", 1), ("period", 1), ("periodUnit", "d")]
        case "bid": r = [("frequency", 2), ("period", 1), ("periodUnit", "d")]
        case "tid": r = [("frequency", 3), ("period", 1), ("periodUnit", "d")]
        case "qid": r = [("frequency", 4), ("period", 1), ("periodUnit", "d")]
        case "q4h": r = [("frequency", 1), ("period", 4), ("periodUnit", "h")]
        case "q6h": r = [("frequency", 1), ("period", 6), ("periodUnit", "h")]
        case "q8h": r = [("frequency", 1), ("period", 8), ("periodUnit", "h")]
        case "q12h": r = [("frequency", 1), ("period", 12), ("periodUnit", "h")]
        case "weekly": r = [("frequency", 1), ("period", 1), ("periodUnit", "wk")]
        case "every-2-weeks": r = [("frequency", 1), ("period", 2), ("periodUnit", "wk")]
        case "monthly": r = [("frequency", 1), ("period", 1), ("periodUnit", "mo")]
        default: return nil
        }
        return FHIR.object([("repeat", FHIR.object(r)), ("code", FHIR.concept([], text: frequency))])
    }

    public static func status(_ medication: JSONValue, holds: [JSONValue], asOf: LocalDate) -> (String, hold: JSONValue?) {
        if let stop = medication["stop"]?.stringValue.flatMap({ LocalDate(iso: $0) }), stop < asOf { return ("completed", nil) }
        if let start = medication["start"]?.stringValue.flatMap({ LocalDate(iso: $0) }), asOf < start { return ("intended", nil) }
        let current = holds.first { hold in
            guard let start = hold["start"]?.stringValue.flatMap({ LocalDate(iso: $0) }), start <= asOf else { return false }
            guard let end = hold["end"]?.stringValue.flatMap({ LocalDate(iso: $0) }) else { return true }
            return asOf <= end
        }
        // Spelled out: in `current.map { … } ?? ("active", nil)` the nil became JSONValue's nil
        // literal (`.null`), a hold with no reason, and every active statement read "held".
        guard let current else { return ("active", nil) }
        return ("on-hold", current)
    }

    public static func resource(_ medication: JSONValue, holds: [JSONValue], asOf: LocalDate) -> JSONValue {
        let drug = medication["drug"]?.stringValue ?? ""
        let codings = medication["rxnorm"]?.stringValue.map { [FHIR.coding(CodeSystem.rxnorm, $0, drug)] } ?? []
        let (status, hold) = status(medication, holds: holds, asOf: asOf)
        var dosage: [(String, JSONValue?)] = []
        var text: [String] = []
        if let dose = medication["doseMg"]?.numberValue { text.append("\(JSONWriter.formatNumber(dose)) mg") }
        if let f = medication["frequency"]?.stringValue { text.append(f); dosage.append(("timing", timing(f))) }
        if let r = medication["route"]?.stringValue { text.append(r); dosage.append(("route", FHIR.concept([], text: r))) }
        if let dose = medication["doseMg"]?.numberValue {
            dosage.append(("doseAndRate", .array([FHIR.object([("doseQuantity", FHIR.quantity(dose, ucum: "mg"))])])))
        }
        let notes = holds.map { h -> JSONValue in
            let end = h["end"]?.stringValue.map { " to \($0)" } ?? " (no end date)"
            return FHIR.annotation("held from \(h["start"]?.stringValue ?? "?")\(end): \(h["reason"]?.stringValue ?? "")")
        }
        var period: [(String, JSONValue?)] = [("start", medication["start"])]
        if case .string? = medication["stop"] { period.append(("end", medication["stop"])) }
        return FHIR.object([
            ("resourceType", "MedicationStatement"), ("id", .string(medication["id"]?.stringValue ?? "")), ("meta", FHIR.meta(medication)),
            ("status", .string(status)),
            ("statusReason", hold.map { .array([FHIR.concept([], text: $0["reason"]?.stringValue ?? "held")]) }),
            ("medicationCodeableConcept", FHIR.concept(codings, text: drug)),
            ("subject", FHIR.reference("Patient", medication["patientId"]?.stringValue ?? "")),
            ("effectivePeriod", medication["start"] == nil && medication["stop"]?.stringValue == nil ? nil : FHIR.object(period)),
            ("dateAsserted", medication["createdAt"]),
            ("reasonCode", medication["indication"]?.stringValue.map { .array([FHIR.concept([], text: $0)]) }),
            ("note", notes.isEmpty ? nil : .array(notes)),
            ("dosage", dosage.isEmpty ? nil : .array([FHIR.object([("text", .string(text.joined(separator: " ")))] + dosage)])),
        ])
    }
}
