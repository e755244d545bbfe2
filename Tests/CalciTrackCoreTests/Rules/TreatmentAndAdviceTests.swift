@testable import CalciTrackCore
import Foundation
import Testing

private typealias B = RuleCaseBuilder

/// Doses (case-format.md `doses`, clinical-spec 7.1), treatment options (clinical-spec 7),
/// imaging advice (clinical-spec 9), risk factors (clinical-spec 10) and the threshold table
/// (clinical-spec 0.3 rule 2).
@Suite("Treatment options, doses, imaging, risk factors and thresholds")
struct TreatmentAndAdviceTests {

    static func assess(weightKg: Double? = nil, _ parts: String...) throws -> Assessment {
        try TestCases.assess(B.caseJSON(patient: B.patient(weightKg: weightKg), parts))
    }

    static let oneLesion = B.lesions([B.lesion(measurements: [B.measurement(B.asOf, length: 4, width: 3)])])
    static let purulentLesion = B.lesions([B.lesion(findings: #""purulent": true, "erythema": true"#,
                                                    measurements: [B.measurement(B.asOf, length: 4, width: 3)])])

    // MARK: - Doses

    struct WeightCase: Sendable, CustomTestStringConvertible {
        let weightKg: Double
        let methylprednisolone: Double
        let capped: Bool
        let prednisone: Double
        let source: String
        var testDescription: String { "\(weightKg) kg [\(source)]" }
    }

    static let weightCases: [WeightCase] = [
        .init(weightKg: 33, methylprednisolone: 990, capped: false, prednisone: 66,
              source: "case-format.md doses (30 mg/kg/day, capped at 1000 mg); clinical-spec 7.1"),
        .init(weightKg: 34, methylprednisolone: 1000, capped: true, prednisone: 68,
              source: "case-format.md doses (cap 1000 mg); clinical-spec 7.1 (1 g/day cap, V2)"),
        .init(weightKg: 58, methylprednisolone: 1000, capped: true, prednisone: 116,
              source: "case-format.md doses; prednisone 2 mg/kg/day as reported (clinical-spec 7.1, Seed-1)"),
        .init(weightKg: 20.5, methylprednisolone: 615, capped: false, prednisone: 41,
              source: "case-format.md doses; clinical-spec 7.1"),
    ]

    @Test("Weight-based doses", arguments: weightCases)
    func weightBased(_ c: WeightCase) throws {
        let doses = try Self.assess(weightKg: c.weightKg, Self.oneLesion).dosing.doses
        let mp = try #require(doses.first { $0.id == "methylprednisolone-pulse" })
        #expect(mp.mgPerDay == c.methylprednisolone)
        #expect(mp.capped == c.capped)
        #expect(mp.dermatomyositisDerived)
        #expect(mp.caution == nil)
        let pred = try #require(doses.first { $0.id == "prednisone" })
        #expect(pred.mgPerDay == c.prednisone)
        #expect(pred.dermatomyositisDerived)
        #expect(pred.caution == nil)
    }

    @Test("Dose JSON keys [case-format.md doses: id, mgPerDay, capped, basis]")
    func doseJSON() throws {
        let json = AssessmentJSON.encode(try Self.assess(weightKg: 34, Self.oneLesion))
        guard case .array(let doses)? = json["doses"] else { Issue.record("doses missing"); return }
        let mp = try #require(doses.first { $0["id"] == "methylprednisolone-pulse" })
        #expect(mp["mgPerDay"] == .number(1000))
        #expect(mp["capped"] == .bool(true))
        #expect(mp["dermatomyositisDerived"] == .bool(true))
        let sts = try #require(doses.first { $0["id"] == "sodium-thiosulfate-intralesional" })
        #expect(sts["lesion"] == "L1")
        #expect(sts["ml"] == .number(9.4))
    }

