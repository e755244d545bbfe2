import Testing
@testable import CalciTrackCore

/// Case validation: case-format.md "Field rules" and "Validation" (a case is rejected whole, every
/// error names its field path, and the message says what is allowed).
struct ValidationTests {
    /// One invalid case and the single error it must produce.
    struct Invalid: Sendable, CustomTestStringConvertible {
        let name: String
        let json: String
        let field: String
        /// Every fragment must occur in the message (allowed units, range, enum list, ...).
        let message: [String]
        var testDescription: String { name }
        init(_ name: String, _ json: String, field: String, _ message: String...) {
            self.name = name; self.json = json; self.field = field; self.message = message
        }
    }

    /// A minimal valid case (TestCases.json, asOf 2024-01-10) plus `extra` root members.
    static func valid(_ extra: String) -> String { TestCases.json(extra) }

    /// A case whose patient object is given verbatim (TestCases.json fixes it).
    static func withPatient(_ patient: String, asOf: String = "2024-01-10", _ extra: String = "") -> String {
        #"{"formatVersion": 1, "id": "t", "asOf": "\#(asOf)", "patient": \#(patient)\#(extra.isEmpty ? "" : ", " + extra)}"#
    }

    static func lab(_ test: String, _ value: String, _ unit: String, date: String = "2024-01-10") -> String {
        #""labs": [{"test": "\#(test)", "value": \#(value), "unit": "\#(unit)", "date": "\#(date)"}]"#
    }

