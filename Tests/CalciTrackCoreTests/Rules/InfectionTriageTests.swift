@testable import CalciTrackCore
import Testing

/// SSTI triage over calcinosis lesions: presence, IDSA 2014 severity with the project's overlap
/// decision, route, MRSA coverage, management, empiric agents, duration and immunosuppression.
@Suite("Infection triage (IDSA 2014 SSTI)")
struct InfectionTriageTests {
    typealias F = TriageFixtures

    static func triage(vitals: [String] = [], labs: [String] = [], meds: [String] = [], lesions: [String],
                       infection: String? = nil, history: String? = nil, patient: String? = nil) throws -> InfectionTriage {
        try TestCases.assess(F.caseJSON(patient: patient, vitals: vitals, labs: labs, meds: meds, lesions: lesions,
                                        infection: infection, history: history)).infection
    }

    // MARK: presence

    struct PresenceRow: Sendable, CustomTestStringConvertible {
        let findings: String
        var infection: String? = nil
        let present: Bool
        let purulent: Bool
        let source: String
        var testDescription: String { "{\(findings)} \(infection ?? "") → present \(present)" }
    }

    static let presenceRows: [PresenceRow] = [
        PresenceRow(findings: F.findings("purulent"), present: true, purulent: true, source: "case-format.md project decision: purulent"),
        PresenceRow(findings: F.findings("abscess"), present: true, purulent: true, source: "case-format.md project decision: abscess; IDSA 2014 purulent SSTI via clinical-spec 6.4"),
        PresenceRow(findings: F.findings("erythema", "warmth"), present: true, purulent: false, source: "case-format.md project decision: erythema with warmth"),
        PresenceRow(findings: F.findings("erythema", "edema"), present: true, purulent: false, source: "case-format.md project decision: erythema with edema"),
        PresenceRow(findings: F.findings("erythema"), present: false, purulent: false, source: "case-format.md project decision: erythema alone is not enough"),
        PresenceRow(findings: F.findings("warmth", "edema"), present: false, purulent: false, source: "case-format.md project decision: erythema required with warmth/edema"),
        PresenceRow(findings: F.findings("bullae"), present: true, purulent: false, source: "case-format.md project decision: bullae"),
        PresenceRow(findings: F.findings("skinSloughing"), present: true, purulent: false, source: "case-format.md project decision: skinSloughing"),
        PresenceRow(findings: F.findings("ulcerated", "pain", "extrusion", "necrosis"), present: false, purulent: false,
                    source: "case-format.md project decision: ulcer, pain, extrusion are not infection signs"),
        PresenceRow(findings: "", infection: #""failedPriorTherapy": true"#, present: true, purulent: false,
                    source: "case-format.md project decision: infection inputs say so"),
        PresenceRow(findings: "", infection: #""failedPriorTherapy": false"#, present: false, purulent: false,
                    source: "case-format.md project decision"),
        // Engine reading of "infection inputs say so": deeper-infection signs imply an infection; hypotension or organ
        // dysfunction alone (no lesion sign) do not, as they have other causes.
        PresenceRow(findings: "", infection: #""deepInfectionSigns": true"#, present: true, purulent: false,
                    source: "case-format.md project decision (infection inputs), IDSA 2014 'signs of deeper infection'"),
        PresenceRow(findings: "", infection: #""hypotension": true, "organDysfunction": true"#, present: false, purulent: false,
                    source: "case-format.md project decision (engine reading: not lesion-specific)"),
    ]

    @Test("Infection presence and purulence", arguments: presenceRows)
    func presence(_ row: PresenceRow) throws {
        let t = try Self.triage(lesions: [TestCases.lesion(findings: row.findings)], infection: row.infection)
        #expect(t.present == row.present)
        #expect(t.purulent == row.purulent)
        if !row.present {
            // case-format.md: severity none and route none without infection.
            #expect(t.severity == .none)
            #expect(t.route == "none")
            #expect(t.mrsaCoverage == false)
            #expect(t.mrsaReasons.isEmpty)
            #expect(t.management.isEmpty)
            #expect(t.empiricOptions.isEmpty)
            #expect(t.durationDays == nil)
        }
    }

    @Test("Any lesion counts; purulent when any lesion is purulent (case-format.md project decision)")
    func anyLesion() throws {
        let t = try Self.triage(lesions: [F.quietLesion, TestCases.lesion(id: "L2", site: "knee", findings: F.findings("abscess"))])
        #expect(t.present)
        #expect(t.purulent)
        #expect(t.presentReasons == ["lesion L2: abscess"])
    }