    @Test("Intralesional sodium thiosulfate: 1 mL/cm² of each lesion's latest area, one decimal [case-format.md doses; clinical-spec 7.1 (Seed-1)]")
    func thiosulfate() throws {
        let lesions = B.lesions([
            B.lesion(id: "E", measurements: [B.measurement(B.asOf, length: 4, width: 3)]),                          // 9.42 → 9.4
            B.lesion(id: "P", measurements: [B.measurement(B.day(-30), area: 20), B.measurement(B.asOf, area: 12.34)]), // latest 12.34 → 12.3
            B.lesion(id: "S", measurements: [B.measurement(B.asOf, length: 1, width: 0.6)]),                        // 0.471 → 0.5
            B.lesion(id: "H", measurements: [B.measurement(B.day(-30), length: 2, width: 2), B.measurement(B.asOf, healed: true)]),
        ])
        let sts = try Self.assess(weightKg: 60, lesions).dosing.doses.filter { $0.id == "sodium-thiosulfate-intralesional" }
        #expect(sts.map { $0.lesion ?? "" } == ["E", "P", "S"])
        #expect(sts.map { $0.ml ?? -1 } == [9.4, 12.3, 0.5])
        #expect(sts.allSatisfy { $0.caution == nil && $0.mgPerDay == nil })
    }

    @Test("No weight: weight-based doses absent, a doseNotes line says why, area doses remain [case-format.md doses (needs weightKg)]")
    func noWeight() throws {
        let a = try Self.assess(weightKg: nil, Self.oneLesion)
        let ids = a.dosing.doses.map(\.id)
        #expect(!ids.contains("methylprednisolone-pulse"))
        #expect(!ids.contains("prednisone"))
        #expect(ids == ["sodium-thiosulfate-intralesional"])
        #expect(a.dosing.notes.count == 1)
        #expect(a.dosing.notes.first?.contains("weightKg") == true)
        let json = AssessmentJSON.encode(a)
        guard case .array(let notes)? = json["doseNotes"] else { Issue.record("doseNotes missing"); return }
        #expect(notes.count == 1)
    }