    static func vitals(_ members: String) -> String { #""vitals": [{"date": "2024-01-10", \#(members)}]"# }

    static func lesionRow(site: String = "thigh", laterality: String = "right", morphology: String = "stone") -> String {
        #""lesions": [{"id": "L1", "site": "\#(site)", "laterality": "\#(laterality)", "morphology": "\#(morphology)", "measurements": [{"date": "2024-01-10", "lengthCm": 2, "widthCm": 1}]}]"#
    }

    static func measurement(_ members: String) -> String {
        #""lesions": [{"id": "L1", "site": "thigh", "measurements": [{\#(members)}]}]"#
    }

    static func medication(_ members: String) -> String { #""medications": [{\#(members)}]"# }

    static let invalidCases: [Invalid] = [
        // --- Wrong unit (case-format Field rules: labs[].test and accepted units; "Other units are an error")
        Invalid("calcium in g/L", valid(lab("calcium", "0.09", "g/L")), field: "labs[0].unit",
                "\"g/L\"", "calcium", "use one of: mg/dL, mmol/L"),
        Invalid("wbc in mg/dL", valid(lab("wbc", "7.5", "mg/dL")), field: "labs[0].unit",
                "\"mg/dL\"", "wbc", "use one of: 10*9/L, 10*3/uL, /mm3"),
        Invalid("ionised calcium in mg/dL (mmol/L only)", valid(lab("calciumIonized", "4.8", "mg/dL")), field: "labs[0].unit",
                "calciumIonized; use one of: mmol/L"),
        Invalid("calcium in mg/dl (UCUM units are case-sensitive)", valid(lab("calcium", "9.1", "mg/dl")), field: "labs[0].unit",
                "\"mg/dl\"", "mg/dL, mmol/L"),
        Invalid("egfr in mL/min without body surface", valid(lab("egfr", "60", "mL/min")), field: "labs[0].unit",
                "mL/min/1.73m2"),
        Invalid("paco2 in mmHg (UCUM is mm[Hg])", valid(lab("paco2", "40", "mmHg")), field: "labs[0].unit",
                "mm[Hg], kPa"),

        // --- Physiologically impossible values (case-format Validation: plausible ranges after conversion)
        Invalid("temperatureC 385", valid(vitals(#""temperatureC": 385"#)), field: "vitals[0].temperatureC",
                "temperatureC must be between 25 and 45 (degrees Celsius)"),
        Invalid("heartRate 0", valid(vitals(#""heartRate": 0"#)), field: "vitals[0].heartRate",
                "heartRate must be between 20 and 300"),
        Invalid("respiratoryRate 120", valid(vitals(#""respiratoryRate": 120"#)), field: "vitals[0].respiratoryRate",
                "respiratoryRate must be between 2 and 80"),
        Invalid("systolicBP 400", valid(vitals(#""systolicBP": 400"#)), field: "vitals[0].systolicBP",
                "systolicBP must be between 30 and 300"),
        Invalid("weightKg 0", withPatient(#"{"weightKg": 0}"#), field: "patient.weightKg",
                "weightKg must be between 0.5 and 400 (kg)"),
        Invalid("calcium 30 mmol/L = 120.24 mg/dL", valid(lab("calcium", "30", "mmol/L")), field: "labs[0].value",
                "calcium must be between 2 and 25 (mg/dL)", "30 mmol/L = 120.24 mg/dL"),
        Invalid("phosphate 0.1 mg/dL", valid(lab("phosphate", "0.1", "mg/dL")), field: "labs[0].value",
                "phosphate must be between 0.3 and 25 (mg/dL)"),
        Invalid("wbc 600 x10^9/L", valid(lab("wbc", "600", "10*9/L")), field: "labs[0].value",
                "wbc must be between 0.05 and 500 (x10^9/L)"),
        Invalid("wbc 600000 /mm3 converts to 600", valid(lab("wbc", "600000", "/mm3")), field: "labs[0].value",
                "wbc must be between 0.05 and 500", "600000 /mm3 = 600 10*9/L"),
        Invalid("lengthCm 150", valid(measurement(#""date": "2024-01-10", "lengthCm": 150, "widthCm": 1"#)),
                field: "lesions[0].measurements[0].lengthCm", "lengthCm must be between 0 and 100 (cm)"),
        Invalid("doseMg 0", valid(medication(#""drug": "diltiazem", "doseMg": 0"#)), field: "medications[0].doseMg",
                "doseMg must be greater than 0"),

        // --- Unknown enum values (case-format Field rules vocabularies)
        Invalid("sex f", withPatient(#"{"sex": "f"}"#), field: "patient.sex",
                "sex must be one of: female, male, other, unknown"),
        Invalid("ssc.subtype lcSSc", valid(#""ssc": {"subtype": "lcSSc"}"#), field: "ssc.subtype",
                "limited, diffuse, sine, overlap, none, unknown"),
        Invalid("antibody value weak", valid(#""ssc": {"antibodies": {"scl70": "weak"}}"#), field: "ssc.antibodies.scl70",
                "positive, negative, unknown"),
        Invalid("antibody value for pmScl", valid(#""ssc": {"antibodies": {"pmScl": "+"}}"#), field: "ssc.antibodies.pmScl",
                "positive, negative, unknown"),
        Invalid("feature calcinosis", valid(#""ssc": {"features": ["raynaud", "calcinosis"]}"#), field: "ssc.features[1]",
                "raynaud, sclerodactyly, telangiectasia, digital-ulcers", "salt-and-pepper"),
        Invalid("other CTD lupus", valid(#""otherConnectiveTissueDisease": ["lupus"]"#), field: "otherConnectiveTissueDisease[0]",
                "dermatomyositis, juvenile-dermatomyositis, sle, mctd, sjogren, other"),
        Invalid("lesion site fingertip", valid(lesionRow(site: "fingertip")),
                field: "lesions[0].site", "hand, finger, thumb", "toe, other"),
        Invalid("lesion laterality both", valid(lesionRow(laterality: "both")),
                field: "lesions[0].laterality", "left, right, midline, bilateral"),
        Invalid("morphology chalky", valid(lesionRow(morphology: "chalky")),
                field: "lesions[0].morphology", "mousse, stone, network, plaque, unknown"),
        Invalid("frequency twice-daily", valid(medication(#""drug": "diltiazem", "frequency": "twice-daily""#)),
                field: "medications[0].frequency", "once, daily, bid, tid, qid", "every-2-weeks, monthly"),
        Invalid("route iv", valid(medication(#""drug": "vancomycin", "route": "iv""#)), field: "medications[0].route",
                "oral, intravenous, subcutaneous, topical, intralesional"),
        Invalid("visit kind er", valid(#""visits": [{"date": "2024-01-10", "kind": "er"}]"#), field: "visits[0].kind",
                "clinic, wound-care, hospital, telephone, other"),
        Invalid("lab test calcium-total", valid(lab("calcium-total", "9.1", "mg/dL")), field: "labs[0].test",
                "calcium, calciumCorrected, calciumIonized, phosphate", "paco2"),
        Invalid("exposure kind calcium-injection",
                valid(#""history": {"calciumOrPhosphateExposures": [{"date": "2023-12-01", "kind": "calcium-injection"}]}"#),
                field: "history.calciumOrPhosphateExposures[0].kind", "calcium-gluconate-extravasation", "tumor-lysis, transplant, other"),

        // --- Missing required fields (case-format Validation: formatVersion, patient; Field rules: lab value/unit/date, visit date, drug)
        Invalid("formatVersion missing", #"{"asOf": "2024-01-10", "patient": {}}"#, field: "formatVersion", "formatVersion is required"),
        Invalid("patient missing", #"{"formatVersion": 1, "asOf": "2024-01-10"}"#, field: "patient", "patient is required"),
        Invalid("patient null", #"{"formatVersion": 1, "asOf": "2024-01-10", "patient": null}"#, field: "patient", "patient is required"),
        Invalid("lab value missing", valid(#""labs": [{"test": "calcium", "unit": "mg/dL", "date": "2024-01-10"}]"#),
                field: "labs[0].value", "value is required"),
        Invalid("lab unit missing", valid(#""labs": [{"test": "calcium", "value": 9.1, "date": "2024-01-10"}]"#),
                field: "labs[0].unit", "unit is required"),
        Invalid("lab date missing", valid(#""labs": [{"test": "calcium", "value": 9.1, "unit": "mg/dL"}]"#),
                field: "labs[0].date", "date is required"),
        Invalid("lab test missing", valid(#""labs": [{"value": 9.1, "unit": "mg/dL", "date": "2024-01-10"}]"#),
                field: "labs[0].test", "test is required"),
        Invalid("visit date missing", valid(#""visits": [{"kind": "clinic"}]"#), field: "visits[0].date", "date is required"),
        Invalid("vitals date missing", valid(#""vitals": [{"heartRate": 80}]"#), field: "vitals[0].date", "date is required"),
        Invalid("medication drug missing", valid(medication(#""doseMg": 60, "frequency": "tid""#)),
                field: "medications[0].drug", "drug is required"),
        Invalid("medication drug blank", valid(medication(#""drug": "  ""#)), field: "medications[0].drug", "drug must name a drug"),
        Invalid("lesion id missing", valid(#""lesions": [{"site": "hand", "measurements": [{"date": "2024-01-10", "areaCm2": 2}]}]"#),
                field: "lesions[0].id", "id is required"),
        Invalid("exposure date missing", valid(#""history": {"calciumOrPhosphateExposures": [{"kind": "tumor-lysis"}]}"#),
                field: "history.calciumOrPhosphateExposures[0].date", "date is required"),

        // --- formatVersion must be the number 1 (case-format Field rules)
        Invalid("formatVersion 2", #"{"formatVersion": 2, "asOf": "2024-01-10", "patient": {}}"#, field: "formatVersion", "formatVersion must be 1"),
        Invalid("formatVersion \"1\" (a string)", #"{"formatVersion": "1", "asOf": "2024-01-10", "patient": {}}"#,
                field: "formatVersion", "formatVersion must be 1"),

        // --- Dates: YYYY-MM-DD only; a bare year only for diagnosisDate (case-format Field rules)
        Invalid("lab date 2023-02-30", valid(lab("calcium", "9.1", "mg/dL", date: "2023-02-30")), field: "labs[0].date",
                "date must be a calendar date written YYYY-MM-DD"),
        Invalid("asOf 2023/01/01", withPatient("{}", asOf: "2023/01/01"), field: "asOf", "asOf must be a calendar date written YYYY-MM-DD"),
        Invalid("visit date 2023-1-1", valid(#""visits": [{"date": "2023-1-1"}]"#), field: "visits[0].date", "YYYY-MM-DD"),
        Invalid("medication start with a time", valid(medication(#""drug": "diltiazem", "start": "2023-01-01T08:00:00Z""#)),
                field: "medications[0].start", "YYYY-MM-DD"),
        Invalid("birthDate 01/02/1994", withPatient(#"{"birthDate": "01/02/1994"}"#), field: "patient.birthDate", "YYYY-MM-DD"),
        Invalid("year-only birthDate (only diagnosisDate may be a year)", withPatient(#"{"birthDate": "1994"}"#),
                field: "patient.birthDate", "YYYY-MM-DD"),
        Invalid("diagnosisDate 2009-13", valid(#""ssc": {"diagnosisDate": "2009-13"}"#), field: "ssc.diagnosisDate",
                "diagnosisDate must be a date written YYYY-MM-DD or a year YYYY"),
        Invalid("diagnosisDate 09", valid(#""ssc": {"diagnosisDate": "09"}"#), field: "ssc.diagnosisDate", "YYYY-MM-DD or a year YYYY"),
        Invalid("diagnosisDate 2009-02-29 (not a leap year)", valid(#""ssc": {"diagnosisDate": "2009-02-29"}"#),
                field: "ssc.diagnosisDate", "YYYY-MM-DD or a year YYYY"),
        Invalid("diagnosisDate before birthDate", valid(#""ssc": {"diagnosisDate": "1960"}"#), field: "ssc.diagnosisDate",
                "must not be before patient.birthDate (1970-01-01)"),
        Invalid("birthDate after asOf", withPatient(#"{"birthDate": "2024-01-11"}"#), field: "patient.birthDate",
                "birthDate must not be after asOf (2024-01-10)"),
        Invalid("measurement dated asOf + 2 days", valid(measurement(#""date": "2024-01-12", "lengthCm": 2, "widthCm": 1"#)),
                field: "lesions[0].measurements[0].date", "must not be dated after asOf + 1 day (2024-01-11)"),

        // --- Not a JSON object (case-format Validation: "not valid JSON ... is rejected whole")
        Invalid("not JSON", #"{"formatVersion": 1,"#, field: "", "the case is not valid JSON"),
        Invalid("empty document", "", field: "", "the case is not valid JSON", "the document is empty"),
        Invalid("whitespace-only document", " \n\t ", field: "", "the document is empty"),
        Invalid("a JSON array", #"[{"formatVersion": 1, "patient": {}}]"#, field: "", "must be an object, got an array"),
        Invalid("a JSON null", "null", field: "", "must be a JSON object"),
        Invalid("duplicate key", #"{"formatVersion": 1, "patient": {}, "formatVersion": 1}"#, field: "",
                "the case is not valid JSON", "duplicate key \"formatVersion\""),
        Invalid("duplicate key in a nested object", withPatient(#"{"sex": "female", "sex": "male"}"#), field: "",
                "duplicate key \"sex\""),

        // --- Type errors
        Invalid("weightKg as a string", withPatient(#"{"weightKg": "58"}"#), field: "patient.weightKg",
                "weightKg must be a number, got a string"),
        Invalid("heartRate as a string", valid(vitals(#""heartRate": "104""#)), field: "vitals[0].heartRate", "must be a number, got a string"),
        Invalid("lab value as a string", valid(lab("calcium", "\"9.1\"", "mg/dL")), field: "labs[0].value", "must be a number, got a string"),
        Invalid("dialysis as a string", valid(#""history": {"dialysis": "no"}"#), field: "history.dialysis", "must be true or false, got a string"),
        Invalid("labs as an object", valid(#""labs": {"test": "calcium"}"#), field: "labs", "labs must be an array, got an object"),
        Invalid("patient as a string", withPatient(#""female""#), field: "patient", "patient must be an object, got a string"),
        Invalid("id as a number", #"{"formatVersion": 1, "id": 7, "patient": {}}"#, field: "id", "id must be a string, got a number"),
        Invalid("a lab row that is a number", valid(#""labs": [3]"#), field: "labs[0]", "must be an object, got a number"),
        Invalid("a null vitals row", valid(#""vitals": [null]"#), field: "vitals[0]", "must be an object"),
        // Found by schemathesis: a drug "\u0000…" was stored, read back by SQLite as "" and the case no longer decoded.
        Invalid("a drug with a NUL character", valid(medication(#""drug": "\u0000warfarin""#)), field: "medications[0].drug",
                "drug must not contain the NUL character (U+0000)"),
        Invalid("a lesion id with a NUL character", valid(#""lesions": [\#(TestCases.lesion(id: #"L\u0000"#))]"#), field: "lesions[0].id",
                "must not contain the NUL character"),

        // --- Cross-field rules
        Invalid("medication stop before start", valid(medication(#""drug": "warfarin", "start": "2020-01-01", "stop": "2019-12-31""#)),
                field: "medications[0].stop", "stop must be on or after start (2020-01-01)"),
        Invalid("duplicate lesion id", valid(#""lesions": [\#(TestCases.lesion(id: "L1")), \#(TestCases.lesion(id: "L1"))]"#),
                field: "lesions[1].id", "lesion id \"L1\" is used twice"),
        Invalid("nextDue before the visit date", valid(#""visits": [{"date": "2024-01-10", "nextDue": "2024-01-09"}]"#),
                field: "visits[0].nextDue", "nextDue must be on or after the visit date (2024-01-10)"),
        Invalid("measurement with no size", valid(measurement(#""date": "2024-01-10""#)), field: "lesions[0].measurements[0]",
                "a measurement needs lengthCm and widthCm, or areaCm2"),
        Invalid("measurement with only a length", valid(measurement(#""date": "2024-01-10", "lengthCm": 2"#)),
                field: "lesions[0].measurements[0]", "needs lengthCm and widthCm"),
        Invalid("measurement not healed and without size", valid(measurement(#""date": "2024-01-10", "healed": false"#)),
                field: "lesions[0].measurements[0]", "or healed: true"),
        Invalid("measurement with null length and width (null = absent)",
                valid(measurement(#""date": "2024-01-10", "lengthCm": null, "widthCm": null"#)),
                field: "lesions[0].measurements[0]", "needs lengthCm and widthCm"),
        // a size given but invalid is one error (its own), not also "needs a size"
        Invalid("measurement length as a string", valid(measurement(#""date": "2024-01-10", "lengthCm": "2", "widthCm": 1"#)),
                field: "lesions[0].measurements[0].lengthCm", "lengthCm must be a number, got a string"),
        Invalid("measurement area out of range", valid(measurement(#""date": "2024-01-10", "areaCm2": 20000"#)),
                field: "lesions[0].measurements[0].areaCm2", "areaCm2 must be between 0 and 10000 (cm2)"),
    ]

    @Test("an invalid case is rejected with exactly one error naming the field (case-format Validation)",
          arguments: invalidCases)
    func rejected(_ example: Invalid) {
        let errors = TestCases.rejection(example.json)
        #expect(errors.map(\.field) == [example.field])
        guard let error = errors.first else { return }
        for fragment in example.message {
            #expect(error.message.contains(fragment), "message \"\(error.message)\" lacks \"\(fragment)\"")
        }
    }

    @Test("the error carries the value as given (case-format Validation example: value 385)")
    func errorCarriesValue() {
        let temperature = TestCases.rejection(Self.valid(Self.vitals(#""temperatureC": 385"#)))
        #expect(temperature.first?.value == .number(385))
        let version = TestCases.rejection(#"{"formatVersion": "1", "patient": {}}"#)
        #expect(version.first?.value == .string("1"))
        let missing = TestCases.rejection(#"{"formatVersion": 1}"#)
        #expect(missing.first?.field == "patient")
        #expect(missing.first?.value == nil)
        let unit = TestCases.rejection(Self.valid(Self.lab("calcium", "0.09", "g/L")))
        #expect(unit.first?.value == .string("g/L"))
    }

    @Test("the rejection body is the case-format error shape, byte for byte (case-format Validation)")
    func rejectionJSONShape() {
        let errors = TestCases.rejection(Self.valid(Self.vitals(#""temperatureC": 385"#)))
        let body = JSONWriter.write(CaseRejection(errors: errors).json, pretty: false)
        #expect(body == #"{"errors":[{"field":"vitals[0].temperatureC","value":385,"message":"temperatureC must be between 25 and 45 (degrees Celsius)"}]}"#)
    }

    @Test("five different errors are all listed, in document order (case-format Validation: every error, not only the first)")
    func listsEveryError() {
        let json = Self.withPatient(#"{"sex": "f", "birthDate": "1970-01-01"}"#, """
            "labs": [{"test": "calcium", "value": 0.09, "unit": "g/L", "date": "2024-01-10"}],
            "vitals": [{"date": "2024-01-10", "temperatureC": 385}],
            "medications": [{"drug": "warfarin", "start": "2020-01-01", "stop": "2019-01-01"}],
            "visits": [{"date": "2024-01-10", "nextDue": "2023-12-01"}]
            """)
        let errors = TestCases.rejection(json)
        #expect(errors.map(\.field) == ["patient.sex", "labs[0].unit", "vitals[0].temperatureC", "medications[0].stop", "visits[0].nextDue"])
    }

    @Test("two errors in one row are both reported (case-format Validation)")
    func twoErrorsInOneRow() {
        let errors = TestCases.rejection(Self.valid(#""labs": [{"test": "calcium", "unit": "g/L"}]"#))
        #expect(Set(errors.map(\.field)) == ["labs[0].value", "labs[0].unit", "labs[0].date"])
    }

    @Test("unknown fields are warnings, not errors (case-format: \"Add fields freely\")")
    func unknownFieldsWarn() throws {
        let json = #"{"formatVersion": 1, "asOf": "2024-01-10", "comment": "x", "patient": {"sex": "female", "nickname": "A"}, "lesions": [{"id": "L1", "colour": "white", "measurements": [{"date": "2024-01-10", "areaCm2": 2, "photo": "p.jpg"}]}]}"#
        let decoded = try TestCases.decode(json)
        #expect(decoded.warnings.map(\.field) == ["comment", "patient.nickname", "lesions[0].colour", "lesions[0].measurements[0].photo"])
        #expect(decoded.warnings.allSatisfy { $0.message.contains("unknown field ignored") })
        #expect(decoded.case.patient.sex == .female)
        #expect(decoded.case.lesions.first?.measurements.first?.areaCm2 == 2)
    }

    @Test("an unknown drug is kept, never an error (case-format Field rules: medications[].drug)")
    func unknownDrugAccepted() throws {
        let decoded = try TestCases.decode(Self.valid(Self.medication(#""drug": "Zorblaxin", "doseMg": 5, "frequency": "daily""#)))
        #expect(decoded.case.medications.count == 1)
        #expect(decoded.case.medications.first?.drug == "zorblaxin")
        #expect(decoded.case.medications.first?.drugInfo == nil)
    }

    // MARK: Measurement dates (case-format Validation: "dates not after asOf + 1 day for measurements")

    @Test("a measurement dated exactly asOf + 1 day is accepted")
    func measurementAsOfPlusOneAccepted() throws {
        let decoded = try TestCases.decode(Self.valid(Self.measurement(#""date": "2024-01-11", "lengthCm": 2, "widthCm": 1"#)))
        #expect(decoded.case.lesions.first?.measurements.first?.date == LocalDate(iso: "2024-01-11"))
    }

    @Test("the +1 day tolerance follows an asOf override, not the case's asOf")
    func measurementLimitFollowsOverride() throws {
        let json = Self.valid(Self.measurement(#""date": "2024-01-11", "lengthCm": 2, "widthCm": 1"#))
        #expect(throws: CaseRejection.self) { try TestCases.decode(json, asOfOverride: LocalDate(iso: "2024-01-09")) }
        let later = try TestCases.decode(json, asOfOverride: LocalDate(iso: "2024-01-10"))
        #expect(later.asOf == LocalDate(iso: "2024-01-10"))
    }

    @Test("labs and visits dated after asOf are accepted (ignored by the engine, not rejected: case-format Field rules)")
    func laterRecordsAccepted() throws {
        let json = Self.valid(#"\#(Self.lab("calcium", "9.1", "mg/dL", date: "2025-01-01")), "visits": [{"date": "2025-01-01"}]"#)
        let decoded = try TestCases.decode(json)
        #expect(decoded.case.labs.count == 1)
        #expect(decoded.case.visits.count == 1)
    }

    @Test("a healed measurement needs no size (case-format Field rules: measurements[].healed)")
    func healedWithoutSizeAccepted() throws {
        let decoded = try TestCases.decode(Self.valid(Self.measurement(#""date": "2024-01-10", "healed": true"#)))
        #expect(decoded.case.lesions.first?.measurements.first?.healed == true)
    }

    @Test("a year-only diagnosisDate is accepted (case-format Field rules)")
    func yearOnlyDiagnosisDate() throws {
        let decoded = try TestCases.decode(Self.valid(#""ssc": {"subtype": "limited", "diagnosisDate": "2009"}"#))
        #expect(decoded.case.ssc?.diagnosisDate?.earliest == LocalDate(iso: "2009-01-01"))
        #expect(decoded.case.ssc?.diagnosisDate?.latest == LocalDate(iso: "2009-12-31"))
    }

    @Test("asOf defaults to the caller's today (case-format Field rules)")
    func asOfDefaultsToToday() throws {
        let decoded = try TestCases.decode(#"{"formatVersion": 1, "patient": {}}"#)
        #expect(decoded.asOf == TestCases.today)
        #expect(decoded.case.asOf == nil)
    }

    // MARK: Plausible-range boundaries (case-format Validation: ranges are inclusive)

    struct Boundary: Sendable, CustomTestStringConvertible {
        let key: String
        let value: Double
        let accepted: Bool
        var testDescription: String { "\(key) \(value) \(accepted ? "accepted" : "rejected")" }
    }

    static func boundaries(_ key: String, low: Double, high: Double, below: Double, above: Double) -> [Boundary] {
        [Boundary(key: key, value: low, accepted: true), Boundary(key: key, value: high, accepted: true),
         Boundary(key: key, value: below, accepted: false), Boundary(key: key, value: above, accepted: false)]
    }

    static let vitalBoundaries: [Boundary] =
        boundaries("temperatureC", low: 25, high: 45, below: 24.9, above: 45.1)
        + boundaries("heartRate", low: 20, high: 300, below: 19.9, above: 300.1)
        + boundaries("respiratoryRate", low: 2, high: 80, below: 1.9, above: 80.1)
        + boundaries("systolicBP", low: 30, high: 300, below: 29.9, above: 300.1)

    @Test("vital-sign range boundaries (case-format Validation)", arguments: vitalBoundaries)
    func vitalBoundary(_ b: Boundary) {
        let json = Self.valid(Self.vitals("\"\(b.key)\": \(JSONWriter.formatNumber(b.value))"))
        checkBoundary(json, b, field: "vitals[0].\(b.key)")
    }

    static let weightBoundaries = boundaries("weightKg", low: 0.5, high: 400, below: 0.49, above: 400.1)

    @Test("weightKg range boundaries 0.5-400 (case-format Validation)", arguments: weightBoundaries)
    func weightBoundary(_ b: Boundary) {
        checkBoundary(Self.withPatient("{\"weightKg\": \(JSONWriter.formatNumber(b.value))}"), b, field: "patient.weightKg")
    }

    static let lengthBoundaries = boundaries("lengthCm", low: 0, high: 100, below: -0.1, above: 100.1)
        + boundaries("widthCm", low: 0, high: 100, below: -0.1, above: 100.1)
        + boundaries("depthCm", low: 0, high: 100, below: -0.1, above: 100.1)

    @Test("lesion length range boundaries 0-100 cm (case-format Validation)", arguments: lengthBoundaries)
    func lengthBoundary(_ b: Boundary) {
        let v = JSONWriter.formatNumber(b.value)
        let members = switch b.key {
        case "lengthCm": #""date": "2024-01-10", "lengthCm": \#(v), "widthCm": 1"#
        case "widthCm": #""date": "2024-01-10", "lengthCm": 2, "widthCm": \#(v)"#
        default: #""date": "2024-01-10", "lengthCm": 2, "widthCm": 1, "depthCm": \#(v)"#
        }
        checkBoundary(Self.valid(Self.measurement(members)), b, field: "lesions[0].measurements[0].\(b.key)")
    }

    /// Lab ranges after conversion: calcium 2-25 mg/dL, phosphate 0.3-25 mg/dL, wbc 0.05-500 x10^9/L.
    struct LabBoundary: Sendable, CustomTestStringConvertible {
        let test: String, value: Double, unit: String, accepted: Bool
        var testDescription: String { "\(test) \(value) \(unit) \(accepted ? "accepted" : "rejected")" }
    }

    static let labBoundaries: [LabBoundary] = [
        .init(test: "calcium", value: 2, unit: "mg/dL", accepted: true),
        .init(test: "calcium", value: 25, unit: "mg/dL", accepted: true),
        .init(test: "calcium", value: 1.99, unit: "mg/dL", accepted: false),
        .init(test: "calcium", value: 25.01, unit: "mg/dL", accepted: false),
        .init(test: "calciumCorrected", value: 25.5, unit: "mg/dL", accepted: false),
        // 0.5 mmol/L × 4.008 = 2.004 mg/dL (in); 0.49 × 4.008 = 1.964 (out); 6.3 × 4.008 = 25.25 (out)
        .init(test: "calcium", value: 0.5, unit: "mmol/L", accepted: true),
        .init(test: "calcium", value: 0.49, unit: "mmol/L", accepted: false),
        .init(test: "calcium", value: 6.3, unit: "mmol/L", accepted: false),
        .init(test: "phosphate", value: 0.3, unit: "mg/dL", accepted: true),
        .init(test: "phosphate", value: 25, unit: "mg/dL", accepted: true),
        .init(test: "phosphate", value: 0.29, unit: "mg/dL", accepted: false),
        // 0.1 mmol/L × 3.097 = 0.3097 mg/dL (in); 8.1 × 3.097 = 25.09 (out)
        .init(test: "phosphate", value: 0.1, unit: "mmol/L", accepted: true),
        .init(test: "phosphate", value: 8.1, unit: "mmol/L", accepted: false),
        .init(test: "wbc", value: 0.05, unit: "10*9/L", accepted: true),
        .init(test: "wbc", value: 500, unit: "10*9/L", accepted: true),
        .init(test: "wbc", value: 0.04, unit: "10*3/uL", accepted: false),
        .init(test: "wbc", value: 500_000, unit: "/mm3", accepted: true),
        .init(test: "wbc", value: 40, unit: "/mm3", accepted: false),
    ]

    @Test("lab range boundaries after unit conversion (case-format Validation)", arguments: labBoundaries)
    func labBoundary(_ b: LabBoundary) {
        let json = Self.valid(Self.lab(b.test, JSONWriter.formatNumber(b.value), b.unit))
        checkBoundary(json, Boundary(key: b.test, value: b.value, accepted: b.accepted), field: "labs[0].value")
    }

    private func checkBoundary(_ json: String, _ b: Boundary, field: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try TestCases.decode(json)
            #expect(b.accepted, "\(b.key) \(b.value) was accepted", sourceLocation: sourceLocation)
        } catch let rejection as CaseRejection {
            #expect(!b.accepted, "\(b.key) \(b.value) was rejected: \(rejection.errors)", sourceLocation: sourceLocation)
            #expect(rejection.errors.map(\.field) == [field], sourceLocation: sourceLocation)
            #expect(rejection.errors.first?.message.contains("must be between") == true, sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }
}