    // MARK: severity and route

    struct SeverityRow: Sendable, CustomTestStringConvertible {
        let name: String
        let lesion: String
        var vitals: [String] = []
        var labs: [String] = []
        var infection: String? = nil
        let severity: InfectionSeverity
        let route: String
        let source: String
        var testDescription: String { "\(name) → \(severity.rawValue)/\(route)" }
    }

    static let oneSign = [F.vitals(t: 38.5)]
    static let twoSigns = [F.vitals(t: 38.5, hr: 100)]

    static let severityRows: [SeverityRow] = [
        SeverityRow(name: "purulent, no sign", lesion: F.purulentLesion, severity: .mild, route: "none",
                    source: "IDSA 2014 Fig 1 via clinical-spec 6.4 (I&D only); case-format.md route purulent mild → none"),
        SeverityRow(name: "non-purulent, no sign", lesion: F.cellulitisLesion, severity: .mild, route: "oral",
                    source: "IDSA 2014 Fig 1 via clinical-spec 6.4; case-format.md route mild → oral"),
        SeverityRow(name: "purulent, one sign (T)", lesion: F.purulentLesion, vitals: oneSign, severity: .moderate, route: "oral",
                    source: "case-format.md project decision: exactly one sign = moderate; moderate purulent → oral"),
        SeverityRow(name: "purulent, one sign (HR)", lesion: F.purulentLesion, vitals: [F.vitals(hr: 95)], severity: .moderate, route: "oral",
                    source: "case-format.md project decision: exactly one sign = moderate"),
        SeverityRow(name: "purulent, one sign (WBC)", lesion: F.purulentLesion, labs: [F.lab("wbc", 15, "10*9/L")], severity: .moderate, route: "oral",
                    source: "case-format.md project decision: exactly one sign = moderate"),
        SeverityRow(name: "non-purulent, one sign (T)", lesion: F.cellulitisLesion, vitals: oneSign, severity: .moderate, route: "intravenous",
                    source: "case-format.md project decision: one sign = moderate; moderate non-purulent → intravenous (IDSA 2014 Fig 1 'IV')"),
        SeverityRow(name: "non-purulent, one sign (RR)", lesion: F.cellulitisLesion, vitals: [F.vitals(rr: 26)], severity: .moderate, route: "intravenous",
                    source: "case-format.md project decision"),
        SeverityRow(name: "purulent, two signs", lesion: F.purulentLesion, vitals: twoSigns, severity: .severe, route: "intravenous",
                    source: "case-format.md project decision: two or more signs = severe (overlap resolved)"),
        SeverityRow(name: "non-purulent, two signs", lesion: F.cellulitisLesion, vitals: twoSigns, severity: .severe, route: "intravenous",
                    source: "case-format.md project decision: two or more signs = severe"),
        SeverityRow(name: "purulent, four signs", lesion: F.purulentLesion, vitals: [F.vitals(t: 39, hr: 120, rr: 30)], labs: [F.lab("wbc", 20, "10*9/L")],
                    severity: .severe, route: "intravenous", source: "case-format.md project decision"),
        SeverityRow(name: "purulent, immunocompromised (clinician)", lesion: F.purulentLesion, infection: #""immunocompromised": true"#,
                    severity: .severe, route: "intravenous", source: "IDSA 2014 Fig 1 'or immunocompromised' via clinical-spec 6.4; case-format.md"),
        SeverityRow(name: "non-purulent, immunocompromised (clinician)", lesion: F.cellulitisLesion, infection: #""immunocompromised": true"#,
                    severity: .severe, route: "intravenous", source: "IDSA 2014 Fig 1 via clinical-spec 6.4"),
        SeverityRow(name: "purulent, failed prior therapy", lesion: F.purulentLesion, infection: #""failedPriorTherapy": true"#,
                    severity: .severe, route: "intravenous", source: "IDSA 2014 Fig 1 'failed I&D plus oral antibiotics' via clinical-spec 6.4"),
        SeverityRow(name: "non-purulent, hypotension", lesion: F.cellulitisLesion, infection: #""hypotension": true"#,
                    severity: .severe, route: "intravenous", source: "IDSA 2014 Fig 1 non-purulent severe via clinical-spec 6.4; case-format.md"),
        SeverityRow(name: "non-purulent, organ dysfunction", lesion: F.cellulitisLesion, infection: #""organDysfunction": true"#,
                    severity: .severe, route: "intravenous", source: "IDSA 2014 Fig 1 non-purulent severe via clinical-spec 6.4"),
        SeverityRow(name: "non-purulent, bullae", lesion: TestCases.lesion(findings: F.findings("bullae")),
                    severity: .severe, route: "intravenous", source: "IDSA 2014 Fig 1 non-purulent severe via clinical-spec 6.4"),
        SeverityRow(name: "non-purulent, skin sloughing", lesion: TestCases.lesion(findings: F.findings("erythema", "warmth", "skinSloughing")),
                    severity: .severe, route: "intravenous", source: "IDSA 2014 Fig 1 non-purulent severe via clinical-spec 6.4"),
        SeverityRow(name: "non-purulent, deep infection signs", lesion: F.cellulitisLesion, infection: #""deepInfectionSigns": true"#,
                    severity: .severe, route: "intravenous", source: "IDSA 2014 Fig 1 'clinical signs of deeper infection' via clinical-spec 6.4"),
        SeverityRow(name: "purulent, hypotension alone", lesion: F.purulentLesion, infection: #""hypotension": true"#,
                    severity: .mild, route: "none", source: "case-format.md project decision: hypotension is severe only when non-purulent"),
        SeverityRow(name: "purulent, organ dysfunction alone", lesion: F.purulentLesion, infection: #""organDysfunction": true"#,
                    severity: .mild, route: "none", source: "case-format.md project decision"),
        SeverityRow(name: "purulent with bullae", lesion: TestCases.lesion(findings: F.findings("purulent", "bullae")),
                    severity: .mild, route: "none", source: "case-format.md project decision: bullae count only when non-purulent"),
        SeverityRow(name: "purulent, one sign + hypotension", lesion: F.purulentLesion, vitals: oneSign, infection: #""hypotension": true"#,
                    severity: .moderate, route: "oral", source: "case-format.md project decision"),
        SeverityRow(name: "non-purulent, immunocompromised false (clinician)", lesion: F.cellulitisLesion, infection: #""immunocompromised": false"#,
                    severity: .mild, route: "oral", source: "case-format.md: the clinician's value overrides"),
    ]

