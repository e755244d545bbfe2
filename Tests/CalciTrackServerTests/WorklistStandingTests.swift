@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import SQLKit
import Testing
import VaporTesting

/// The stored worklist standing (migration 012): follow-up status and urgency tier, brought to
/// today before every worklist read, and folded name keys for search.
@Suite(.serialized) struct WorklistStandingTests {
    static func inputs(last: String? = "2026-01-10", due: String? = nil, unhealed: Bool = true, infection: Bool = false,
                       severity: String? = nil, onset: String? = nil, sepsis: Bool = false, high: Bool = false,
                       worsening: Bool = false) -> WorklistStanding.Inputs {
        .init(lastContact: last, nextDue: due, hasUnhealedLesion: unhealed, activeInfection: infection, infectionSeverity: severity,
              onsetSeverity: onset, sepsisScreenPositive: sepsis, highAlert: high, worseningLesion: worsening)
    }

    @Test("Follow-up status and the day it next changes follow case-format.md's rule: due from nextDue + 1, overdue after 30 days past it, lost after 365 days without a visit while a lesion is unhealed")
    func statusAndNextChange() {
        let p = Self.inputs(last: "2026-01-10", due: "2026-03-01")
        let day = { (text: String) in LocalDate(iso: text)! }
        // case-format.md follow-up: "due (past it by 1-30 days)", "overdue (by more than 30 days)",
        // "lost (no visit for more than 365 days while any lesion is unhealed)".
        let expected: [(String, String, String?)] = [
            ("2026-02-01", "ok", "2026-03-02"),
            ("2026-03-01", "ok", "2026-03-02"),
            ("2026-03-02", "due", "2026-04-01"),
            ("2026-03-31", "due", "2026-04-01"),
            ("2026-04-01", "overdue", "2027-01-11"),
            ("2027-01-10", "overdue", "2027-01-11"),
            ("2027-01-11", "lost", nil),
        ]
        for (today, status, until) in expected {
            let standing = WorklistStanding.of(p, on: day(today))
            #expect(standing.followUpStatus == status, "\(today)")
            #expect(standing.until?.description == until, "\(today)")
            // Independent check: the status is the same on every day up to `until`.
            if let until = standing.until {
                #expect(WorklistStanding.of(p, on: until.adding(days: -1)).followUpStatus == status)
                #expect(WorklistStanding.of(p, on: until).followUpStatus != status)
            }
        }
        // Healed lesions: never lost, so overdue for good.
        #expect(WorklistStanding.of(Self.inputs(last: "2026-01-10", due: "2026-03-01", unhealed: false), on: day("2028-01-01")).followUpStatus == "overdue")
        #expect(WorklistStanding.of(Self.inputs(last: "2026-01-10", due: "2026-03-01", unhealed: false), on: day("2028-01-01")).until == nil)
        #expect(WorklistStanding.of(Self.inputs(last: nil, due: nil), on: day("2026-01-01")) ==
                WorklistStanding(followUpStatus: "no-visits", tier: 9, day: day("2026-01-01"), until: nil))
    }

    @Test("Tiers: severe infection, then sepsis screen, moderate then other infection, high alert, worsening lesion, then lost, overdue, due, the rest")
    func tiers() {
        let cases: [(WorklistStanding.Inputs, String, Int)] = [
            (Self.inputs(infection: true, severity: "severe", sepsis: true), "ok", 0),
            (Self.inputs(infection: true, onset: "severe"), "ok", 0),  // triage at onset of an open episode
            (Self.inputs(infection: true, severity: "moderate", sepsis: true), "ok", 1),
            (Self.inputs(sepsis: true), "lost", 1),
            (Self.inputs(infection: true, severity: "moderate"), "ok", 2),
            (Self.inputs(infection: true, severity: "mild"), "ok", 3),
            (Self.inputs(infection: true), "ok", 3),
            (Self.inputs(high: true, worsening: true), "lost", 4),
            (Self.inputs(worsening: true), "overdue", 5),
            (Self.inputs(), "lost", 6), (Self.inputs(), "overdue", 7), (Self.inputs(), "due", 8),
            (Self.inputs(), "ok", 9), (Self.inputs(), "no-visits", 9),
        ]
        for (p, status, tier) in cases {
            #expect(WorklistStanding.tier(p, followUpStatus: status) == tier, "\(p) \(status)")
        }
    }

    @Test("The stored standing moves with the calendar: the worklist API and page refresh it before reading, without a write")
    func refreshedWithTheCalendar() async throws {
        try await TestRegistry.run { r in
            let id = try await r.createPatient(mrn: "CAL-1")
            let lesion = try await r.send(.POST, "/api/v1/patients/\(id)/lesions", as: "clinA", json: #"{"label": "tibia", "site": "lower-leg", "laterality": "right"}"#)
            _ = try await r.send(.POST, "/api/v1/lesions/\(lesion.id)/measurements", as: "clinA", json: #"{"date": "2026-11-20", "lengthCm": 2, "widthCm": 1}"#)
            let visit = try await r.send(.POST, "/api/v1/patients/\(id)/visits", as: "clinA", json: #"{"date": "2026-11-20", "kind": "clinic", "nextDue": "2026-12-10"}"#)
            #expect(visit.status == .created, "\(visit.text)")
            func status(on day: String) async throws -> String? {
                r.app.registryClock = FixedClock(date: Date(timeIntervalSince1970: Double(LocalDate(iso: day)!.daysSinceEpoch) * 86_400 + 3600))
                let reply = try await r.send(.GET, "/api/v1/patients?q=CAL-1", as: "clinA")
                let live = reply["items"].flatMap { if case .array(let items) = $0 { items.first?["summary"]?["followUpStatus"]?.stringValue } else { nil } }
                // The list request brought the stored status to the day; it agrees with the rule.
                let stored = try await Patient.find(UUID(uuidString: id)!, on: r.app.db)?.followUpStatus
                #expect(stored == live, "\(day)")
                return stored
            }
            func listed(_ followUp: String) async throws -> Bool {
                try await r.send(.GET, "/api/v1/patients?followUp=\(followUp)", as: "clinA").text.contains("CAL-1")
            }
            #expect(try await status(on: "2026-11-24") == "ok")
            #expect(try await listed("ok"))
            #expect(try await !listed("due"))
            #expect(try await status(on: "2026-12-11") == "due")
            #expect(try await listed("due"))
            #expect(try await !listed("ok"))
            #expect(try await listed("needs-attention"))
            #expect(try await status(on: "2027-01-10") == "overdue")
            #expect(try await listed("overdue"))
            #expect(try await !listed("due"))
            #expect(try await status(on: "2027-11-21") == "lost")
            #expect(try await listed("lost"))
            #expect(try await !listed("overdue"))
            // The web worklist puts the patient in the lost tier of "needs attention".
            let stored = try #require(try await Patient.find(UUID(uuidString: id)!, on: r.app.db))
            #expect(stored.followUpStatus == "lost" && stored.worklistTier == 6 && stored.standingDay == "2027-11-21" && stored.standingUntil == nil)
            // Back in time (a clock set back): computed again for the earlier day.
            #expect(try await status(on: "2026-11-24") == "ok")
            #expect(try await listed("ok"))
        }
    }

    @Test("Search folds case and accents on names (Müller = muller = MÜL), matches MRNs exactly, and treats % and _ as plain characters")
    func foldedNameSearch() async throws {
        try await TestRegistry.run { r in
            _ = try await r.createPatient(mrn: "M-1", extra: "")
            let id = try await r.createPatient(mrn: "M-2")
            let etag = try await r.send(.GET, "/api/v1/patients/\(id)", as: "clinA").etag
            let updated = try await r.send(.PUT, "/api/v1/patients/\(id)", as: "clinA", json: """
                {"siteId": "\(r.siteA.uuidString)", "mrn": "M-2", "familyName": "Müller", "givenName": "Éva", "sex": "female", "birthDate": "1970-05-20"}
                """, headers: ["If-Match": etag])
            #expect(updated.status == .ok, "\(updated.text)")
            func mrns(_ q: String) async throws -> [String] {
                let reply = try await r.send(.GET, "/api/v1/patients?q=\(q.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", as: "clinA")
                guard case .array(let items)? = reply["items"] else { Issue.record("\(reply.text)"); return [] }
                return items.compactMap { $0["mrn"]?.stringValue }
            }
            for q in ["Müller", "muller", "MÜL", "mu", "eva", "Év"] { #expect(try await mrns(q) == ["M-2"], "\(q)") }
            #expect(try await mrns("doe") == ["M-1"])
            #expect(try await mrns("M-1") == ["M-1"])
            for q in ["%", "_", "M-"] { #expect(try await mrns(q).isEmpty, "\(q)") }
            // FHIR family search: starts with, case- and accent-insensitive.
            let bundle = try await r.send(.GET, "/fhir/Patient?family=MULL", as: "clinA")
            #expect(bundle.status == .ok && bundle.text.contains("M-2") && !bundle.text.contains("M-1"), "\(bundle.text)")
        }
    }

    @Test("Worklist pages, web and stored standing agree with the standing computed from each patient's summary: tier, then name; every page a slice of one order")
    func worklistOrderMatchesStanding() async throws {
        try await TestRegistry.run { r in
            _ = try await SyntheticRegistry.generate(on: r.app.db, options: .init(patients: 120, seed: 7, today: TestRegistry.today, batchSize: 32))
            // Into clinA's site; the derived columns do not depend on the site.
            try await (r.app.db as! any SQLDatabase).raw("UPDATE patients SET site_id = \(bind: r.siteA)").run()
            let patients = try await Patient.query(on: r.app.db).all()
            #expect(patients.count == 120)
            // Independent of the stored columns: recompute each patient's standing from its summary.
            let expected = patients.map { p in
                (p, WorklistStanding.of(.init(lastContact: p.lastContact, nextDue: p.nextDue, hasUnhealedLesion: p.hasUnhealedLesion,
                                              activeInfection: p.activeInfection, infectionSeverity: p.infectionSeverity,
                                              onsetSeverity: p.onsetSeverity, sepsisScreenPositive: p.sepsisScreenPositive,
                                              highAlert: p.highAlert, worseningLesion: p.worseningLesion), on: TestRegistry.today))
            }
            for (p, standing) in expected {
                #expect(p.worklistTier == standing.tier && p.followUpStatus == standing.followUpStatus, "\(p.mrn)")
                #expect(p.familyKey == NameSearchKey.fold(p.familyName), "\(p.mrn)")
            }
            let attention = expected.filter { $0.1.tier <= WorklistStanding.lastAttentionTier }
                .sorted { ($0.1.tier, $0.0.familyName, $0.0.givenName, $0.0.id!.uuidString) < ($1.1.tier, $1.0.familyName, $1.0.givenName, $1.0.id!.uuidString) }
            #expect(Set(attention.map(\.1.tier)).count >= 4, "the generated cohort spans several tiers")
            var browser = WebUITests.Browser(app: r.app)
            _ = try await browser.signIn("clinA")
            var shown: [String] = []
            for page in 1... {
                let html = try await browser.get("/?status=attention&page=\(page)").html
                let ids = html.matches(of: /href="\/patients\/([0-9a-f-]{36})"/).map { String($0.1) }
                if ids.isEmpty { break }
                shown += ids
            }
            #expect(shown == attention.map { $0.0.id!.uuidString.lowercased() })
            let total = try await r.send(.GET, "/api/v1/patients?followUp=needs-attention&limit=1", as: "clinA")["total"]
            #expect(total == .number(Double(expected.filter { ["lost", "overdue", "due"].contains($0.1.followUpStatus) }.count)))
        }
    }

    @Test("Worklist search (WorklistSearch's UNION) finds exactly the patients whose folded family or given name starts with the text, or whose MRN is it, in worklist order, on every page; another site's patients never")
    func worklistSearchMatchesRule() async throws {
        try await TestRegistry.run { r in
            _ = try await SyntheticRegistry.generate(on: r.app.db, options: .init(patients: 150, seed: 11, today: TestRegistry.today, batchSize: 50))
            let sql = r.app.db as! any SQLDatabase
            // Two thirds into clinA's site A, the rest into site B (not clinA's).
            try await sql.raw("UPDATE patients SET site_id = \(bind: r.siteA)").run()
            let all = try await Patient.query(on: r.app.db).sort(\.$id).all()
            for p in all.enumerated() where p.offset % 3 == 0 {
                try await sql.raw("UPDATE patients SET site_id = \(bind: r.siteB) WHERE id = \(bind: p.element.id!)").run()
            }
            let patients = try await Patient.query(on: r.app.db).filter(\.$site.$id == r.siteA).all()
            var browser = WebUITests.Browser(app: r.app)
            _ = try await browser.signIn("clinA")
            let sample = patients.prefix(3)
            let texts = sample.map { String($0.familyName.prefix(1)) } + sample.map { String($0.givenName.prefix(2)).uppercased() } + [sample.first!.mrn]
            for text in texts {
                let key = NameSearchKey.fold(text)
                let expected = patients.filter { $0.familyKey.hasPrefix(key) || $0.givenKey.hasPrefix(key) || $0.mrn == text }
                    .sorted { ($0.worklistTier, $0.familyName, $0.givenName, $0.id!.uuidString) < ($1.worklistTier, $1.familyName, $1.givenName, $1.id!.uuidString) }
                    .map { $0.id!.uuidString.lowercased() }
                var shown: [String] = []
                for page in 1... {
                    let html = try await browser.get("/?q=\(text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&page=\(page)").html
                    let ids = html.matches(of: /href="\/patients\/([0-9a-f-]{36})"/).map { String($0.1) }
                    if page == 1 { #expect(html.firstMatch(of: /(\d+) patients? —/).map { Int($0.1) } == expected.count, "\(text): the count") }
                    if ids.isEmpty { break }
                    shown += ids
                }
                #expect(!expected.isEmpty, "\(text)")
                #expect(shown == expected, "\(text)")
            }
        }
    }

    @Test("Patients created through FHIR (one create, and a transaction Bundle's bulk insert) are found by the folded name search and carry today's standing")
    func fhirCreatedPatientsAreSearchable() async throws {
        try await TestRegistry.run { r in
            let writer = FHIRWriteTests()
            let created = try await writer.fhir(r, .POST, "/fhir/Patient", as: "clinA", body: FHIRWriteTests.patient("FH-1", family: "Ölberg", given: "Åsa"))
            #expect(created.status == .created, "\(created.text)")
            let bundle = """
                {"resourceType": "Bundle", "type": "transaction", "entry": [
                  {"fullUrl": "urn:uuid:7f1c2a52-0d3e-4d59-9a55-0b6c1f6f2c01", "resource": \(FHIRWriteTests.patient("FH-2", family: "Østergaard", given: "Mette")),
                   "request": {"method": "POST", "url": "Patient"}}]}
                """
            let reply = try await writer.fhir(r, .POST, "/fhir", as: "clinA", body: bundle)
            #expect(reply.status == .ok, "\(reply.text)")
            for (q, mrn) in [("olb", "FH-1"), ("ASA", "FH-1"), ("Øster", "FH-2"), ("mette", "FH-2")] {
                let found = try await r.send(.GET, "/api/v1/patients?q=\(q.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", as: "clinA")
                #expect(found.text.contains(mrn), "\(q): \(found.text)")
            }
            for p in try await Patient.query(on: r.app.db).all() {
                #expect(p.standingDay == TestRegistry.today.description && p.followUpStatus == "no-visits", "\(p.mrn)")
            }
        }
    }

    @Test("Migration 012 fills the standing and name keys of patients stored before it with what the write path stores")
    func migrationBackfills() async throws {
        try await TestRegistry.run(demo: true) { r in
            let id = try await r.createPatient(mrn: "ÅSE-1")
            _ = try await r.send(.POST, "/api/v1/patients/\(id)/visits", as: "clinA", json: #"{"date": "2026-09-01", "kind": "clinic", "nextDue": "2026-10-01"}"#)
            func snapshot() async throws -> [String: String] {
                Dictionary(uniqueKeysWithValues: try await Patient.query(on: r.app.db).withDeleted().all().map {
                    ($0.id!.uuidString, "\($0.followUpStatus) \($0.worklistTier) \($0.standingUntil ?? "-") \($0.familyKey) \($0.givenKey)")
                })
            }
            let written = try await snapshot()
            #expect(written.count >= 3 && written.values.contains { $0.hasPrefix("overdue 7 ") })
            // On one connection: SQLite parses ADD COLUMN against the schema the connection last
            // loaded, so a pooled connection that did not see the revert reports a duplicate column.
            try await r.app.db.withConnection { db in
                try await WorklistStandingAndNameKeys().revert(on: db)
                try await WorklistStandingAndNameKeys().prepare(on: db)
            }
            // The migration computes as of the real today, the writes as of TestRegistry.today:
            // compare as of the same day.
            try await WorklistStanding.refresh(on: r.app.db, today: TestRegistry.today)
            #expect(try await snapshot() == written)
        }
    }
}
