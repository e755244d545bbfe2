@testable import CalciTrackCore
import Foundation
import Testing

/// Interaction and safety alerts: DDI-01..DDI-19 and HOLD-01/02 of clinical-spec 8, plus the
/// SEPSIS-QSOFA, DOSE-FREQUENCY and LABS-MISSING alerts of case-format.md.
@Suite("Interaction and safety alerts")
struct InteractionsTests {
    typealias F = TriageFixtures

    /// Calcium, phosphate and eGFR present so that LABS-MISSING stays out of the way.
    static let fullLabs = [F.lab("calcium", 9.2, "mg/dL"), F.lab("phosphate", 3.5, "mg/dL"), F.lab("egfr", 90, "mL/min/1.73m2")]
    static func egfr(_ value: Double) -> [String] {
        [F.lab("calcium", 9.2, "mg/dL"), F.lab("phosphate", 3.5, "mg/dL"), F.lab("egfr", value, "mL/min/1.73m2")]
    }
    static let warfarin = F.med("warfarin", dose: 2.5, freq: "daily", start: "2020-01-01")
    static let colchicine = F.med("colchicine", dose: 0.6, freq: "daily")
    static let doxycycline = F.med("doxycycline", dose: 100, freq: "q12h", start: F.day(0))
    static let smxTmp = F.med("sulfamethoxazole-trimethoprim", dose: 800, freq: "bid", start: F.day(-1))
    static let mycophenolate = F.med("mycophenolate", dose: 500, freq: "daily", start: "2020-01-01")

    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        let id: String
        let text: String
        /// nil: the alert must be absent.
        let level: Alert.Level?
        var drugs: [String] = []
        let source: String
        var testDescription: String { "\(id) \(level == nil ? "absent" : "fires"): \(name)" }
    }

    static func row(_ id: String, _ name: String, meds: [String], labs: [String] = fullLabs, vitals: [String] = [], lesions: [String] = [],
                    infection: String? = nil, history: String? = nil, workup: String? = nil, patient: String? = nil,
                    fires level: Alert.Level?, drugs: [String] = [], source: String) -> Row {
        Row(name: name, id: id,
            text: F.caseJSON(patient: patient, vitals: vitals, labs: labs, meds: meds, lesions: lesions,
                             infection: infection, history: history, workup: workup),
            level: level, drugs: drugs, source: source)
    }

    static let spec8 = "clinical-spec 8"

    static let rows: [Row] = [
        // DDI-01 warfarin + TMP-SMX (high)
        row("DDI-01", "warfarin + TMP-SMX", meds: [warfarin, smxTmp], fires: .high, drugs: ["warfarin", "sulfamethoxazole-trimethoprim"], source: "\(spec8) DDI-01"),
        row("DDI-01", "warfarin + co-trimoxazole alias", meds: [warfarin, F.med("co-trimoxazole", dose: 800, freq: "bid")], fires: .high,
            drugs: ["warfarin", "sulfamethoxazole-trimethoprim"], source: "\(spec8) DDI-01; case-format.md drug names"),
        row("DDI-01", "warfarin + doxycycline", meds: [warfarin, doxycycline], fires: nil, source: "\(spec8) DDI-01"),
        row("DDI-01", "TMP-SMX without warfarin", meds: [smxTmp], fires: nil, source: "\(spec8) DDI-01"),
        row("DDI-01", "warfarin stopped before TMP-SMX", meds: [F.med("warfarin", dose: 2.5, freq: "daily", start: "2020-01-01", stop: F.day(-10)), smxTmp],
            fires: nil, source: "\(spec8) DDI-01 'warfarin active'; case-format.md active rule"),
        // DDI-02 warfarin + tetracycline (moderate-high → high)
        row("DDI-02", "warfarin + doxycycline", meds: [warfarin, doxycycline], fires: .high, drugs: ["warfarin", "doxycycline"], source: "\(spec8) DDI-02"),
        row("DDI-02", "warfarin + minocycline", meds: [warfarin, F.med("minocycline", dose: 100, freq: "bid")], fires: .high,
            drugs: ["warfarin", "minocycline"], source: "\(spec8) DDI-02"),
        row("DDI-02", "warfarin + cephalexin", meds: [warfarin, F.med("cephalexin", dose: 500, freq: "qid")], fires: nil, source: "\(spec8) DDI-02"),
        // DDI-03 warfarin + any systemic antibiotic (moderate)
        row("DDI-03", "warfarin + cephalexin", meds: [warfarin, F.med("cephalexin", dose: 500, freq: "qid")], fires: .moderate,
            drugs: ["warfarin", "cephalexin"], source: "\(spec8) DDI-03"),
        row("DDI-03", "warfarin + topical clindamycin", meds: [warfarin, F.med("clindamycin", freq: "bid", route: "topical")], fires: nil,
            source: "\(spec8) DDI-03 'systemic antibiotic'"),
        row("DDI-03", "warfarin + diltiazem (not an antibiotic)", meds: [warfarin, F.med("diltiazem", dose: 60, freq: "tid")], fires: nil, source: "\(spec8) DDI-03"),
        // DDI-04 warfarin + dialysis or eGFR < 15 (high)
        row("DDI-04", "warfarin + dialysis", meds: [warfarin], history: #""dialysis": true"#, fires: .high, drugs: ["warfarin"], source: "\(spec8) DDI-04"),
        row("DDI-04", "warfarin + eGFR 14", meds: [warfarin], labs: egfr(14), fires: .high, drugs: ["warfarin"], source: "\(spec8) DDI-04 'eGFR < 15'"),
        row("DDI-04", "warfarin + eGFR 15", meds: [warfarin], labs: egfr(15), history: #""dialysis": false"#, fires: nil, source: "\(spec8) DDI-04 'eGFR < 15'"),
        row("DDI-04", "dialysis without warfarin", meds: [], history: #""dialysis": true"#, fires: nil, source: "\(spec8) DDI-04"),
        // DDI-05 colchicine + strong CYP3A4/P-gp inhibitor (high)
        row("DDI-05", "colchicine + clarithromycin", meds: [colchicine, F.med("clarithromycin", dose: 500, freq: "bid")], fires: .high,
            drugs: ["colchicine", "clarithromycin"], source: "\(spec8) DDI-05"),
        row("DDI-05", "colchicine + cyclosporine", meds: [colchicine, F.med("cyclosporine", dose: 100, freq: "bid")], fires: .high,
            drugs: ["colchicine", "cyclosporine"], source: "\(spec8) DDI-05 (cyclosporine named)"),
        row("DDI-05", "colchicine + diltiazem (moderate inhibitor)", meds: [colchicine, F.med("diltiazem", dose: 60, freq: "tid")], fires: nil, source: "\(spec8) DDI-05 vs DDI-06"),
        // DDI-06 colchicine + diltiazem/verapamil (moderate)
        row("DDI-06", "colchicine + diltiazem", meds: [colchicine, F.med("diltiazem", dose: 60, freq: "tid")], fires: .moderate,
            drugs: ["colchicine", "diltiazem"], source: "\(spec8) DDI-06"),
        row("DDI-06", "colchicine + verapamil", meds: [colchicine, F.med("verapamil", dose: 80, freq: "tid")], fires: .moderate,
            drugs: ["colchicine", "verapamil"], source: "\(spec8) DDI-06"),
        row("DDI-06", "colchicine + amlodipine", meds: [colchicine, F.med("amlodipine", dose: 5, freq: "daily")], fires: nil, source: "\(spec8) DDI-06"),
        // DDI-07 colchicine + CrCl < 30 or dialysis (high)
        row("DDI-07", "colchicine + eGFR 29", meds: [colchicine], labs: egfr(29), fires: .high, drugs: ["colchicine"], source: "\(spec8) DDI-07 'CrCl < 30'"),
        row("DDI-07", "colchicine + dialysis", meds: [colchicine], history: #""dialysis": true"#, fires: .high, drugs: ["colchicine"], source: "\(spec8) DDI-07"),
        row("DDI-07", "colchicine + eGFR 30", meds: [colchicine], labs: egfr(30), fires: nil, source: "\(spec8) DDI-07 'CrCl < 30'"),
        // DDI-08 tetracycline + Al/Ca/Mg/Fe (moderate)
        row("DDI-08", "doxycycline + aluminium hydroxide", meds: [doxycycline, F.med("aluminum hydroxide", dose: 600, freq: "tid")], fires: .moderate,
            drugs: ["doxycycline", "aluminum hydroxide"], source: "\(spec8) DDI-08"),
        row("DDI-08", "minocycline + ferrous sulfate", meds: [F.med("minocycline", dose: 100, freq: "bid"), F.med("ferrous sulfate", dose: 325, freq: "daily")],
            fires: .moderate, drugs: ["minocycline", "ferrous sulfate"], source: "\(spec8) DDI-08"),
        row("DDI-08", "doxycycline + omeprazole", meds: [doxycycline, F.med("omeprazole", dose: 20, freq: "daily")], fires: nil, source: "\(spec8) DDI-08"),
        row("DDI-08", "cephalexin + calcium carbonate", meds: [F.med("cephalexin", dose: 500, freq: "qid"), F.med("calcium carbonate", dose: 500, freq: "bid")],
            fires: nil, source: "\(spec8) DDI-08 (tetracyclines only)"),
        // DDI-09 ceftriaxone IV + calcium IV (high)
        row("DDI-09", "ceftriaxone IV + calcium gluconate IV",
            meds: [F.med("ceftriaxone", dose: 1000, freq: "daily", route: "intravenous"), F.med("calcium gluconate", dose: 1000, freq: "once", route: "intravenous")],
            fires: .high, drugs: ["ceftriaxone", "calcium gluconate"], source: "\(spec8) DDI-09"),
        row("DDI-09", "ceftriaxone IV + oral calcium carbonate",
            meds: [F.med("ceftriaxone", dose: 1000, freq: "daily", route: "intravenous"), F.med("calcium carbonate", dose: 500, freq: "bid", route: "oral")],
            fires: nil, source: "\(spec8) DDI-09 'calcium-containing IV solution'"),
        // DDI-10 minocycline > 6 months (info)
        row("DDI-10", "minocycline for 183 days", meds: [F.med("minocycline", dose: 100, freq: "bid", start: F.day(-183))], fires: .info,
            drugs: ["minocycline"], source: "\(spec8) DDI-10 '> 6 months' (182 d, thresholds)"),
        row("DDI-10", "minocycline for 182 days", meds: [F.med("minocycline", dose: 100, freq: "bid", start: F.day(-182))], fires: nil,
            source: "\(spec8) DDI-10 '> 6 months'"),
        // DDI-11 mycophenolate + new serious infection (high)
        row("DDI-11", "mycophenolate + purulent infection with a sign", meds: [mycophenolate], vitals: [F.vitals(t: 38.5)], lesions: [F.purulentLesion],
            fires: .high, drugs: ["mycophenolate"], source: "\(spec8) DDI-11"),
        row("DDI-11", "mycophenolate without infection", meds: [mycophenolate], lesions: [F.quietLesion], fires: nil, source: "\(spec8) DDI-11"),
        row("DDI-11", "mycophenolate + mild infection (clinician: not immunocompromised)", meds: [mycophenolate], lesions: [F.purulentLesion],
            infection: #""immunocompromised": false"#, fires: nil, source: "\(spec8) DDI-11 'serious infection'; case-format.md override"),
        // DDI-12 mycophenolate + planned surgery (moderate)
        row("DDI-12", "mycophenolate + planned surgery", meds: [mycophenolate], workup: #""plannedSurgery": true"#, fires: .moderate,
            drugs: ["mycophenolate"], source: "\(spec8) DDI-12"),
        row("DDI-12", "mycophenolate, no surgery planned", meds: [mycophenolate], workup: #""plannedSurgery": false"#, fires: nil, source: "\(spec8) DDI-12"),
        row("DDI-12", "planned surgery without mycophenolate", meds: [warfarin], workup: #""plannedSurgery": true"#, fires: nil, source: "\(spec8) DDI-12"),
        // DDI-13 IV sodium thiosulfate (info)
        row("DDI-13", "sodium thiosulfate IV", meds: [F.med("sodium thiosulfate", dose: 12500, freq: "weekly", route: "intravenous")], fires: .info,
            drugs: ["sodium thiosulfate"], source: "\(spec8) DDI-13"),
        row("DDI-13", "sodium thiosulfate intralesional", meds: [F.med("sodium thiosulfate", dose: 250, freq: "weekly", route: "intralesional")],
            fires: nil, source: "\(spec8) DDI-13 'IV sodium thiosulfate'"),
        // DDI-14 etidronate (info)
        row("DDI-14", "etidronate", meds: [F.med("etidronate", dose: 400, freq: "daily")], fires: .info, drugs: ["etidronate"], source: "\(spec8) DDI-14"),
        row("DDI-14", "alendronate", meds: [F.med("alendronate", dose: 70, freq: "weekly")], fires: nil, source: "\(spec8) DDI-14 (etidronate)"),
        // DDI-15 Al/Mg antacid + renal insufficiency (moderate)
        row("DDI-15", "aluminium hydroxide + eGFR 59", meds: [F.med("aluminum hydroxide", dose: 600, freq: "tid")], labs: egfr(59), fires: .moderate,
            drugs: ["aluminum hydroxide"], source: "\(spec8) DDI-15; eGFR < 60 (thresholds, project decision)"),
        row("DDI-15", "magnesium hydroxide + dialysis", meds: [F.med("magnesium hydroxide", dose: 400, freq: "daily")], history: #""dialysis": true"#,
            fires: .moderate, drugs: ["magnesium hydroxide"], source: "\(spec8) DDI-15"),
        row("DDI-15", "aluminium hydroxide + eGFR 60", meds: [F.med("aluminum hydroxide", dose: 600, freq: "tid")], labs: egfr(60), fires: nil,
            source: "\(spec8) DDI-15"),
        // DDI-16 linezolid > 2 weeks (moderate)
        row("DDI-16", "linezolid for 15 days", meds: [F.med("linezolid", dose: 600, freq: "bid", start: F.day(-15))], fires: .moderate,
            drugs: ["linezolid"], source: "\(spec8) DDI-16 '> 2 weeks'"),
        row("DDI-16", "linezolid for 14 days", meds: [F.med("linezolid", dose: 600, freq: "bid", start: F.day(-14))], fires: nil,
            source: "\(spec8) DDI-16 '> 2 weeks'"),
        // DDI-17 TMP-SMX + ACEi/ARB or severe renal dysfunction (moderate)
        row("DDI-17", "TMP-SMX + lisinopril", meds: [smxTmp, F.med("lisinopril", dose: 10, freq: "daily")], fires: .moderate,
            drugs: ["sulfamethoxazole-trimethoprim", "lisinopril"], source: "\(spec8) DDI-17"),
        row("DDI-17", "TMP-SMX + losartan", meds: [smxTmp, F.med("losartan", dose: 50, freq: "daily")], fires: .moderate,
            drugs: ["sulfamethoxazole-trimethoprim", "losartan"], source: "\(spec8) DDI-17"),
        row("DDI-17", "TMP-SMX + eGFR 25", meds: [smxTmp], labs: egfr(25), fires: .moderate, drugs: ["sulfamethoxazole-trimethoprim"],
            source: "\(spec8) DDI-17 'severe renal dysfunction' (eGFR < 30)"),
        row("DDI-17", "TMP-SMX + eGFR 45, no ACEi/ARB", meds: [smxTmp], labs: egfr(45), fires: nil, source: "\(spec8) DDI-17"),
        row("DDI-17", "lisinopril without TMP-SMX", meds: [F.med("lisinopril", dose: 10, freq: "daily")], fires: nil, source: "\(spec8) DDI-17"),
        // DDI-18 diltiazem + narrow-index CYP3A4 substrate (moderate)
        row("DDI-18", "diltiazem + tacrolimus", meds: [F.med("diltiazem", dose: 60, freq: "tid"), F.med("tacrolimus", dose: 2, freq: "bid")],
            fires: .moderate, drugs: ["diltiazem", "tacrolimus"], source: "\(spec8) DDI-18"),
        row("DDI-18", "diltiazem + colchicine", meds: [F.med("diltiazem", dose: 60, freq: "tid"), colchicine],
            fires: .moderate, drugs: ["diltiazem", "colchicine"], source: "\(spec8) DDI-18"),
        row("DDI-18", "nifedipine + tacrolimus", meds: [F.med("nifedipine", dose: 30, freq: "daily"), F.med("tacrolimus", dose: 2, freq: "bid")],
            fires: nil, source: "\(spec8) DDI-18 (diltiazem)"),
        // DDI-19 tetracycline in children < 8 or pregnancy (moderate)
        row("DDI-19", "doxycycline in pregnancy", meds: [doxycycline], patient: #"{"sex": "female", "birthDate": "1990-01-01", "pregnant": true}"#,
            fires: .moderate, drugs: ["doxycycline"], source: "\(spec8) DDI-19"),
        row("DDI-19", "doxycycline at 7 years", meds: [doxycycline], patient: #"{"sex": "male", "birthDate": "2016-01-11"}"#,
            fires: .moderate, drugs: ["doxycycline"], source: "\(spec8) DDI-19 'children < 8 years'"),
        row("DDI-19", "doxycycline at 8 years", meds: [doxycycline], patient: #"{"sex": "male", "birthDate": "2016-01-10"}"#,
            fires: nil, source: "\(spec8) DDI-19 'children < 8 years'"),
        row("DDI-19", "doxycycline, adult not pregnant", meds: [doxycycline], patient: #"{"sex": "female", "birthDate": "1990-01-01", "pregnant": false}"#,
            fires: nil, source: "\(spec8) DDI-19"),
        // HOLD-01 immunosuppressant review during SSTI with systemic signs (high)
        row("HOLD-01", "mycophenolate + purulent infection with fever", meds: [mycophenolate], vitals: [F.vitals(t: 38.5)], lesions: [F.purulentLesion],
            fires: .high, drugs: ["mycophenolate"], source: "\(spec8) HOLD-01 (Seed-1)"),
        row("HOLD-01", "mycophenolate + prednisone + infection with tachycardia",
            meds: [mycophenolate, F.med("prednisone", dose: 5, freq: "daily")], vitals: [F.vitals(hr: 110)], lesions: [F.cellulitisLesion],
            fires: .high, drugs: ["mycophenolate", "prednisone"], source: "\(spec8) HOLD-01 '(mycophenolate, others)'"),
        row("HOLD-01", "mycophenolate + infection without a systemic sign", meds: [mycophenolate], lesions: [F.purulentLesion], fires: nil,
            source: "\(spec8) HOLD-01 'with systemic signs'"),
        row("HOLD-01", "systemic signs without infection", meds: [mycophenolate], vitals: [F.vitals(t: 38.5, hr: 110)], lesions: [F.quietLesion], fires: nil,
            source: "\(spec8) HOLD-01 'during an acute SSTI'"),
        row("HOLD-01", "infection with signs, no immunosuppressant", meds: [warfarin], vitals: [F.vitals(t: 38.5)], lesions: [F.purulentLesion], fires: nil,
            source: "\(spec8) HOLD-01"),
        // HOLD-02 INR within 3-5 days of warfarin + doxycycline / TMP-SMX (high)
        row("HOLD-02", "warfarin + doxycycline, no INR", meds: [warfarin, doxycycline], fires: .high, drugs: ["warfarin", "doxycycline"],
            source: "\(spec8) HOLD-02"),
        row("HOLD-02", "warfarin + TMP-SMX, INR before the combination only", meds: [warfarin, smxTmp],
            labs: fullLabs + [F.lab("inr", 2.4, "1", date: F.day(-20))], fires: .high, drugs: ["warfarin", "sulfamethoxazole-trimethoprim"],
            source: "\(spec8) HOLD-02"),
        row("HOLD-02", "warfarin + doxycycline, INR 3 days after the start",
            meds: [warfarin, F.med("doxycycline", dose: 100, freq: "q12h", start: F.day(-5))],
            labs: fullLabs + [F.lab("inr", 2.8, "1", date: F.day(-2))], fires: nil, source: "\(spec8) HOLD-02 'INR within 3-5 days'"),
        row("HOLD-02", "warfarin + cephalexin", meds: [warfarin, F.med("cephalexin", dose: 500, freq: "qid")], fires: nil, source: "\(spec8) HOLD-02"),
        // SEPSIS-QSOFA (high)
        row("SEPSIS-QSOFA", "RR 22 + SBP 100", meds: [], vitals: [F.vitals(rr: 22, sbp: 100)], fires: .high, drugs: [],
            source: "case-format.md alerts: qSOFA ≥ 2 (Seymour 2016 via clinical-spec 6.3)"),
        row("SEPSIS-QSOFA", "RR 22 only", meds: [], vitals: [F.vitals(rr: 22, sbp: 101, mentation: false)], fires: nil,
            source: "case-format.md alerts: qSOFA ≥ 2"),
        // DOSE-FREQUENCY (high)
        row("DOSE-FREQUENCY", "doxycycline weekly", meds: [F.med("doxycycline", dose: 100, freq: "weekly")], fires: .high, drugs: ["doxycycline"],
            source: "case-format.md: doxycycline weekly; clinical-spec 6.7 Seed-1 'every 12 days' typo"),
        row("DOSE-FREQUENCY", "doxycycline q12h", meds: [F.med("doxycycline", dose: 100, freq: "q12h")], fires: nil,
            source: "clinical-spec 6.5 doxycycline 100 mg twice daily"),
        row("DOSE-FREQUENCY", "methotrexate daily", meds: [F.med("methotrexate", dose: 15, freq: "daily")], fires: .high, drugs: ["methotrexate"],
            source: "case-format.md: daily for weekly interval slip"),
        row("DOSE-FREQUENCY", "methotrexate weekly", meds: [F.med("methotrexate", dose: 15, freq: "weekly")], fires: nil,
            source: "case-format.md: usual interval"),
        row("DOSE-FREQUENCY", "doxycycline weekly but stopped", meds: [F.med("doxycycline", dose: 100, freq: "weekly", start: F.day(-30), stop: F.day(-20))],
            fires: nil, source: "case-format.md: rules read active medications"),
        // LABS-MISSING (moderate)
        row("LABS-MISSING", "no labs", meds: [], labs: [], fires: .moderate, drugs: [], source: "case-format.md project decision"),
        row("LABS-MISSING", "phosphate missing", meds: [], labs: [F.lab("calcium", 9.2, "mg/dL"), F.lab("egfr", 90, "mL/min/1.73m2")],
            fires: .moderate, source: "case-format.md project decision"),
        row("LABS-MISSING", "eGFR and creatinine missing", meds: [], labs: [F.lab("calcium", 9.2, "mg/dL"), F.lab("phosphate", 3.5, "mg/dL")],
            fires: .moderate, source: "case-format.md project decision: both egfr and creatinine missing"),
        row("LABS-MISSING", "calcium, phosphate, eGFR", meds: [], fires: nil, source: "case-format.md project decision"),
        row("LABS-MISSING", "calcium, phosphate, creatinine", meds: [],
            labs: [F.lab("calcium", 2.3, "mmol/L"), F.lab("phosphate", 1.1, "mmol/L"), F.lab("creatinine", 80, "umol/L")],
            fires: nil, source: "case-format.md project decision: either egfr or creatinine suffices"),
    ]

    @Test("Each rule: one positive and one negative case at least", arguments: rows)
    func rule(_ row: Row) throws {
        let assessment = try TestCases.assess(row.text)
        let matching = assessment.alerts.filter { $0.id == row.id }
        if let level = row.level {
            #expect(matching.count == 1)
            let alert = try #require(matching.first)
            #expect(alert.level == level)
            #expect(alert.drugs == row.drugs)
            #expect(alert.proposed == false)
            #expect(!alert.message.isEmpty)
            #expect(!alert.sources.isEmpty)
        } else {
            #expect(matching.isEmpty, "unexpected \(row.id): \(matching.map(\.basis))")
        }
    }

    @Test("Every rule id of clinical-spec 8 and case-format.md has a positive case in the table")
    func tableCoversEveryRule() {
        let ids = (1...19).map { String(format: "DDI-%02d", $0) } + ["HOLD-01", "HOLD-02", "SEPSIS-QSOFA", "DOSE-FREQUENCY", "LABS-MISSING"]
        for id in ids {
            #expect(Self.rows.contains { $0.id == id && $0.level != nil }, "no positive case for \(id)")
            #expect(Self.rows.contains { $0.id == id && $0.level == nil }, "no negative case for \(id)")
        }
        #expect(InteractionRules.all.map(\.id) == (1...19).map { String(format: "DDI-%02d", $0) })
    }

    // MARK: proposed empiric antibiotics

    @Test("Warfarin + purulent moderate infection: DDI-01 and DDI-02 fire for the proposed agents (case-format.md project decision)")
    func proposedEmpiricOptions() throws {
        let assessment = try TestCases.assess(F.caseJSON(vitals: [F.vitals(t: 38.5)], labs: Self.fullLabs, meds: [Self.warfarin],
                                                         lesions: [F.purulentLesion]))
        #expect(assessment.infection.severity == .moderate)
        #expect(assessment.infection.purulent)
        #expect(assessment.infection.empiricOptions.map(\.agent.drug) == ["sulfamethoxazole-trimethoprim", "doxycycline"])

        let ddi01 = try F.requireAlert(assessment, "DDI-01")
        #expect(ddi01.level == .high)
        #expect(ddi01.proposed)
        #expect(ddi01.drugs == ["warfarin", "sulfamethoxazole-trimethoprim"])
        let ddi02 = try F.requireAlert(assessment, "DDI-02")
        #expect(ddi02.level == .high)
        #expect(ddi02.proposed)
        #expect(ddi02.drugs == ["warfarin", "doxycycline"])
        let ddi03 = try F.requireAlert(assessment, "DDI-03")
        #expect(ddi03.level == .moderate)
        #expect(ddi03.proposed)
        #expect(ddi03.drugs == ["warfarin", "sulfamethoxazole-trimethoprim", "doxycycline"])
        let hold02 = try F.requireAlert(assessment, "HOLD-02")
        #expect(hold02.proposed)
        #expect(hold02.drugs == ["warfarin", "sulfamethoxazole-trimethoprim", "doxycycline"])

        // The JSON carries the fixed keys with proposed = true.
        let json = AssessmentJSON.encode(assessment)
        guard case .array(let alerts)? = json["alerts"] else { Issue.record("alerts missing"); return }
        let ddi02JSON = try #require(alerts.first { $0["id"] == "DDI-02" })
        #expect(ddi02JSON["level"] == "high")
        #expect(ddi02JSON["proposed"] == true)
        #expect(ddi02JSON["drugs"] == ["warfarin", "doxycycline"])
    }

    @Test("Without warfarin the proposed agents raise no warfarin alert")
    func proposedNeedsActivePartner() throws {
        let assessment = try TestCases.assess(F.caseJSON(vitals: [F.vitals(t: 38.5)], labs: Self.fullLabs, lesions: [F.purulentLesion]))
        for id in ["DDI-01", "DDI-02", "DDI-03", "HOLD-02", "DDI-17"] { #expect(!F.alertIDs(assessment).contains(id)) }
    }

    @Test("An antibiotic both active and proposed is reported as active (proposed = false)")
    func activeAndProposed() throws {
        let assessment = try TestCases.assess(F.caseJSON(vitals: [F.vitals(t: 38.5)], labs: Self.fullLabs,
                                                         meds: [Self.warfarin, Self.doxycycline], lesions: [F.purulentLesion]))
        let ddi02 = try F.requireAlert(assessment, "DDI-02")
        #expect(ddi02.proposed == false)
        #expect(ddi02.drugs == ["warfarin", "doxycycline"])
        // TMP-SMX is only proposed.
        #expect(F.alert(assessment.alerts, "DDI-01")?.proposed == true)
    }

    @Test("Proposed agents also trigger DDI-08, DDI-09, DDI-17 and DDI-19 (case-format.md: any drug in empiricOptions)",
          arguments: [
            // Purulent moderate proposes doxycycline: chelation with an active calcium product.
            ("DDI-08", F.caseJSON(vitals: [F.vitals(t: 38.5)], labs: fullLabs, meds: [F.med("calcium carbonate", dose: 500, freq: "bid")],
                                  lesions: [F.purulentLesion]), Alert.Level.moderate, ["doxycycline", "calcium carbonate"]),
            // Non-purulent moderate proposes IV ceftriaxone: IV calcium gluconate active.
            ("DDI-09", F.caseJSON(vitals: [F.vitals(t: 38.5)], labs: fullLabs,
                                  meds: [F.med("calcium gluconate", dose: 1000, freq: "once", route: "intravenous")], lesions: [F.cellulitisLesion]),
             Alert.Level.high, ["ceftriaxone", "calcium gluconate"]),
            // Purulent moderate proposes TMP-SMX: lisinopril active.
            ("DDI-17", F.caseJSON(vitals: [F.vitals(t: 38.5)], labs: fullLabs, meds: [F.med("lisinopril", dose: 10, freq: "daily")],
                                  lesions: [F.purulentLesion]), Alert.Level.moderate, ["sulfamethoxazole-trimethoprim", "lisinopril"]),
            // Purulent moderate proposes doxycycline in pregnancy.
            ("DDI-19", F.caseJSON(patient: #"{"sex": "female", "birthDate": "1990-01-01", "pregnant": true}"#, vitals: [F.vitals(t: 38.5)],
                                  labs: fullLabs, lesions: [F.purulentLesion]), Alert.Level.moderate, ["doxycycline"]),
          ])
    func proposedOtherRules(id: String, text: String, level: Alert.Level, drugs: [String]) throws {
        let alert = try F.requireAlert(try TestCases.assess(text), id)
        #expect(alert.level == level)
        #expect(alert.proposed)
        #expect(alert.drugs == drugs)
    }

    @Test("Rules about active medications only never fire for a proposed agent (DDI-13, DDI-14, DOSE-FREQUENCY)")
    func proposedNotActive() throws {
        // Purulent severe proposes linezolid: DDI-16 needs an active start date.
        let assessment = try TestCases.assess(F.caseJSON(vitals: [F.vitals(t: 38.5, hr: 100)], labs: Self.fullLabs, lesions: [F.purulentLesion]))
        #expect(assessment.infection.empiricOptions.map(\.agent.drug).contains("linezolid"))
        #expect(!F.alertIDs(assessment).contains("DDI-16"))
        #expect(!F.alertIDs(assessment).contains("DOSE-FREQUENCY"))
    }

    // MARK: Seed-1

    @Test("Seed-1 discharge: warfarin + doxycycline → DDI-02, no HOLD-01, no DOSE-FREQUENCY (clinical-spec 6.7; seed-1-discharge.expected.json)")
    func seed1Discharge() throws {
        let url = TestCases.sharedDirectory.appendingPathComponent("cases/seed-1-discharge.case.json")
        let text = try String(contentsOf: url, encoding: .utf8)
        let assessment = try TestCases.assess(text)
        #expect(assessment.infection.present == false)
        #expect(assessment.infection.severity == .none)
        let ddi02 = try F.requireAlert(assessment, "DDI-02")
        #expect(ddi02.level == .high)
        #expect(ddi02.drugs == ["warfarin", "doxycycline"])
        #expect(ddi02.proposed == false)
        #expect(F.alert(assessment.alerts, "DDI-03")?.drugs == ["warfarin", "doxycycline"])
        #expect(!F.alertIDs(assessment).contains("HOLD-01"))
        #expect(!F.alertIDs(assessment).contains("DOSE-FREQUENCY"))
        // Mycophenolate stopped 2023-09-01: no DDI-11.
        #expect(!F.alertIDs(assessment).contains("DDI-11"))
        // No INR recorded after the combination began on 2023-09-04.
        #expect(F.alert(assessment.alerts, "HOLD-02")?.drugs == ["warfarin", "doxycycline"])
    }

    @Test("Seed-1 discharge as printed ('every 12 days', entered as weekly) fires DOSE-FREQUENCY (clinical-spec 6.7)")
    func seed1DischargeTypo() throws {
        let text = F.caseJSON(asOf: "2023-09-04", labs: [F.lab("wbc", 9.8, "10*9/L", date: "2023-09-04")],
                              meds: [F.med("warfarin", dose: 2.5, freq: "daily", start: "2020-01-01"),
                                     F.med("doxycycline", dose: 100, freq: "weekly", start: "2023-09-04")])
        let assessment = try TestCases.assess(text)
        let alert = try F.requireAlert(assessment, "DOSE-FREQUENCY")
        #expect(alert.drugs == ["doxycycline"])
        #expect(alert.level == .high)
        #expect(F.alertIDs(assessment).contains("DDI-02"))
    }

    @Test("Seed-1 admission: DDI-11 and HOLD-01 for mycophenolate during the infection (clinical-spec 6.7, 8)")
    func seed1Admission() throws {
        let url = TestCases.sharedDirectory.appendingPathComponent("cases/seed-1-admission.case.json")
        let assessment = try TestCases.assess(try String(contentsOf: url, encoding: .utf8))
        #expect(assessment.infection.severity == .severe)
        #expect(assessment.infection.systemicSigns.present == ["temperature", "heartRate", "wbc"])
        #expect(F.alert(assessment.alerts, "DDI-11")?.drugs == ["mycophenolate"])
        #expect(F.alert(assessment.alerts, "HOLD-01")?.drugs == ["mycophenolate"])
        // Purulent severe proposes no tetracycline or TMP-SMX, so no DDI-01/DDI-02, but DDI-03 for the proposed IV agents.
        #expect(!F.alertIDs(assessment).contains("DDI-02"))
        #expect(F.alert(assessment.alerts, "DDI-03")?.proposed == true)
    }

    @Test("Alerts are ordered high, moderate, info (Assessment contract)")
    func ordering() throws {
        let assessment = try TestCases.assess(F.caseJSON(labs: [], meds: [Self.warfarin, F.med("cephalexin", dose: 500, freq: "qid"),
                                                                         F.med("etidronate", dose: 400, freq: "daily")],
                                                         history: #""dialysis": true"#))
        #expect(F.alertIDs(assessment) == ["DDI-04", "DDI-03", "LABS-MISSING", "DDI-14"])
    }
}

extension InteractionsTests {
    @Test("A proposed IV agent counts even when the same drug is recorded without a route (case-format.md: any drug in empiricOptions)")
    func proposedRouteNotHiddenByActiveRecord() throws {
        // Non-purulent moderate cellulitis proposes ceftriaxone IV; a ceftriaxone record without a route
        // must not hide the proposed IV option from DDI-09 (IV calcium gluconate active).
        let text = F.caseJSON(vitals: [F.vitals(t: 38.5)], labs: Self.fullLabs,
                              meds: [F.med("ceftriaxone", dose: 1000, freq: "daily", route: nil, start: F.day(0)),
                                     F.med("calcium gluconate", dose: 1000, freq: "once", route: "intravenous")],
                              lesions: [F.cellulitisLesion])
        let assessment = try TestCases.assess(text)
        #expect(assessment.infection.empiricOptions.contains { $0.agent.drug == "ceftriaxone" && $0.agent.route == .intravenous })
        let alert = try F.requireAlert(assessment, "DDI-09")
        #expect(alert.level == .high)
        #expect(alert.drugs == ["ceftriaxone", "calcium gluconate"])
        #expect(alert.proposed)
    }
}
