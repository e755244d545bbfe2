@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import NIOConcurrencyHelpers
import Testing
import VaporTesting

/// The registry gives the engine the patient's whole history (issue 3 "Why"), the worklist
/// filters, de-identified research access, and web sign-in with CSRF protection.
@Suite(.serialized) struct RegistryFeatureTests {
    static func check(_ assessment: String, expected name: String) throws -> (Int32, String) {
        let file = NSTemporaryDirectory() + "calcitrack-registry-\(UUID().uuidString).json"
        try assessment.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "../shared/tools/check-assessment.py", file, "../shared/cases/\(name).expected.json"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("The demo seed patients' stored histories assess like the seed cases [../shared/cases expectations]",
          arguments: [("SEED-1", "2023-09-04", "seed-1-discharge"), ("SEED-2", "2019-06-01", "seed-2-followup")])
    func demoAssessments(_ mrn: String, _ asOf: String, _ expected: String) async throws {
        try await TestRegistry.run(demo: true) { r in
            // The demo site's patients: give clinA access to DEMO for this test.
            let demo = try await Site.query(on: r.app.db).filter(\.$code == DemoData.siteCode).first()!
            let clinA = try await User.query(on: r.app.db).filter(\.$username == "clinA").first()!
            try await UserSite(userID: clinA.id!, siteID: demo.id!).create(on: r.app.db)
            let list = try await r.send(.GET, "/api/v1/patients?q=\(mrn)", as: "clinA")
            guard case .array(let items)? = list["items"], let id = items.first?["id"]?.stringValue else { Issue.record("no \(mrn): \(list.text)"); return }
            let assessment = try await r.send(.GET, "/api/v1/patients/\(id)/assessment?asOf=\(asOf)", as: "clinA")
            #expect(assessment.status == .ok)
            let (status, output) = try Self.check(assessment.text, expected: expected)
            #expect(status == 0 && output.contains(" 0 failed"), "\(output)")
        }
    }

    @Test("Worklist filters: follow-up lost/overdue, active infection, worsening lesion, body site [case-format follow-up rule]")
    func worklist() async throws {
        try await TestRegistry.run { r in
            // Overdue: visit 2026-09-01 with nextDue 2026-10-01 (54 days past on 2026-11-24, > 30).
            let overdue = try await r.createPatient(mrn: "OVERDUE")
            _ = try await r.send(.POST, "/api/v1/patients/\(overdue)/visits", as: "clinA", json: #"{"date": "2026-09-01", "kind": "clinic", "nextDue": "2026-10-01"}"#)
            // Due: nextDue 2026-11-10 (14 days past: due, not overdue).
            let due = try await r.createPatient(mrn: "DUE")
            _ = try await r.send(.POST, "/api/v1/patients/\(due)/visits", as: "clinA", json: #"{"date": "2026-10-10", "kind": "clinic", "nextDue": "2026-11-10"}"#)
            // Lost: last contact 2025-01-10 (> 365 days) with an unhealed, worsening lesion on the shin.
            let lost = try await r.createPatient(mrn: "LOST")
            let lesion = try await r.send(.POST, "/api/v1/patients/\(lost)/lesions", as: "clinA", json: #"{"label": "shin", "site": "lower-leg", "laterality": "left"}"#)
            _ = try await r.send(.POST, "/api/v1/lesions/\(lesion.id)/measurements", as: "clinA", json: #"{"date": "2024-12-01", "lengthCm": 1, "widthCm": 1}"#)
            _ = try await r.send(.POST, "/api/v1/lesions/\(lesion.id)/measurements", as: "clinA", json: #"{"date": "2025-01-10", "lengthCm": 2, "widthCm": 2}"#)
            // Active infection: an ongoing episode.
            let infected = try await r.createPatient(mrn: "INFECTED")
            _ = try await r.send(.POST, "/api/v1/patients/\(infected)/infection-episodes", as: "clinA", json: #"{"onset": "2026-11-20", "outcome": "ongoing"}"#)
            _ = try await r.createPatient(site: "B", mrn: "OTHER-SITE")

            func mrns(_ query: String, as user: String = "clinA") async throws -> Set<String> {
                let reply = try await r.send(.GET, "/api/v1/patients?\(query)", as: user)
                guard case .array(let items)? = reply["items"] else { Issue.record("\(query): \(reply.text)"); return [] }
                return Set(items.compactMap { $0["mrn"]?.stringValue })
            }
            #expect(try await mrns("followUp=overdue") == ["OVERDUE"])
            #expect(try await mrns("followUp=due") == ["DUE"])
            #expect(try await mrns("followUp=lost") == ["LOST"])
            #expect(try await mrns("followUp=no-visits") == ["INFECTED"])
            #expect(try await mrns("followUp=needs-attention") == ["OVERDUE", "DUE", "LOST"])
            #expect(try await mrns("activeInfection=true") == ["INFECTED"])
            #expect(try await mrns("worsening=true") == ["LOST"])
            #expect(try await mrns("bodySite=lower-leg") == ["LOST"])
            #expect(try await mrns("site=\(r.siteB.uuidString)") == [], "clinA sees no patient of site B")
            #expect(try await mrns("") == ["OVERDUE", "DUE", "LOST", "INFECTED"])
            #expect(try await mrns("", as: "clinB") == ["OTHER-SITE"])
            let bad = try await r.send(.GET, "/api/v1/patients?followUp=later&limit=0", as: "clinA")
            #expect(bad.status == .unprocessableEntity && Set(bad.errorFields) == ["followUp", "limit"])
            // The summary agrees with the engine's own follow-up status on the patient page.
            let page = try await r.send(.GET, "/api/v1/patients/\(overdue)/assessment", as: "clinA")
            #expect(page["followUp"]?["status"] == "overdue")
        }
    }

    @Test("Researchers see no names, MRN or notes, and dates shifted by one per-patient offset")
    func deidentified() async throws {
        try await TestRegistry.run { r in
            let id = try await r.createPatient(mrn: "SECRET-MRN")
            _ = try await r.send(.POST, "/api/v1/patients/\(id)/visits", as: "clinA", json: #"{"date": "2026-09-01", "kind": "clinic", "note": "lives at 1 Main St"}"#)
            let patient = try await r.send(.GET, "/api/v1/patients/\(id)", as: "research")
            #expect(!patient.text.contains("SECRET-MRN") && !patient.text.contains("Doe") && !patient.text.contains("Jane"))
            let shift = try await Patient.find(UUID(uuidString: id)!, on: r.app.db)!.dateShiftDays
            #expect(shift != 0)
            #expect(patient["birthDate"] == .string(LocalDate(iso: "1970-05-20")!.adding(days: shift).description))
            let visits = try await r.send(.GET, "/api/v1/patients/\(id)/visits", as: "research")
            #expect(!visits.text.contains("Main St"))
            #expect(visits.text.contains(LocalDate(iso: "2026-09-01")!.adding(days: shift).description))
            let search = try await r.send(.GET, "/api/v1/patients?q=Doe", as: "research")
            #expect(search.status == .unprocessableEntity)
            let write = try await r.send(.POST, "/api/v1/patients/\(id)/visits", as: "research", json: #"{"date": "2026-09-01"}"#)
            #expect(write.status == .forbidden)
        }
    }

    /// HIPAA Safe Harbor, 45 CFR 164.514(b)(2)(i)(C): ages over 89 are aggregated into "90 or
    /// older". A date shift keeps ages, so a researcher would see a 97-year-old as 97.
    @Test("Researchers see a patient over 89 as 90 or older: birth date top-coded (then shifted) in the API and the case, age 90 in the CSV and worklist")
    func agesOverEightyNine() async throws {
        try await TestRegistry.run { r in
            func create(_ mrn: String, born: String) async throws -> (id: String, shift: Int) {
                let reply = try await r.send(.POST, "/api/v1/patients", as: "clinA", json: """
                    {"siteId": "\(r.siteA.uuidString)", "mrn": "\(mrn)", "familyName": "Old", "givenName": "Ann", "sex": "female", "birthDate": "\(born)"}
                    """)
                #expect(reply.status == .created, "\(reply.text)")
                return (reply.id, try await Patient.find(UUID(uuidString: reply.id)!, on: r.app.db)!.dateShiftDays)
            }
            let old = try await create("OLD-1", born: "1929-03-15")     // 97 on TestRegistry.today, 2026-11-24
            let young = try await create("YOUNG-1", born: "1937-01-10") // 89
            func shifted(_ iso: String, _ days: Int) -> JSONValue { .string(LocalDate(iso: iso)!.adding(days: days).description) }
            // JSON API: 90 years before today, shifted; an 89-year-old is only shifted; clinicians see the stored date.
            let read = try await r.send(.GET, "/api/v1/patients/\(old.id)", as: "research")
            #expect(read["birthDate"] == shifted("1936-11-24", old.shift) && !read.text.contains("1929"), "\(read.text)")
            #expect(try await r.send(.GET, "/api/v1/patients/\(young.id)", as: "research")["birthDate"] == shifted("1937-01-10", young.shift))
            #expect(try await r.send(.GET, "/api/v1/patients/\(old.id)", as: "clinA")["birthDate"] == "1929-03-15")
            let list = try await r.send(.GET, "/api/v1/patients", as: "research")
            #expect(list.text.contains(shifted("1936-11-24", old.shift).stringValue!) && !list.text.contains("1929"))
            // The case (and so the assessment) a researcher reads: the same top-coded birth date.
            let c = try await r.send(.GET, "/api/v1/patients/\(old.id)/case", as: "research")
            #expect(c["patient"]?["birthDate"] == shifted("1936-11-24", old.shift), "\(c.text)")
            #expect(try await r.send(.GET, "/api/v1/patients/\(old.id)/assessment", as: "research").status == .ok)
            // An asOf between the stored and the shown birth date is refused like one before both
            // (naming asOf), so the answers do not tell the stored date.
            for asOf in ["1933-06-01", "1920-06-01"] {
                let early = try await r.send(.GET, "/api/v1/patients/\(old.id)/assessment?asOf=\(shifted(asOf, old.shift).stringValue!)", as: "research")
                #expect(early.status == .unprocessableEntity && early.errorFields == ["asOf"], "\(asOf): \(early.text)")
            }
            // The research CSV and the worklist: 90; the clinician's worklist: 97.
            let stored = try await Patient.find(UUID(uuidString: old.id)!, on: r.app.db)!
            #expect(RegistryExport.row(stored, lesions: [], site: "A", today: TestRegistry.today).split(separator: ",")[3] == "90")
            #expect(WorklistRow(stored, today: TestRegistry.today, deidentified: true, siteCode: "A").age == 90)
            #expect(WorklistRow(stored, today: TestRegistry.today, deidentified: false, siteCode: "A").age == 97)
            let youngStored = try await Patient.find(UUID(uuidString: young.id)!, on: r.app.db)!
            #expect(RegistryExport.row(youngStored, lesions: [], site: "A", today: TestRegistry.today).split(separator: ",")[3] == "89")
            // The patient page's Age fact.
            let decoded = try CaseDecoder.decode(c.json, today: TestRegistry.today)
            let facts = PatientPageModel.facts(decoded.case, assessment: Assessor().assess(decoded), asOf: decoded.asOf, deidentified: true)
            #expect(facts.first { $0.0 == "Age" }?.1 == "90 or older", "\(facts)")
        }
    }

    @Test("Web sign-in: a session cookie works for reads; writes need the CSRF token")
    func sessionAndCSRF() async throws {
        try await TestRegistry.run { r in
            let login = try await r.send(.POST, "/api/v1/auth/login", as: nil, json: #"{"username": "clinA", "password": "\#(TestRegistry.password)"}"#)
            #expect(login.status == .ok)
            let cookie = login.headers.setCookie?["calcitrack_session"]?.string ?? ""
            #expect(!cookie.isEmpty)
            let csrf = login["csrfToken"]?.stringValue ?? ""
            var headers = HTTPHeaders()
            headers.cookie = HTTPCookies(dictionaryLiteral: ("calcitrack_session", HTTPCookies.Value(string: cookie)))
            #expect(try await r.send(.GET, "/api/v1/patients", as: nil, headers: headers).status == .ok)
            let body = #"{"siteId": "\#(r.siteA.uuidString)", "mrn": "WEB-1", "familyName": "Web", "givenName": "User", "sex": "male"}"#
            #expect(try await r.send(.POST, "/api/v1/patients", as: nil, json: body, headers: headers).status == .forbidden)
            headers.add(name: "X-CSRF-Token", value: csrf)
            #expect(try await r.send(.POST, "/api/v1/patients", as: nil, json: body, headers: headers).status == .created)
            let wrong = try await r.send(.POST, "/api/v1/auth/login", as: nil, json: #"{"username": "clinA", "password": "not the password"}"#)
            #expect(wrong.status == .unauthorized)
            let failures = try await AuditEntry.query(on: r.app.db).filter(\.$action == "login-failed").count()
            #expect(failures == 1)
        }
    }

    /// LoginThrottle [NIST SP 800-63B 5.2.2; OWASP Authentication Cheat Sheet]: after 5 failed
    /// sign-ins for a username in 15 minutes the next attempt, even with the right password, is a
    /// 429 with Retry-After and is audited; other users are not affected.
    @Test("Five failed sign-ins for a username: the sixth, even with the right password, is 429 with Retry-After; other users sign in")
    func loginThrottled() async throws {
        try await TestRegistry.run { r in
            func login(_ user: String, _ password: String) async throws -> TestRegistry.Reply {
                try await r.send(.POST, "/api/v1/auth/login", as: nil, json: #"{"username": "\#(user)", "password": "\#(password)"}"#)
            }
            // A success clears the count: four failures, a success, four more are not five in a row.
            for _ in 0..<4 { #expect(try await login("clinA", "guess").status == .unauthorized) }
            #expect(try await login("clinA", TestRegistry.password).status == .ok)
            for _ in 0..<4 { #expect(try await login("clinA", "guess").status == .unauthorized) }
            #expect(try await login("clinA", "guess").status == .unauthorized)   // the fifth failure
            let refused = try await login("clinA", TestRegistry.password)
            #expect(refused.status == .tooManyRequests, "\(refused.text)")
            let wait = Int(refused.headers.first(name: "Retry-After") ?? "") ?? 0
            #expect(wait > 14 * 60 && wait <= 15 * 60, "\(refused.headers)")
            #expect(try await login("CLINA", TestRegistry.password).status == .tooManyRequests, "usernames compare case-insensitively")
            #expect(try await login("clinB", TestRegistry.password).status == .ok)
            #expect(try await AuditEntry.query(on: r.app.db).filter(\.$action == "login-throttled").count() == 2)
            #expect(try await AuditEntry.query(on: r.app.db).filter(\.$action == "login-failed").count() == 9)
        }
    }

    @Test("LoginThrottle: 20 failures from one address refuse every username there; failures leave after the window")
    func loginThrottleWindow() {
        let clock = NIOLockedValueBox(Date(timeIntervalSince1970: 1_000_000))
        let throttle = LoginThrottle(now: { clock.withLockedValue { $0 } })
        for n in 0..<20 { throttle.recordFailure(username: "user\(n)", address: "10.0.0.9") }
        #expect(throttle.retryAfter(username: "someone-else", address: "10.0.0.9") == 15 * 60)
        #expect(throttle.retryAfter(username: "someone-else", address: "10.0.0.10") == nil)
        clock.withLockedValue { $0 += 10 * 60 }
        #expect(throttle.retryAfter(username: "someone-else", address: "10.0.0.9") == 5 * 60)
        clock.withLockedValue { $0 += 5 * 60 }
        #expect(throttle.retryAfter(username: "someone-else", address: "10.0.0.9") == nil)
        // Per username, with no address known.
        for _ in 0..<5 { throttle.recordFailure(username: "clin", address: nil) }
        #expect(throttle.retryAfter(username: "clin", address: nil) == 15 * 60)
        throttle.recordSuccess(username: "Clin")
        #expect(throttle.retryAfter(username: "clin", address: nil) == nil)
    }

    @Test("A revoked token no longer authenticates")
    func revokedToken() async throws {
        try await TestRegistry.run { r in
            let before = try await r.send(.GET, "/api/v1/auth/me", as: "clinA")
            #expect(before.status == .ok)
            let revoked = try await Accounts.revokeTokens(username: "clinA", label: nil, actor: "test", on: r.app.db)
            #expect(revoked == 1)
            let after = try await r.send(.GET, "/api/v1/auth/me", as: "clinA")
            #expect(after.status == .unauthorized)
        }
    }

    @Test("Migrations revert and apply again on this database engine")
    func migrationsRoundTrip() async throws {
        try await TestRegistry.run { r in
            _ = try await r.createPatient()
            try await r.app.autoRevert()
            try await r.app.autoMigrate()
            #expect(try await Patient.query(on: r.app.db).count() == 0)
            #expect(try await AuditLog.verify(on: r.app.db).firstBroken == nil)
        }
    }

    @Test("Stateless POST /assess returns the CLI's assessment; an invalid case answers 422 with the case-format errors")
    func statelessAssess() async throws {
        try await TestRegistry.run { r in
            let seed = try String(contentsOfFile: "../shared/cases/seed-1-admission.case.json", encoding: .utf8)
            let reply = try await r.send(.POST, "/api/v1/assess", as: "research", json: seed)
            let (status, output) = try Self.check(reply.text, expected: "seed-1-admission")
            #expect(status == 0, "\(output)")
            let bad = try await r.send(.POST, "/api/v1/assess", as: "research", json: #"{"formatVersion": 1, "patient": {}, "vitals": [{"date": "2026-01-01", "temperatureC": 385}]}"#)
            #expect(bad.status == .unprocessableEntity && bad.errorFields == ["vitals[0].temperatureC"])
        }
    }
}
