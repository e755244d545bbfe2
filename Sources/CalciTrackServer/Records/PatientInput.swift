import CalciTrackCore
import Fluent
import Vapor

/// The API body of a patient: identity (site, MRN, names) plus the case format's `patient`
/// fields and sections (ssc, otherConnectiveTissueDisease, history, infection, workup), which
/// are validated by the engine's decoder.
struct PatientInput: Sendable {
    static let patientKeys = ["sex", "birthDate", "weightKg", "pregnant"]
    static let sectionKeys = ["ssc", "otherConnectiveTissueDisease", "history", "infection", "workup"]

    var siteID: UUID
    var mrn: String
    var familyName: String
    var givenName: String
    var body: JSONObject

    static func validate(_ body: JSONObject, today: LocalDate) throws(APIError) -> PatientInput {
        var v = FieldValidator(body, today: today)
        let site = v.uuid("siteId", required: true)
        let mrn = v.string("mrn", required: true, maxLength: 64)
        let family = v.string("familyName", required: true, maxLength: 200)
        let given = v.string("givenName", required: true, maxLength: 200)
        if body["sex"] == nil || body["sex"] == .null { v.fail("sex", nil, "sex is required (female, male, other, unknown)") }
        v.notFuture("birthDate")
        v.accept(patientKeys + sectionKeys)
        var root = JSONObject([("formatVersion", 1), ("asOf", .string(today.description))])
        root["patient"] = .object(JSONObject(body.entries.filter { patientKeys.contains($0.key) }.map { ($0.key, $0.value) }))
        for key in sectionKeys { if let value = body[key] { root[key] = value } }
        v.checkDateRange(.object(JSONObject(body.entries.filter { (patientKeys + sectionKeys).contains($0.key) }.map { ($0.key, $0.value) })), path: "")
        do {
            _ = try CaseFragment.decode(root, stripping: "patient.", today: today)
        } catch {
            for issue in error.fieldIssues { v.fail(issue.field, issue.value, issue.message) }
        }
        try v.finish(ignoring: RecordFields.common.union(["summary", "siteCode"]))
        return PatientInput(siteID: site!, mrn: mrn!, familyName: family!, givenName: given!, body: body)
    }

    func store(in patient: Patient) {
        patient.$site.id = siteID
        patient.mrn = mrn
        patient.familyName = familyName
        patient.givenName = givenName
        patient.sex = body["sex"]?.stringValue ?? "unknown"
        patient.birthDate = body["birthDate"]?.stringValue
        if case .number(let w)? = body["weightKg"] { patient.weightKg = w } else { patient.weightKg = nil }
        if case .bool(let p)? = body["pregnant"] { patient.pregnant = p } else { patient.pregnant = nil }
        func text(_ key: String) -> String? {
            guard let value = body[key], value != .null else { return nil }
            return JSONWriter.write(value, pretty: false)
        }
        patient.ssc = text("ssc")
        patient.otherCTD = text("otherConnectiveTissueDisease")
        patient.history = text("history")
        patient.infectionInputs = text("infection")
        patient.workup = text("workup")
    }
}

extension Patient {
    /// The API form. De-identified reads (`shift` non-zero) leave out names and MRN and move
    /// every date, including those inside history.
    func apiJSON(_ shift: DateShift, today: LocalDate, siteCode: String?) -> JSONValue {
        let identified = shift.days == 0
        func section(_ text: String?) -> JSONValue? {
            text.flatMap { try? JSONParser.parse($0) }.map { RegistryCase.shiftDates($0, by: shift) }
        }
        var pairs: [(String, JSONValue?)] = [("id", .optional(id?.lowercasedString)), ("siteId", .string($site.id.lowercasedString)),
                                             ("siteCode", .optional(siteCode))]
        if identified { pairs += [("mrn", .string(mrn)), ("familyName", .string(familyName)), ("givenName", .string(givenName))] }
        // De-identified: a patient 90 or older shows the birth date of a 90-year-old (DeidentifiedAge).
        pairs += [("sex", .string(sex)), ("birthDate", shift(identified ? birthDate : DeidentifiedAge.birthDate(birthDate, today: today))), ("weightKg", .optional(weightKg)), ("pregnant", .optional(pregnant)),
                  ("ssc", section(ssc)), ("otherConnectiveTissueDisease", section(otherCTD)), ("history", section(history)),
                  ("infection", section(infectionInputs)), ("workup", section(workup)),
                  ("summary", summaryJSON(shift, today: today)),
                  ("version", .number(Double(version))), ("createdAt", .optional(createdAt)), ("updatedAt", .optional(updatedAt))]
        if identified { pairs += [("createdBy", .string(createdBy)), ("updatedBy", .string(updatedBy))] }
        return .object(JSONObject(compacting: pairs))
    }

    func summaryJSON(_ shift: DateShift, today: LocalDate) -> JSONValue {
        .object(JSONObject(compacting: [
            ("followUpStatus", .string(PatientSummary.followUpStatus(lastContact: lastContact, nextDue: nextDue, unhealed: hasUnhealedLesion, today: today))),
            ("lastContact", shift(lastContact)), ("nextDue", shift(nextDue)),
            ("hasUnhealedLesion", .bool(hasUnhealedLesion)), ("activeInfection", .bool(activeInfection)),
            ("infectionSeverity", .optional(infectionSeverity)), ("worseningLesion", .bool(worseningLesion)),
            ("bodySites", bodySites.map { .array($0.split(separator: ",").map { .string(String($0)) }) }),
            ("infectionAtOnset", infectionOnset.map { onset in
                .object(JSONObject(compacting: [("onset", shift(onset)), ("severity", .optional(onsetSeverity)), ("sepsisScreen", .optional(onsetSepsisScreen))]))
            }),
            ("sepsisScreenPositive", .bool(sepsisScreenPositive)), ("sepsisScreen", .optional(sepsisScreen)),
            // De-identified reads name the rule only: a message may quote a record's date.
            ("highAlert", .bool(highAlert)), ("highAlerts", highAlerts.map {
                .array($0.split(separator: "\n").map { .string(shift.days == 0 ? String($0) : String($0.prefix { $0 != ":" })) })
            }),
        ]))
    }
}