    @Test("Caution on immunosuppressive doses while infection is severe [case-format.md doses (severity severe → caution)]")
    func cautionWhileSevere() throws {
        let a = try Self.assess(weightKg: 60, Self.purulentLesion, #""infection": {"failedPriorTherapy": true}"#)
        #expect(a.infection.severity == .severe)
        for id in ["methylprednisolone-pulse", "prednisone"] {
            let dose = try #require(a.dosing.doses.first { $0.id == id })
            #expect(dose.caution?.contains("until the infection is controlled") == true, "\(id)")
            #expect(dose.caution?.contains("severe infection") == true, "\(id)")
        }
        #expect(a.dosing.doses.filter { $0.id == "sodium-thiosulfate-intralesional" }.allSatisfy { $0.caution == nil })
        #expect(a.dosing.doses.first { $0.id == "diltiazem-high-dose" }?.caution == nil)
        let json = AssessmentJSON.encode(a)
        guard case .array(let doses)? = json["doses"] else { Issue.record("doses missing"); return }
        let mp = try #require(doses.first { $0["id"] == "methylprednisolone-pulse" })
        #expect(mp["caution"] != nil)
    }

    @Test("Caution on immunosuppressive doses while qSOFA is positive [case-format.md doses (qSOFA positive → caution); clinical-spec 6.3]")
    func cautionWhileQSOFAPositive() throws {
        let vitals = #""vitals": [{"date": "\#(B.asOf)", "respiratoryRate": 24, "systolicBP": 95, "alteredMentation": false}]"#
        let a = try Self.assess(weightKg: 60, Self.oneLesion, vitals)
        #expect(a.infection.qsofa?.positive == true)
        let dose = try #require(a.dosing.doses.first { $0.id == "prednisone" })
        #expect(dose.caution?.contains("positive qSOFA") == true)
    }

    @Test("No caution once the infection is mild or absent [case-format.md doses]")
    func noCautionWithoutSevereInfection() throws {
        let a = try Self.assess(weightKg: 60, Self.purulentLesion)
        #expect(a.infection.severity == .mild)
        #expect(a.dosing.doses.allSatisfy { $0.caution == nil })
    }

    // MARK: - Therapy options [7]

    @Test("Low-dose warfarin is listed as 'avoid', level IB [clinical-spec 7 (Traineau 2020: should NOT be used, IB)]")
    func warfarinAvoid() throws {
        let options = try Self.assess(Self.oneLesion).therapyOptions
        let w = try #require(options.first { $0.id == "warfarin-low-dose" })
        #expect(w.recommendation == "avoid")
        #expect(w.evidenceLevel == "IB")
        #expect(w.regimen == "1 mg/day (reported)")
        #expect(w.sources.contains(Sources.traineau2020))
        #expect(w.basis.hasPrefix("listed so that it is not chosen"))
        #expect(options.filter { $0.recommendation == "avoid" }.map(\.id) == ["warfarin-low-dose"])
    }

    @Test("Diltiazem: level IV, 60 mg three times daily [clinical-spec 7 (Traineau level IV) and 7.1 (Seed-1 dose)]")
    func diltiazem() throws {
        let options = try Self.assess(Self.oneLesion).therapyOptions
        let d = try #require(options.first { $0.id == "diltiazem" })
        #expect(d.evidenceLevel == "IV")
        #expect(d.regimen?.hasPrefix("60 mg three times daily") == true)
        #expect(d.recommendation == "option")
        #expect(d.current == false)
        #expect(!d.source.isEmpty)
    }

    @Test("Other Traineau level IV options [clinical-spec 7: bisphosphonates, rituximab, TNF inhibitors, intralesional STS (IV)]",
          arguments: ["bisphosphonates", "rituximab", "tnf-inhibitors", "sodium-thiosulfate-intralesional"])
    func levelIV(_ id: String) throws {
        let option = try #require(try Self.assess(Self.oneLesion).therapyOptions.first { $0.id == id })
        #expect(option.evidenceLevel == "IV")
    }

    @Test("An option in use is 'current' [clinical-spec 7 treatment menu; case-format.md medications[] active rule]")
    func current() throws {
        let meds = #""medications": [\#(B.medication("diltiazem", dose: 60, frequency: "tid")), \#(B.medication("colchicine", dose: 1, stop: "2023-06-01"))]"#
        let options = try Self.assess(Self.oneLesion, meds).therapyOptions
        let d = try #require(options.first { $0.id == "diltiazem" })
        #expect(d.current)
        #expect(d.basis.contains("already in use: diltiazem"))
        // colchicine stopped before asOf: not active (case-format.md: stop > d), so not current.
        #expect(options.first { $0.id == "colchicine" }?.current == false)
        #expect(options.filter(\.current).map(\.id) == ["diltiazem"])
    }

    @Test("Immunosuppressive options carry the infection caution [case-format.md doses caution; clinical-spec 8 DDI-11/HOLD-01]")
    func optionCautionWhileSevere() throws {
        let options = try Self.assess(Self.purulentLesion, #""infection": {"failedPriorTherapy": true}"#).therapyOptions
        for id in ["rituximab", "corticosteroids-systemic", "tnf-inhibitors"] {
            let o = try #require(options.first { $0.id == id })
            #expect(o.cautions.contains { $0.contains("until the infection is controlled") }, "\(id)")
        }
        #expect(options.first { $0.id == "diltiazem" }?.cautions.isEmpty == true)
    }

    @Test("No lesion, no therapy options [clinical-spec 1.3 R0: calcinosis not confirmed]")
    func noLesionNoOptions() throws {
        let a = try Self.assess()
        #expect(a.therapyOptions.isEmpty)
        #expect(a.imaging.isEmpty)
    }

    @Test("Therapy JSON keys [case-format.md therapyOptions: id, regimen, evidenceLevel, source]")
    func therapyJSON() throws {
        let json = AssessmentJSON.encode(try Self.assess(Self.oneLesion))
        guard case .array(let options)? = json["therapyOptions"] else { Issue.record("therapyOptions missing"); return }
        #expect(options.count == TherapyCatalog.entries.count)
        let d = try #require(options.first { $0["id"] == "diltiazem" })
        #expect(d["evidenceLevel"] == "IV")
        #expect(d["regimen"] == "60 mg three times daily; high dose 3 mg/kg/day reported")
        guard case .string(let source)? = d["source"] else { Issue.record("source missing"); return }
        #expect(source.contains("Traineau 2020"))
    }

    // MARK: - Imaging [9]

    struct ImagingCase: Sendable, CustomTestStringConvertible {
        let name: String
        let parts: [String]
        let modalities: [ImagingModality]
        let source: String
        var testDescription: String { "\(name) [\(source)]" }
    }

    static let inflammation = #""workup": {"suspectedSoftTissueInflammation": true}"#
    static func studies(_ rows: String...) -> String { #""imagingStudies": [\#(rows.joined(separator: ", "))]"# }
    static func study(_ modality: String, inconclusive: Bool) -> String {
        #"{"date": "\#(B.day(-3))", "modality": "\#(modality)", "inconclusive": \#(inconclusive)}"#
    }

    static let imagingCases: [ImagingCase] = [
        .init(name: "a lesion: radiograph first", parts: [oneLesion], modalities: [.radiograph],
              source: "clinical-spec 9 (plain radiography first line, Shahi 2014 via Seed-2)"),
        .init(name: "a lesion at the knee: radiograph and ultrasound", parts: [B.lesions([B.lesion(site: "knee")])],
              modalities: [.radiograph, .ultrasound], source: "clinical-spec 9 (US: joint involvement vs soft tissue, Seed-1)"),
        .init(name: "a lesion at the finger: ultrasound", parts: [B.lesions([B.lesion(site: "finger")])],
              modalities: [.radiograph, .ultrasound], source: "clinical-spec 9 (Seed-1)"),
        .init(name: "planned surgery: CT", parts: [oneLesion, #""workup": {"plannedSurgery": true}"#],
              modalities: [.radiograph, .ct], source: "clinical-spec 9 (plannedSurgery → CT)"),
        .init(name: "neurovascular symptoms: CT", parts: [oneLesion, #""workup": {"neurovascularSymptoms": true}"#],
              modalities: [.radiograph, .ct], source: "clinical-spec 9 (neurovascularSymptoms → CT)"),
        .init(name: "inflammation without an inconclusive study: no MRI", parts: [oneLesion, inflammation],
              modalities: [.radiograph], source: "clinical-spec 9 (MRI only if X-ray/US inconclusive)"),
        .init(name: "inconclusive radiograph without inflammation or infection: no MRI",
              parts: [oneLesion, studies(study("radiograph", inconclusive: true))],
              modalities: [], source: "clinical-spec 9 (MRI needs suspected inflammation or infection)"),
        .init(name: "inflammation and an inconclusive radiograph: MRI",
              parts: [oneLesion, inflammation, studies(study("radiograph", inconclusive: true))],
              modalities: [.mri], source: "clinical-spec 9 (inflammation + X-ray/US inconclusive → MRI)"),
        .init(name: "inflammation and an inconclusive ultrasound: MRI",
              parts: [oneLesion, inflammation, studies(study("ultrasound", inconclusive: true))],
              modalities: [.radiograph, .mri], source: "clinical-spec 9"),
        .init(name: "inflammation and a conclusive radiograph: no MRI",
              parts: [oneLesion, inflammation, studies(study("radiograph", inconclusive: false))],
              modalities: [], source: "clinical-spec 9 (only when inconclusive)"),
        .init(name: "infection and an inconclusive radiograph: MRI",
              parts: [purulentLesion, studies(study("radiograph", inconclusive: true))],
              modalities: [.ultrasound, .mri], source: "clinical-spec 9 (infection vs inflammation → MRI; US at the bedside, Seed-1)"),
        .init(name: "MRI already done is not suggested again",
              parts: [oneLesion, inflammation, studies(study("radiograph", inconclusive: true), study("mri", inconclusive: false))],
              modalities: [], source: "clinical-spec 9"),
    ]

    @Test("Imaging advice", arguments: imagingCases)
    func imaging(_ c: ImagingCase) throws {
        let advice = try TestCases.assess(B.caseJSON(c.parts)).imaging
        #expect(advice.map(\.modality) == c.modalities)
        #expect(advice.allSatisfy { !$0.reason.isEmpty && !$0.sources.isEmpty })
    }

    // MARK: - Risk factors [10]

    static func riskFactors(_ ssc: String, asOf: String = B.asOf) throws -> [RiskFactor] {
        try TestCases.assess(B.caseJSON(asOf: asOf, ssc, oneLesion)).riskFactors
    }

    @Test("Digital ulcers: OR 3.9 [clinical-spec 10 (Valenzuela 2016, multivariate)]")
    func digitalUlcers() throws {
        let r = try #require(try Self.riskFactors(B.ssc("diffuse", features: ["digital-ulcers"])).first { $0.id == "digital-ulcers" })
        #expect(r.association.hasPrefix("OR 3.9"))
        #expect(r.association.contains("2.7-5.5"))
        #expect(r.sources == [Sources.valenzuela2016])
        #expect(r.conflicting == false)
    }

    @Test("Anti-Scl-70 is shown with its conflicting evidence [clinical-spec 10 (conflicts with SCTC); case-format.md riskFactors]")
    func antiScl70() throws {
        let factors = try Self.riskFactors(B.ssc("diffuse", antibodies: #""scl70": "positive""#))
        let r = try #require(factors.first { $0.id == "anti-scl70" })
        #expect(r.conflicting)
        #expect(r.association.contains("conflicting"))
        #expect(r.sources.contains(Sources.valenzuela2016))
        #expect(r.sources.contains(Sources.seed1))
        let negative = try Self.riskFactors(B.ssc("diffuse", antibodies: #""scl70": "negative""#))
        #expect(!negative.contains { $0.id == "anti-scl70" })
    }

    struct DurationCase: Sendable, CustomTestStringConvertible {
        let diagnosisDate: String
        let present: Bool
        let possibly: Bool
        let source: String
        var testDescription: String { "diagnosed \(diagnosisDate), asOf 2024-01-10 → \(present ? "present" : "absent") [\(source)]" }
    }

    static let durationCases: [DurationCase] = [
        .init(diagnosisDate: "2014-01-09", present: true, possibly: false, source: "clinical-spec 10 (disease duration > 10 years, Seed-1)"),
        .init(diagnosisDate: "2014-01-10", present: false, possibly: false, source: "clinical-spec 10 (more than 10 years: exactly 10 is not)"),
        .init(diagnosisDate: "2013", present: true, possibly: false,
              source: "clinical-spec 10; case-format.md (year-only diagnosisDate): even 2013-12-31 is over 10 years"),
        .init(diagnosisDate: "2015", present: false, possibly: false,
              source: "clinical-spec 10; case-format.md (year-only diagnosisDate): even 2015-01-01 is under 10 years"),
        .init(diagnosisDate: "2014", present: true, possibly: true,
              source: "clinical-spec 10; engine decision: a year that straddles the 10-year mark is shown as 'possibly'"),
    ]

    @Test("Disease duration over 10 years", arguments: durationCases)
    func diseaseDuration(_ c: DurationCase) throws {
        let factors = try Self.riskFactors(B.ssc("diffuse", diagnosisDate: c.diagnosisDate))
        let r = factors.first { $0.id == "disease-duration-over-10-years" }
        #expect((r != nil) == c.present)
        if let r {
            #expect(r.basis.contains("possibly") == c.possibly)
            #expect(r.association.contains("OR 1.24"))
        }
    }

    @Test("Limited subtype is a risk-enriched phenotype; diffuse is not [clinical-spec 10 (Pai & Hsu 2018 via Seed-2)]")
    func limitedSubtype() throws {
        #expect(try Self.riskFactors(B.ssc("limited")).map(\.id) == ["limited-subtype"])
        #expect(try Self.riskFactors(B.ssc("diffuse")).isEmpty)
    }

    @Test("Risk factors in the fixed vocabulary, in table order [case-format.md riskFactors[].id]")
    func allFactors() throws {
        let ssc = B.ssc("limited", diagnosisDate: "2000-01-01",
                        antibodies: #""scl70": "positive", "centromere": "positive", "pmScl": "positive", "rnaPolIII": "positive""#,
                        features: ["digital-ulcers", "digital-ischemia", "acro-osteolysis", "osteoporosis", "telangiectasia",
                                   "pulmonary-arterial-hypertension", "raynaud"])
        let factors = try Self.riskFactors(ssc)
        #expect(factors.map(\.id) == ["digital-ulcers", "digital-ischemia", "acro-osteolysis", "osteoporosis", "telangiectasia",
                                      "pulmonary-arterial-hypertension", "anti-centromere", "anti-pm-scl", "anti-rna-polymerase-iii",
                                      "anti-scl70", "disease-duration-over-10-years", "limited-subtype"])
        #expect(factors.filter(\.conflicting).map(\.id) == ["anti-rna-polymerase-iii", "anti-scl70"])
        #expect(factors.first { $0.id == "osteoporosis" }?.association.hasPrefix("OR 4.2") == true)
        #expect(factors.first { $0.id == "digital-ischemia" }?.association.contains("OR 2.37") == true)
        #expect(factors.first { $0.id == "acro-osteolysis" }?.association == "OR 2.97")
        #expect(factors.allSatisfy { !$0.source.isEmpty })
    }

    @Test("No SSc profile, no risk factors [clinical-spec 10 (SSc associations)]")
    func noSSc() throws {
        #expect(try TestCases.assess(B.caseJSON(Self.oneLesion)).riskFactors.isEmpty)
    }

    // MARK: - Threshold table [0.3 rule 2]

    @Test("Thresholds.definitions is in ThresholdID order, one per id [Thresholds.swift contract; clinical-spec 0.3 rule 2]")
    func thresholdOrder() {
        let defs = Thresholds.definitions
        #expect(defs.count == ThresholdID.allCases.count)
        #expect(defs.map(\.id) == ThresholdID.allCases)
        for (i, d) in defs.enumerated() {
            #expect(d.id.rawValue == i, "\(d.key)")
            #expect(Thresholds.definition(d.id).key == d.key)
            #expect(Thresholds()[d.id] == d.value, "\(d.key)")
        }
    }

    @Test("Threshold keys are unique and non-empty [clinical-spec 0.3 rule 2]")
    func thresholdKeys() {
        let keys = Thresholds.definitions.map(\.key)
        #expect(Set(keys).count == keys.count)
        #expect(keys.allSatisfy { !$0.isEmpty && !$0.contains(" ") })
    }

    @Test("Every threshold has a known source and a verification tag [clinical-spec 0.1, 0.3 rule 2]")
    func thresholdSources() {
        for d in Thresholds.definitions {
            #expect(!d.sources.isEmpty, "\(d.key)")
            #expect(d.sources.allSatisfy { Sources.all[$0] != nil }, "\(d.key)")
            #expect(!d.tag.rawValue.isEmpty, "\(d.key)")
            #expect(!d.unit.isEmpty && !d.rule.isEmpty, "\(d.key)")
        }
    }

    struct DefaultCase: Sendable, CustomTestStringConvertible {
        let key: String
        let value: Double
        let source: String
        var testDescription: String { "\(key) = \(value) [\(source)]" }
    }

    static let defaultCases: [DefaultCase] = [
        .init(key: "caxp.metastatic", value: 70, source: "clinical-spec 1.2; case-format.md"),
        .init(key: "calcium.uln", value: 10.5, source: "case-format.md project decision"),
        .init(key: "phosphate.uln", value: 4.5, source: "case-format.md project decision"),
        .init(key: "calciphylaxis.egfr", value: 15, source: "clinical-spec 1.3 R2 (KDIGO G5)"),
        .init(key: "iatrogenic.windowDays", value: 180, source: "case-format.md project decision"),
        .init(key: "dose.methylprednisolone.mgPerKg", value: 30, source: "case-format.md doses; clinical-spec 7.1"),
        .init(key: "dose.methylprednisolone.capMg", value: 1000, source: "case-format.md doses; clinical-spec 7.1"),
        .init(key: "dose.prednisone.mgPerKg", value: 2, source: "case-format.md doses; clinical-spec 7.1"),
        .init(key: "dose.sodiumThiosulfate.mlPerCm2", value: 1, source: "case-format.md doses; clinical-spec 7.1 (Seed-1)"),
        .init(key: "wound.trend.stableFraction", value: 0.10, source: "case-format.md project decision (±10 %)"),
        .init(key: "wound.par4w.day", value: 28, source: "clinical-spec 11.2 (Sheehan 2003, 4 weeks)"),
        .init(key: "wound.par4w.windowStart", value: 21, source: "case-format.md project decision"),
        .init(key: "wound.par4w.windowEnd", value: 35, source: "case-format.md project decision"),
        .init(key: "response.noneFraction", value: 0.90, source: "case-format.md project decision"),
        .init(key: "followUp.lostDays", value: 365, source: "case-format.md project decision"),
        .init(key: "followUp.overdueDays", value: 30, source: "case-format.md project decision"),
        .init(key: "riskFactor.diseaseDurationYears", value: 10, source: "clinical-spec 10"),
    ]

    @Test("Published default values", arguments: defaultCases)
    func defaults(_ c: DefaultCase) throws {
        let d = try #require(Thresholds.definitions.first { $0.key == c.key })
        #expect(d.value == c.value)
    }
}