    @Test("Severity and route per cell", arguments: severityRows)
    func severityAndRoute(_ row: SeverityRow) throws {
        let t = try Self.triage(vitals: row.vitals, labs: row.labs, lesions: [row.lesion], infection: row.infection)
        #expect(t.present)
        #expect(t.severity == row.severity)
        #expect(t.route == row.route)
        #expect(!t.severityReasons.isEmpty)
    }

    @Test("Severity reasons name the criterion (clinical-spec 0.3: show the reason)")
    func severityReasons() throws {
        let one = try Self.triage(vitals: Self.oneSign, lesions: [F.purulentLesion])
        #expect(one.severityReasons == ["one systemic sign (temperature)"])
        let hypo = try Self.triage(lesions: [F.cellulitisLesion], infection: #""hypotension": true, "organDysfunction": true"#)
        #expect(hypo.severityReasons == ["hypotension", "organ dysfunction"])
        let two = try Self.triage(vitals: Self.twoSigns, lesions: [F.purulentLesion])
        #expect(two.severityReasons == ["2 systemic signs (temperature, heartRate)"])
    }

    // MARK: MRSA coverage

    struct MRSARow: Sendable, CustomTestStringConvertible {
        let name: String
        let lesion: String
        var vitals: [String] = []
        var infection: String? = nil
        var history: String? = nil
        let reasons: [String]
        var testDescription: String { "\(name) → \(reasons)" }
    }

    // Sources: IDSA 2014 cellulitis section via clinical-spec 6.6; reason names from case-format.md project decision.
    static let mrsaRows: [MRSARow] = [
        MRSARow(name: "purulent mild", lesion: F.purulentLesion, reasons: []),
        MRSARow(name: "non-purulent mild", lesion: F.cellulitisLesion, reasons: []),
        MRSARow(name: "non-purulent moderate, SIRS negative", lesion: F.cellulitisLesion, vitals: oneSign, reasons: []),
        MRSARow(name: "non-purulent severe (hypotension) without a risk", lesion: F.cellulitisLesion, infection: #""hypotension": true"#, reasons: []),
        MRSARow(name: "purulent moderate", lesion: F.purulentLesion, vitals: oneSign, reasons: ["purulent-moderate"]),
        MRSARow(name: "purulent severe (immunocompromised)", lesion: F.purulentLesion, infection: #""immunocompromised": true"#, reasons: ["purulent-severe"]),
        MRSARow(name: "penetrating trauma", lesion: F.cellulitisLesion, history: #""penetratingTrauma": true"#, reasons: ["penetrating-trauma"]),
        MRSARow(name: "MRSA infection elsewhere", lesion: F.cellulitisLesion, history: #""mrsaInfectionElsewhere": true"#, reasons: ["mrsa-infection-elsewhere"]),
        MRSARow(name: "MRSA nasal colonisation", lesion: F.cellulitisLesion, history: #""mrsaNasalColonization": true"#, reasons: ["mrsa-nasal-colonization"]),
        MRSARow(name: "injection drug use", lesion: F.cellulitisLesion, history: #""injectionDrugUse": true"#, reasons: ["injection-drug-use"]),
        // SIRS 2/4 (T < 36, RR > 20) with no IDSA sign: mild, yet MRSA coverage for SIRS.
        MRSARow(name: "SIRS without IDSA signs", lesion: F.cellulitisLesion, vitals: [F.vitals(t: 35.5, rr: 22)], reasons: ["sirs"]),
        MRSARow(name: "failed prior therapy", lesion: F.cellulitisLesion, infection: #""failedPriorTherapy": true"#, reasons: ["failed-prior-therapy"]),
        MRSARow(name: "history flags false", lesion: F.cellulitisLesion,
                history: #""penetratingTrauma": false, "mrsaInfectionElsewhere": false, "mrsaNasalColonization": false, "injectionDrugUse": false"#, reasons: []),
        MRSARow(name: "several", lesion: F.purulentLesion, vitals: twoSigns, infection: #""failedPriorTherapy": true"#,
                history: #""mrsaNasalColonization": true, "injectionDrugUse": true"#,
                reasons: ["purulent-severe", "mrsa-nasal-colonization", "injection-drug-use", "sirs", "failed-prior-therapy"]),
    ]

    @Test("MRSA coverage and reasons", arguments: mrsaRows)
    func mrsa(_ row: MRSARow) throws {
        let t = try Self.triage(vitals: row.vitals, lesions: [row.lesion], infection: row.infection, history: row.history)
        #expect(t.mrsaReasons == row.reasons)
        #expect(t.mrsaCoverage == !row.reasons.isEmpty)
        let vocabulary: Set = ["purulent-moderate", "purulent-severe", "penetrating-trauma", "mrsa-infection-elsewhere",
                               "mrsa-nasal-colonization", "injection-drug-use", "sirs", "failed-prior-therapy"]
        #expect(Set(t.mrsaReasons).isSubset(of: vocabulary))
    }

    @Test("Purulent mild with an MRSA risk: coverage flagged, yet I&D alone and no agent (case-format.md 'any infection'; IDSA 2014 Fig 1)")
    func purulentMildWithMRSARisk() throws {
        let t = try Self.triage(lesions: [F.purulentLesion], history: #""mrsaNasalColonization": true"#)
        #expect(t.severity == .mild)
        #expect(t.mrsaCoverage)
        #expect(t.mrsaReasons == ["mrsa-nasal-colonization"])
        #expect(t.route == "none")
        #expect(t.empiricOptions.isEmpty)
        #expect(t.management == ["incision-and-drainage"])
    }

    @Test("No MRSA coverage without infection, even with risk factors (case-format.md: 'for any infection with')")
    func mrsaNeedsInfection() throws {
        let t = try Self.triage(vitals: Self.twoSigns, lesions: [F.quietLesion], history: #""mrsaNasalColonization": true"#)
        #expect(!t.present)
        #expect(!t.mrsaCoverage)
        #expect(t.mrsaReasons.isEmpty)
    }

    @Test("Non-purulent mild with an MRSA risk: agents active against MRSA and streptococci (IDSA 2014 via clinical-spec 6.6)")
    func mrsaAgentsNonPurulentMild() throws {
        let t = try Self.triage(lesions: [F.cellulitisLesion], history: #""penetratingTrauma": true"#)
        #expect(t.route == "oral")
        #expect(t.empiricOptions.map(\.agent.drug) == ["linezolid", "clindamycin"])
        #expect(t.empiricOptions.allSatisfy { $0.agent.activeAgainstMRSA && $0.agent.route == .oral })
        #expect(!t.empiricOptions.map(\.agent.drug).contains("penicillin v"))
    }

    @Test("Non-purulent moderate with SIRS: IV agents active against MRSA, vancomycin first (IDSA 2014 via clinical-spec 6.6)")
    func mrsaAgentsNonPurulentModerate() throws {
        // T 38.5 is one IDSA sign; RR 22 is SIRS-only: moderate, SIRS 2/4.
        let t = try Self.triage(vitals: [F.vitals(t: 38.5, rr: 22)], lesions: [F.cellulitisLesion])
        #expect(t.severity == .moderate)
        #expect(t.mrsaReasons == ["sirs"])
        #expect(t.empiricOptions.map(\.agent.drug) == ["vancomycin", "linezolid", "clindamycin"])
        #expect(t.empiricOptions.allSatisfy { $0.agent.activeAgainstMRSA && $0.agent.route == .intravenous })
    }

    // MARK: management

    static let managementRows: [(String, [String], String?, [String])] = [
        // IDSA 2014 Fig 1 via clinical-spec 6.4 (I&D; I&D + C&S; emergent surgical inspection).
        (F.purulentLesion, [], nil, ["incision-and-drainage"]),
        (F.purulentLesion, oneSign, nil, ["incision-and-drainage", "culture"]),
        (F.purulentLesion, twoSigns, nil, ["incision-and-drainage", "culture"]),
        (F.cellulitisLesion, [], nil, []),
        (F.cellulitisLesion, oneSign, nil, []),
        (F.cellulitisLesion, [], #""hypotension": true"#, ["culture", "surgical-inspection"]),
        // IDSA 2014 via clinical-spec 6.6: cultures recommended in severe cell-mediated immunodeficiency.
        (F.cellulitisLesion, [], #""immunocompromised": true"#, ["culture", "surgical-inspection"]),
    ]

    @Test("Management per cell, from the fixed vocabulary (case-format.md)", arguments: managementRows)
    func management(lesion: String, vitals: [String], infection: String?, expected: [String]) throws {
        let t = try Self.triage(vitals: vitals, lesions: [lesion], infection: infection)
        #expect(t.management == expected)
        #expect(Set(t.management).isSubset(of: ["incision-and-drainage", "culture", "surgical-inspection"]))
    }

    // MARK: empiric options

    struct Option: Sendable, Equatable, CustomStringConvertible {
        let drug: String
        let rxnorm: String?
        let route: Route
        var regimen: String? = nil
        var description: String { "\(drug) \(rxnorm ?? "-") \(route.rawValue) \(regimen ?? "")" }
    }

    struct CellRow: Sendable, CustomTestStringConvertible {
        let cell: String
        let lesion: String
        var vitals: [String] = []
        var infection: String? = nil
        let options: [Option]
        var testDescription: String { cell }
    }

    // Agents: IDSA 2014 Fig 1 via clinical-spec 6.4; RxNorm codes: clinical-spec 12.5.
    static let cellRows: [CellRow] = [
        CellRow(cell: "purulent mild", lesion: F.purulentLesion, options: []),
        CellRow(cell: "purulent moderate", lesion: F.purulentLesion, vitals: oneSign, options: [
            Option(drug: "sulfamethoxazole-trimethoprim", rxnorm: "10831", route: .oral),
            Option(drug: "doxycycline", rxnorm: "3640", route: .oral),
        ]),
        CellRow(cell: "purulent severe", lesion: F.purulentLesion, vitals: twoSigns, options: [
            Option(drug: "vancomycin", rxnorm: "11124", route: .intravenous),
            Option(drug: "daptomycin", rxnorm: "22299", route: .intravenous),
            Option(drug: "linezolid", rxnorm: "190376", route: .intravenous),
            Option(drug: "telavancin", rxnorm: "473837", route: .intravenous),
            Option(drug: "ceftaroline", rxnorm: "1040005", route: .intravenous),
        ]),
        CellRow(cell: "non-purulent mild", lesion: F.cellulitisLesion, options: [
            Option(drug: "penicillin v", rxnorm: "7984", route: .oral),
            Option(drug: "cephalexin", rxnorm: "2231", route: .oral),
            Option(drug: "dicloxacillin", rxnorm: "3356", route: .oral),
            Option(drug: "clindamycin", rxnorm: "2582", route: .oral),
        ]),
        CellRow(cell: "non-purulent moderate", lesion: F.cellulitisLesion, vitals: oneSign, options: [
            Option(drug: "penicillin g", rxnorm: "7980", route: .intravenous),
            Option(drug: "ceftriaxone", rxnorm: "2193", route: .intravenous),
            Option(drug: "cefazolin", rxnorm: "2180", route: .intravenous),
            Option(drug: "clindamycin", rxnorm: "2582", route: .intravenous),
        ]),
        // case-format.md project decision: a multi-drug regimen is one entry per drug sharing a `regimen` key.
        CellRow(cell: "non-purulent severe", lesion: F.cellulitisLesion, infection: #""hypotension": true"#, options: [
            Option(drug: "vancomycin", rxnorm: "11124", route: .intravenous, regimen: "vancomycin+piperacillin-tazobactam"),
            Option(drug: "piperacillin-tazobactam", rxnorm: "74169", route: .intravenous, regimen: "vancomycin+piperacillin-tazobactam"),
            Option(drug: "vancomycin", rxnorm: "11124", route: .intravenous, regimen: "vancomycin+imipenem-cilastatin"),
            Option(drug: "imipenem-cilastatin", rxnorm: "34482", route: .intravenous, regimen: "vancomycin+imipenem-cilastatin"),
            Option(drug: "vancomycin", rxnorm: "11124", route: .intravenous, regimen: "vancomycin+meropenem"),
            Option(drug: "meropenem", rxnorm: "29561", route: .intravenous, regimen: "vancomycin+meropenem"),
        ]),
    ]

    @Test("Empiric options per IDSA cell with RxNorm codes", arguments: cellRows)
    func empiricOptions(_ row: CellRow) throws {
        let t = try Self.triage(vitals: row.vitals, lesions: [row.lesion], infection: row.infection)
        let got = t.empiricOptions.map { Option(drug: $0.agent.drug, rxnorm: $0.rxnorm, route: $0.agent.route, regimen: $0.agent.regimen) }
        #expect(got == row.options)
        // Every option's route agrees with the cell's route (case-format.md).
        #expect(t.empiricOptions.allSatisfy { $0.agent.route.rawValue == t.route })
    }

    @Test("The non-purulent severe regimens appear as shared keys in the JSON (case-format.md fixed keys)")
    func regimenKeysInJSON() throws {
        let json = try TestCases.assessJSON(F.caseJSON(lesions: [F.cellulitisLesion], infection: #""hypotension": true"#))
        guard case .array(let options)? = json["infection"]?["empiricOptions"] else {
            Issue.record("empiricOptions missing"); return
        }
        #expect(options.count == 6)
        #expect(options[0]["drug"] == "vancomycin")
        #expect(options[0]["rxnorm"] == "11124")
        #expect(options[0]["route"] == "intravenous")
        #expect(options[0]["regimen"] == "vancomycin+piperacillin-tazobactam")
        #expect(options[1]["regimen"] == "vancomycin+piperacillin-tazobactam")
        #expect(options[1]["drug"] == "piperacillin-tazobactam")
        // Carbapenem doses were not found (clinical-spec 6.5): no invented dose.
        #expect(options[3]["dose"] == .null)
        #expect(options[3]["doseTag"] == "NF")
        #expect(Set(options.compactMap { o -> String? in if case .string(let r)? = o["regimen"] { r } else { nil } }).count == 3)
    }

    @Test("Usual adult dose texts (clinical-spec 6.5)",
          arguments: [
            ("doxycycline", "100 mg twice daily PO"),
            ("sulfamethoxazole-trimethoprim", "1-2 double-strength tablets (160/800 mg) twice daily PO"),
          ])
    func purulentModerateDoses(drug: String, dose: String) throws {
        let t = try Self.triage(vitals: Self.oneSign, lesions: [F.purulentLesion])
        let option = try #require(t.empiricOptions.first { $0.agent.drug == drug })
        #expect(option.agent.dose == dose)
        #expect(option.agent.doseTag == .verified)
        #expect(option.weightBasedDose == nil)
    }

    @Test("Weight-based doses use weightKg: vancomycin 15 mg/kg every 12 h (IDSA 2014 Table 2 via clinical-spec 6.5)")
    func weightBasedDoses() throws {
        let t = try Self.triage(vitals: Self.twoSigns, lesions: [F.purulentLesion],
                                patient: #"{"sex": "female", "birthDate": "1970-01-01", "weightKg": 58}"#)
        let dose = { (drug: String) in t.empiricOptions.first { $0.agent.drug == drug } }
        let vanco = try #require(dose("vancomycin"))
        #expect(vanco.agent.dose == "30 mg/kg/day IV in 2 divided doses")
        let text = try #require(vanco.weightBasedDose)
        #expect(text.hasPrefix("870 mg every 12 h"))
        #expect(text.contains("30 mg/kg/day"))
        #expect(text.contains("58 kg"))
        // 4 mg/kg and 10 mg/kg every 24 h.
        #expect(dose("daptomycin")?.weightBasedDose?.hasPrefix("232 mg every 24 h") == true)
        #expect(dose("telavancin")?.weightBasedDose?.hasPrefix("580 mg every 24 h") == true)
        // Fixed doses have no weight-based text.
        #expect(dose("linezolid")?.weightBasedDose == nil)
        #expect(dose("ceftaroline")?.weightBasedDose == nil)
    }

    @Test("Without weightKg no weight-based dose is computed (clinical-spec 0.3 rule 3)")
    func noWeightNoDose() throws {
        let t = try Self.triage(vitals: Self.twoSigns, lesions: [F.purulentLesion])
        #expect(t.empiricOptions.count == 5)
        #expect(t.empiricOptions.allSatisfy { $0.weightBasedDose == nil })
        #expect(t.empiricOptions.first?.agent.dose == "30 mg/kg/day IV in 2 divided doses")
    }

    @Test("Duration 5 days, extend if not improved (IDSA 2014 via clinical-spec 6.6)",
          arguments: [(F.purulentLesion, [String]()), (F.purulentLesion, twoSigns), (F.cellulitisLesion, oneSign)])
    func duration(lesion: String, vitals: [String]) throws {
        let t = try Self.triage(vitals: vitals, lesions: [lesion])
        #expect(t.durationDays == 5)
        #expect(t.basis.contains("extend if the infection has not improved"))
    }

    @Test("Purulent mild says I&D alone in the basis (IDSA 2014 Fig 1 via clinical-spec 6.4)")
    func purulentMildBasis() throws {
        let t = try Self.triage(lesions: [F.purulentLesion])
        #expect(t.basis.contains("incision and drainage alone"))
        #expect(t.empiricOptions.isEmpty)
    }

    // MARK: immunosuppression

    struct ImmunoRow: Sendable, CustomTestStringConvertible {
        let name: String
        let meds: [String]
        var infection: String? = nil
        let immunocompromised: Bool
        let drugs: [String]
        let source: String
        var testDescription: String { "\(name) → \(immunocompromised)" }
    }

    static let immunoRows: [ImmunoRow] = [
        ImmunoRow(name: "mycophenolate active", meds: [F.med("mycophenolate", dose: 500, freq: "daily")], immunocompromised: true,
                  drugs: ["mycophenolate"], source: "case-format.md project decision: mycophenolate"),
        ImmunoRow(name: "mycophenolate stopped before asOf", meds: [F.med("mycophenolate", dose: 500, freq: "daily", stop: F.day(-3))],
                  immunocompromised: false, drugs: [], source: "case-format.md: active when stop > d"),
        ImmunoRow(name: "mycophenolate stopped on asOf", meds: [F.med("mycophenolate", dose: 500, freq: "daily", stop: F.day(0))],
                  immunocompromised: false, drugs: [], source: "case-format.md: active when stop > d"),
        ImmunoRow(name: "mycophenolate starting after asOf", meds: [F.med("mycophenolate", dose: 500, freq: "daily", start: F.day(1))],
                  immunocompromised: false, drugs: [], source: "case-format.md: active when start ≤ d"),
        ImmunoRow(name: "azathioprine", meds: [F.med("azathioprine", dose: 100, freq: "daily")], immunocompromised: true, drugs: ["azathioprine"],
                  source: "case-format.md project decision"),
        ImmunoRow(name: "methotrexate", meds: [F.med("methotrexate", dose: 15, freq: "weekly")], immunocompromised: true, drugs: ["methotrexate"],
                  source: "case-format.md project decision"),
        ImmunoRow(name: "cyclophosphamide", meds: [F.med("cyclophosphamide", dose: 750, freq: "monthly", route: "intravenous")],
                  immunocompromised: true, drugs: ["cyclophosphamide"], source: "case-format.md project decision"),
        ImmunoRow(name: "tacrolimus", meds: [F.med("tacrolimus", dose: 2, freq: "bid")], immunocompromised: true, drugs: ["tacrolimus"],
                  source: "case-format.md project decision"),
        ImmunoRow(name: "cyclosporine", meds: [F.med("cyclosporine", dose: 100, freq: "bid")], immunocompromised: true, drugs: ["cyclosporine"],
                  source: "case-format.md project decision"),
        ImmunoRow(name: "prednisone 20 mg/day", meds: [F.med("prednisone", dose: 20, freq: "daily")], immunocompromised: true, drugs: ["prednisone"],
                  source: "case-format.md project decision: prednisone ≥ 20 mg/day"),
        ImmunoRow(name: "prednisone 10 mg bid (20 mg/day)", meds: [F.med("prednisone", dose: 10, freq: "bid")], immunocompromised: true,
                  drugs: ["prednisone"], source: "case-format.md project decision: prednisone ≥ 20 mg/day"),
        ImmunoRow(name: "prednisone 15 mg/day", meds: [F.med("prednisone", dose: 15, freq: "daily")], immunocompromised: false, drugs: [],
                  source: "case-format.md project decision: prednisone ≥ 20 mg/day"),
        ImmunoRow(name: "prednisone 19.9 mg/day", meds: [F.med("prednisone", dose: 19.9, freq: "daily")], immunocompromised: false, drugs: [],
                  source: "case-format.md project decision: prednisone ≥ 20 mg/day"),
        ImmunoRow(name: "rituximab 300 days ago", meds: [F.med("rituximab", dose: 1000, freq: "once", route: "intravenous", start: F.day(-300), stop: F.day(-299))],
                  immunocompromised: true, drugs: ["rituximab"], source: "case-format.md project decision: rituximab in the last 12 months"),
        ImmunoRow(name: "rituximab 365 days ago", meds: [F.med("rituximab", dose: 1000, freq: "once", route: "intravenous", start: F.day(-365), stop: F.day(-364))],
                  immunocompromised: true, drugs: ["rituximab"], source: "case-format.md project decision: last 12 months (365 days, thresholds)"),
        ImmunoRow(name: "rituximab 400 days ago", meds: [F.med("rituximab", dose: 1000, freq: "once", route: "intravenous", start: F.day(-400), stop: F.day(-399))],
                  immunocompromised: false, drugs: [], source: "case-format.md project decision: rituximab in the last 12 months"),
        ImmunoRow(name: "rituximab course from 400 to 200 days ago", meds: [F.med("rituximab", dose: 1000, freq: "every-2-weeks", route: "intravenous", start: F.day(-400), stop: F.day(-200))],
                  immunocompromised: true, drugs: ["rituximab"], source: "case-format.md project decision: given within the last 12 months"),
        // A rituximab record without a stop date is active (case-format.md active rule), so it counts however old its start.
        ImmunoRow(name: "rituximab started 400 days ago, no stop", meds: [F.med("rituximab", dose: 1000, freq: "every-2-weeks", route: "intravenous", start: F.day(-400))],
                  immunocompromised: true, drugs: ["rituximab"], source: "case-format.md: stop null = active; rituximab in the last 12 months"),
        ImmunoRow(name: "hydroxychloroquine (not an immunosuppressant in the list)", meds: [F.med("hydroxychloroquine", dose: 200, freq: "bid")],
                  immunocompromised: false, drugs: [], source: "case-format.md project decision: list of immunosuppressants"),
        ImmunoRow(name: "clinician false overrides mycophenolate", meds: [F.med("mycophenolate", dose: 500, freq: "daily")],
                  infection: #""immunocompromised": false"#, immunocompromised: false, drugs: [], source: "case-format.md: the clinician's value if given"),
        ImmunoRow(name: "clinician true without drugs", meds: [], infection: #""immunocompromised": true"#, immunocompromised: true, drugs: [],
                  source: "case-format.md: the clinician's value if given"),
    ]

    @Test("Immunocompromised derivation and clinician override", arguments: immunoRows)
    func immunosuppression(_ row: ImmunoRow) throws {
        // A purulent lesion without systemic signs is mild unless the patient is immunocompromised.
        let t = try Self.triage(meds: row.meds, lesions: [F.purulentLesion], infection: row.infection)
        #expect(t.immunosuppression.immunocompromised == row.immunocompromised)
        #expect(t.immunosuppression.drugs == row.drugs)
        #expect(t.immunosuppression.clinicianSet == (row.infection != nil))
        #expect(t.severity == (row.immunocompromised ? .severe : .mild))
        for drug in row.drugs { #expect(t.immunosuppression.basis.contains(drug)) }
        let json = try TestCases.assessJSON(F.caseJSON(meds: row.meds, lesions: [F.purulentLesion], infection: row.infection))
        #expect(json["infection"]?["immunocompromised"] == .bool(row.immunocompromised))
    }

    @Test("Immunosuppression names drug and dose in the basis; prednisone without a daily dose is flagged (clinical-spec 6.4 NF)")
    func immunosuppressionBasis() throws {
        let myco = try Self.triage(meds: [F.med("mycophenolate", dose: 500, freq: "daily")], lesions: [F.purulentLesion])
        #expect(myco.immunosuppression.basis.contains("mycophenolate 500 mg daily"))
        #expect(myco.severityReasons == ["immunocompromised (mycophenolate)"])
        let pred = try Self.triage(meds: [F.med("prednisone", dose: 20, freq: "once")], lesions: [F.purulentLesion])
        #expect(pred.immunosuppression.immunocompromised == false)
        #expect(pred.immunosuppression.basis.contains("daily dose is not given"))
    }
}
