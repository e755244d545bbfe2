@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import SQLKit
import Testing
import VaporTesting

/// The FHIR read API (issue 5): search semantics, paging, _include, history and vread from the
/// resource_versions middleware, 404/410, researcher refusal and site limits. Runs on SQLite
/// and, with DATABASE_URL set, on PostgreSQL.
@Suite struct FHIRReadTests {
    func lab(_ r: TestRegistry, _ pid: String, date: String, value: Double = 9.1, user: String = "clinA") async throws -> String {
        let reply = try await r.send(.POST, "/api/v1/patients/\(pid)/labs", as: user,
                                     json: #"{"test":"calcium","value":\#(value),"unit":"mg/dL","date":"\#(date)"}"#)
        #expect(reply.status == .created, "\(reply.text)")
        return reply.id
    }

    func ids(_ bundle: JSONValue, mode: String = "match") -> [String] {
        guard case .array(let entries)? = bundle["entry"] else { return [] }
        return entries.filter { $0["search"]?["mode"]?.stringValue == mode }.compactMap { $0["resource"]?["id"]?.stringValue }
    }

    @Test("Date search: every prefix on both sides of the boundary, at day and month precision")
    func datePrefixes() async throws {
        try await TestRegistry.run { r in
            let pid = try await r.createPatient()
            let d14 = try await lab(r, pid, date: "2025-06-14"), d15 = try await lab(r, pid, date: "2025-06-15"), d16 = try await lab(r, pid, date: "2025-06-16")
            let expected: [(String, Set<String>)] = [
                ("eq2025-06-15", [d15]), ("2025-06-15", [d15]), ("ne2025-06-15", [d14, d16]),
                ("lt2025-06-15", [d14]), ("le2025-06-15", [d14, d15]), ("gt2025-06-15", [d16]), ("ge2025-06-15", [d15, d16]),
                ("sa2025-06-15", [d16]), ("eb2025-06-15", [d14]), ("eq2025-06", [d14, d15, d16]), ("eq2025-07", []),
                ("gt2025-05", [d14, d15, d16]), ("lt2025", []), ("ge2025-06-15T10:00:00Z", [d15, d16]),
            ]
            for (value, want) in expected {
                let reply = try await r.send(.GET, "/fhir/Observation?patient=\(pid)&date=\(value)", as: "clinA")
                #expect(reply.status == .ok, "\(value): \(reply.text)")
                #expect(Set(ids(reply.json)) == want, "date=\(value)")
                #expect(reply.json["total"] == .number(Double(want.count)), "date=\(value)")
            }
            // Two date parameters are ANDed: a range.
            let range = try await r.send(.GET, "/fhir/Observation?patient=\(pid)&date=ge2025-06-15&date=lt2025-06-16", as: "clinA")
            #expect(ids(range.json) == [d15])
            let bad = try await r.send(.GET, "/fhir/Observation?patient=\(pid)&date=xx2025", as: "clinA")
            #expect(bad.status == .badRequest && bad["resourceType"] == "OperationOutcome")
            #expect(bad["issue"]?.arrayFirst?["expression"] == .array(["date"]))
        }
    }

    @Test("Paging with total and next links, _sort, _include with search mode include, code tokens")
    func pagingAndInclude() async throws {
        try await TestRegistry.run { r in
            let pid = try await r.createPatient()
            let labs = [try await lab(r, pid, date: "2025-01-01"), try await lab(r, pid, date: "2025-02-01"), try await lab(r, pid, date: "2025-03-01")]
            var url: String? = "/fhir/Observation?patient=Patient/\(pid)&_count=2&_sort=date&_include=Observation:patient"
            var seen: [String] = []
            var pages = 0
            while let next = url {
                let reply = try await r.send(.GET, next, as: "clinA")
                #expect(reply.status == .ok, "\(reply.text)")
                #expect(reply.headers.first(name: .contentType)?.hasPrefix("application/fhir+json") == true)
                // R4 http.html#mime-type: the charset is named (reads left it out, writes had it).
                #expect(reply.headers.first(name: .contentType)?.contains("charset=utf-8") == true, "\(reply.headers)")
                #expect(reply.json["total"] == 3)
                seen += ids(reply.json)
                #expect(ids(reply.json, mode: "include") == [pid], "the patient is included once per page")
                pages += 1
                url = reply.json["link"]?.arrayValue?.first { $0["relation"] == "next" }?["url"]?.stringValue
                    .map { String($0[$0.range(of: "/fhir")!.lowerBound...]) }
            }
            #expect(pages == 2 && seen == labs)
            // Without _sort the order is still stable across pages: every match once.
            var unsorted: [String] = []
            for offset in [0, 2] {
                unsorted += ids(try await r.send(.GET, "/fhir/Observation?patient=\(pid)&_count=2&_offset=\(offset)", as: "clinA").json)
            }
            #expect(Set(unsorted) == Set(labs) && unsorted.count == 3)
            let newestFirst = try await r.send(.GET, "/fhir/Observation?patient=\(pid)&_sort=-date", as: "clinA")
            #expect(ids(newestFirst.json) == labs.reversed())
            // R4 search.html#sort names search parameters: a type's own date parameter sorts too (it was refused).
            #expect(try await r.send(.GET, "/fhir/Patient?_sort=-birthdate", as: "clinA").status == .ok)
            #expect(try await r.send(.GET, "/fhir/Condition?patient=\(pid)&_sort=onset-date", as: "clinA").status == .ok)
            #expect(try await r.send(.GET, "/fhir/Condition?patient=\(pid)&_sort=started", as: "clinA").status == .badRequest)
            // R4 search.html#reference: an absolute URL and the :Patient modifier name the same patient (both were 400).
            #expect(Set(ids(try await r.send(.GET, "/fhir/Observation?patient=http://localhost/fhir/Patient/\(pid)", as: "clinA").json)) == Set(labs))
            #expect(Set(ids(try await r.send(.GET, "/fhir/Observation?subject:Patient=\(pid)", as: "clinA").json)) == Set(labs))
            let typedInclude = try await r.send(.GET, "/fhir/Observation?patient=\(pid)&_include=Observation:subject:Patient", as: "clinA")
            #expect(typedInclude.json["entry"]?.arrayValue?.contains { $0["resource"]?["resourceType"] == "Patient" } == true, "\(typedInclude.text)")
            // 12.4: calcium in mg/dL is 17861-6; the SI code matches none of these.
            #expect(ids(try await r.send(.GET, "/fhir/Observation?patient=\(pid)&code=http://loinc.org|17861-6", as: "clinA").json).count == 3)
            #expect(ids(try await r.send(.GET, "/fhir/Observation?patient=\(pid)&code=http://loinc.org|2000-8", as: "clinA").json).isEmpty)
            #expect(ids(try await r.send(.GET, "/fhir/Observation?patient=\(pid)&code=http://snomed.info/sct|17861-6", as: "clinA").json).isEmpty)
            let unknown = try await r.send(.GET, "/fhir/Observation?patient=\(pid)&colour=blue", as: "clinA")
            #expect(unknown.status == .badRequest && unknown["issue"]?.arrayFirst?["expression"] == .array(["colour"]))
            let badInclude = try await r.send(.GET, "/fhir/Observation?_include=Observation:performer", as: "clinA")
            #expect(badInclude.status == .badRequest && badInclude["issue"]?.arrayFirst?["expression"] == .array(["_include"]))
        }
    }

    @Test("History: JSON API writes leave versions; vread, _history, ETag; a deleted resource answers 410")
    func historyAndDelete() async throws {
        try await TestRegistry.run { r in
            let pid = try await r.createPatient()
            let id = try await lab(r, pid, date: "2025-06-15", value: 9.1)
            let update = try await r.send(.PUT, "/api/v1/labs/\(id)", as: "clinA", json: #"{"test":"calcium","value":10.4,"unit":"mg/dL","date":"2025-06-15"}"#,
                                          headers: ["If-Match": "\"1\""])
            #expect(update.status == .ok, "\(update.text)")
            let read = try await r.send(.GET, "/fhir/Observation/\(id)", as: "clinA")
            #expect(read.status == .ok && read.etag == "W/\"2\"" && read.headers.first(name: .lastModified) != nil)
            #expect(read["valueQuantity"]?["value"] == 10.4)
            let v1 = try await r.send(.GET, "/fhir/Observation/\(id)/_history/1", as: "clinA")
            #expect(v1.status == .ok && v1["valueQuantity"]?["value"] == 9.1 && v1["meta"]?["versionId"] == "1")
            #expect(try await r.send(.GET, "/fhir/Observation/\(id)/_history/9", as: "clinA").status == .notFound)
            let delete = try await r.send(.DELETE, "/api/v1/labs/\(id)", as: "clinA", headers: ["If-Match": "\"2\""])
            #expect(delete.status == .noContent)
            let gone = try await r.send(.GET, "/fhir/Observation/\(id)", as: "clinA")
            #expect(gone.status == .gone && gone["resourceType"] == "OperationOutcome")
            let history = try await r.send(.GET, "/fhir/Observation/\(id)/_history", as: "clinA")
            #expect(history.status == .ok && history["type"] == "history" && history["total"] == 3)
            let methods = history.json["entry"]?.arrayValue?.compactMap { $0["request"]?["method"]?.stringValue }
            #expect(methods == ["DELETE", "PUT", "POST"])
            #expect(try await r.send(.GET, "/fhir/Observation/\(id)/_history/3", as: "clinA").status == .gone)
            // R4 http.html#history: _count and _since on an instance too (both were refused with 400).
            let paged = try await r.send(.GET, "/fhir/Observation/\(id)/_history?_count=2", as: "clinA")
            #expect(paged.json["entry"]?.arrayValue?.count == 2 && paged["total"] == 3, "\(paged.text)")
            let next = paged.json["link"]?.arrayValue?.first { $0["relation"] == "next" }?["url"]?.stringValue ?? ""
            #expect(next.hasSuffix("/fhir/Observation/\(id)/_history?_count=2&_offset=2"), "\(next)")
            let rest = try await r.send(.GET, "/fhir/Observation/\(id)/_history?_count=2&_offset=2", as: "clinA")
            #expect(rest.json["entry"]?.arrayValue?.compactMap { $0["request"]?["method"]?.stringValue } == ["POST"])
            let sinceAll = try await r.send(.GET, "/fhir/Observation/\(id)/_history?_since=2025-01-01", as: "clinA")
            #expect(sinceAll.status == .ok && sinceAll["total"] == 3, "\(sinceAll.text)")
            #expect(try await r.send(.GET, "/fhir/Observation/\(id)/_history?_since=2099-01-01T00:00:00Z", as: "clinA")["total"] == 0)
            let unsupported = try await r.send(.GET, "/fhir/Observation/\(id)/_history?_at=2025-01-01", as: "clinA")
            #expect(unsupported.status == .badRequest && unsupported["issue"]?.arrayFirst?["expression"] == .array(["_at"]))
            #expect(try await r.send(.GET, "/fhir/Observation/00000000-0000-0000-0000-000000000000", as: "clinA").status == .notFound)
            #expect(ids(try await r.send(.GET, "/fhir/Observation?patient=\(pid)", as: "clinA").json).isEmpty, "deleted rows are not found by search")
            // One version row per write, in the write's transaction; the patient has its own.
            let rows = try await (r.app.db as! any SQLDatabase).raw("SELECT record_kind, version, deleted FROM resource_versions ORDER BY record_kind, version").all()
            let kinds = try rows.map { "\(try $0.decode(column: "record_kind", as: String.self))/\(try $0.decode(column: "version", as: Int.self))" }
            #expect(kinds == ["labs/1", "labs/2", "labs/3", "patients/1"])
        }
    }

    @Test("The web visit form leaves history too (model middleware, whatever path wrote)")
    func visitFormHistory() async throws {
        try await WebUITests.run { r, b in
            var b = b
            _ = try await b.signIn("demoClin")
            let id = try await WebUITests.patientID(r, mrn: "SEED-2")
            let before = try await (r.app.db as! any SQLDatabase).raw("SELECT COUNT(*) AS n FROM resource_versions WHERE record_kind = 'visits'").first()!.decode(column: "n", as: Int.self)
            let form = try await b.get("/patients/\(id)/visits/new")
            let saved = try await b.post("/patients/\(id)/visits", [("_csrf", form.csrf ?? ""), ("visit_date", "2026-11-24"), ("visit_kind", "clinic")])
            #expect(saved.status == .seeOther, "\(saved.html.prefix(400))")
            let visit = try await VisitRecord.query(on: r.app.db).filter(\.$date == "2026-11-24").first()!
            let rows = try await (r.app.db as! any SQLDatabase).raw("SELECT COUNT(*) AS n FROM resource_versions WHERE record_kind = 'visits'").first()!.decode(column: "n", as: Int.self)
            #expect(rows == before + 1)
            let token = try await Accounts.issueToken(username: "demoClin", label: "t", actor: "test", on: r.app.db)
            let response = try await r.app.testing().sendRequest(.GET, "/fhir/Encounter/\(visit.id!.uuidString.lowercased())/_history/1",
                                                                 headers: ["Authorization": "Bearer \(token)"])
            #expect(response.status == .ok)
            #expect(response.body.string.contains("\"resourceType\":\"Encounter\""))
        }
    }

    @Test("Researchers are refused, admins too; clinicians see only their sites' patients")
    func access() async throws {
        try await TestRegistry.run { r in
            let a = try await r.createPatient(site: "A", mrn: "A-1")
            let b = try await r.createPatient(site: "B", mrn: "B-1")
            _ = try await lab(r, a, date: "2025-06-15")
            _ = try await lab(r, b, date: "2025-06-15", user: "clinB")
            for user in ["research", "admin"] {
                let reply = try await r.send(.GET, "/fhir/Patient/\(a)", as: user)
                #expect(reply.status == .forbidden && reply["resourceType"] == "OperationOutcome", "\(user)")
                #expect(try await r.send(.GET, "/fhir/Observation?code=17861-6", as: user).status == .forbidden)
            }
            #expect(try await r.send(.GET, "/fhir/Patient/\(a)", as: nil).status == .unauthorized)
            #expect(try await r.send(.GET, "/fhir/Patient/\(b)", as: "clinA").status == .forbidden)
            #expect(try await r.send(.GET, "/fhir/Patient/\(b)/$everything", as: "clinA").status == .forbidden)
            let all = try await r.send(.GET, "/fhir/Observation?code=http://loinc.org|17861-6", as: "clinA")
            #expect(all["total"] == 1)
            let patients = try await r.send(.GET, "/fhir/Patient", as: "clinB")
            #expect(ids(patients.json) == [b])
            // Every FHIR read is audited.
            let audited = try await AuditEntry.query(on: r.app.db).filter(\.$resourceType == "fhir/Observation").filter(\.$action == "search").count()
            #expect(audited >= 1)
        }
    }

    @Test("metadata lists the supported types and search parameters; $everything returns the patient's resources")
    func metadataAndEverything() async throws {
        try await TestRegistry.run { r in
            let meta = try await r.send(.GET, "/fhir/metadata", as: "clinA")
            #expect(meta["resourceType"] == "CapabilityStatement" && meta["fhirVersion"] == "4.0.1")
            let types = meta.json["rest"]?.arrayFirst?["resource"]?.arrayValue?.compactMap { $0["type"]?.stringValue } ?? []
            #expect(types.contains("Observation") && types.contains("Patient") && types.contains("Flag"))
            let pid = try await r.createPatient(extra: #", "weightKg": 61, "ssc": {"subtype": "diffuse", "diagnosisDate": "2010"}"#)
            _ = try await lab(r, pid, date: "2025-06-15")
            let everything = try await r.send(.GET, "/fhir/Patient/\(pid)/$everything", as: "clinA")
            #expect(everything.status == .ok, "\(everything.text)")
            let got = Set(ids(everything.json))
            #expect(got.isSuperset(of: [pid, "ssc-\(pid)", "weight-\(pid)"]))
            let ssc = try await r.send(.GET, "/fhir/Condition?patient=\(pid)&code=http://hl7.org/fhir/sid/icd-10-cm|M34.0", as: "clinA")
            #expect(ids(ssc.json) == ["ssc-\(pid)"])
            #expect(ids(try await r.send(.GET, "/fhir/Condition?patient=\(pid)&code=M34.1", as: "clinA").json).isEmpty)
            let onset = try await r.send(.GET, "/fhir/Condition?patient=\(pid)&onset-date=eq2010", as: "clinA")
            #expect(ids(onset.json) == ["ssc-\(pid)"], "\(onset.text)")
            #expect(ids(try await r.send(.GET, "/fhir/Condition?patient=\(pid)&onset-date=gt2010", as: "clinA").json).isEmpty)
        }
    }

    /// A Flag id carries its patient (alert-<rule>-<patient>[-n]): `Flag?_id=` alone finds it
    /// (it was refused: "Flag search needs patient").
    @Test func flagSearchByIDAlone() async throws {
        try await TestRegistry.run { r in
            let pid = try await r.createPatient()
            let flags = ids(try await r.send(.GET, "/fhir/Flag?patient=\(pid)", as: "clinA").json)
            #expect(!flags.isEmpty, "a patient without labs has the missing-labs alert")
            guard let first = flags.first else { return }
            let byID = try await r.send(.GET, "/fhir/Flag?_id=\(first)", as: "clinA")
            #expect(byID.status == .ok, "\(byID.text)")
            #expect(ids(byID.json) == [first])
            #expect(try await r.send(.GET, "/fhir/Flag?_id=alert-x", as: "clinA").status == .badRequest)
        }
    }

    /// R4 search.html#elements and #summary: `_elements` returns the named elements plus the
    /// mandatory ones (R4 min 1), tagged SUBSETTED, the `_include`d resources whole; `_summary=count`
    /// the total alone.
    @Test func elementsAndSummaryCount() async throws {
        try await TestRegistry.run { r in
            let pid = try await r.createPatient()
            let labID = try await lab(r, pid, date: "2026-11-01")
            let cut = try await r.send(.GET, "/fhir/Observation?patient=\(pid)&_elements=value&_include=Observation:patient", as: "clinA")
            #expect(cut.status == .ok, "\(cut.text)")
            guard case .array(let entries)? = cut.json["entry"] else { Issue.record("no entries"); return }
            let match = entries.first { $0["search"]?["mode"] == "match" }?["resource"]
            #expect(match?["id"]?.stringValue == labID.lowercased())
            #expect(Set(match?.objectValue?.keys ?? []) == ["resourceType", "id", "meta", "status", "code", "valueQuantity"], "\(match ?? .null)")
            #expect(JSONWriter.write(match ?? .null, pretty: false).contains(#""code":"SUBSETTED""#))
            let included = entries.first { $0["search"]?["mode"] == "include" }?["resource"]
            #expect(included?["resourceType"] == "Patient" && included?["name"] != nil, "the include follows the whole match and is whole")
            let count = try await r.send(.GET, "/fhir/Observation?patient=\(pid)&_summary=count", as: "clinA")
            #expect(count["total"] == 1 && count["entry"] == nil, "\(count.text)")
            // _summary=true: the type's summary elements (R4 isSummary) and the mandatory ones, tagged;
            // text: the mandatory ones only (no narrative); data: the whole resource (none has a narrative).
            let summary = try await r.send(.GET, "/fhir/Observation?patient=\(pid)&_summary=true", as: "clinA")
            let summarized = summary["entry"]?.arrayFirst?["resource"]
            #expect(Set(summarized?.objectValue?.keys ?? []) == ["resourceType", "id", "meta", "status", "code", "subject", "effectiveDateTime", "valueQuantity"],
                    "category and the LOINC reference range are not summary elements: \(summarized ?? .null)")
            #expect(JSONWriter.write(summarized ?? .null, pretty: false).contains(#""code":"SUBSETTED""#))
            let text = try await r.send(.GET, "/fhir/Observation?patient=\(pid)&_summary=text", as: "clinA")
            #expect(Set(text["entry"]?.arrayFirst?["resource"]?.objectValue?.keys ?? []) == ["resourceType", "id", "meta", "status", "code"], "\(text.text)")
            let data = try await r.send(.GET, "/fhir/Observation?patient=\(pid)&_summary=data", as: "clinA")
            let whole = try await r.send(.GET, "/fhir/Observation/\(labID)", as: "clinA")
            #expect(data["entry"]?.arrayFirst?["resource"] == whole.json, "\(data.text)")
            // On a read and a vread too (R4 http.html#read); other parameters are not read there.
            let readCut = try await r.send(.GET, "/fhir/Observation/\(labID)?_summary=true", as: "clinA")
            #expect(readCut.status == .ok && Set(readCut.json.objectValue?.keys ?? []) == Set(summarized?.objectValue?.keys ?? []), "\(readCut.text)")
            let vreadCut = try await r.send(.GET, "/fhir/Observation/\(labID)/_history/1?_elements=value", as: "clinA")
            #expect(Set(vreadCut.json.objectValue?.keys ?? []) == ["resourceType", "id", "meta", "status", "code", "valueQuantity"], "\(vreadCut.text)")
            #expect(try await r.send(.GET, "/fhir/Observation/\(labID)?unknown=1", as: "clinA").json == whole.json)
            for query in ["_summary=count", "_elements=Value", "_summary=text&_elements=status"] {
                let bad = try await r.send(.GET, "/fhir/Observation/\(labID)?\(query)", as: "clinA")
                #expect(bad.status == .badRequest && bad["resourceType"] == "OperationOutcome", "\(query): \(bad.text)")
            }
            for (query, element) in [("_summary=yes", "_summary"), ("_summary=true&_elements=status", "_summary"), ("_elements=Status", "_elements"), ("_elements=", "_elements")] {
                let bad = try await r.send(.GET, "/fhir/Observation?patient=\(pid)&\(query)", as: "clinA")
                #expect(bad.status == .badRequest && bad.text.contains("\"\(element)\""), "\(query): \(bad.text)")
            }
        }
    }

    /// R4 conditional read (http.html#cread): If-None-Match naming the current version, or
    /// If-Modified-Since not before the last change, answers 304 with no body; a changed resource is
    /// sent whole; the CapabilityStatement says which types support it.
    @Test func conditionalReadAnswers304WhileUnchanged() async throws {
        try await TestRegistry.run { r in
            let pid = try await r.createPatient()
            let labID = try await lab(r, pid, date: "2026-11-01")
            let path = "/fhir/Observation/\(labID)"
            let first = try await r.send(.GET, path, as: "clinA")
            let etag = try #require(first.headers.first(name: .eTag))
            let modified = try #require(first.headers.first(name: .lastModified))
            #expect(etag == "W/\"1\"")
            let same = try await r.send(.GET, path, as: "clinA", headers: ["If-None-Match": etag])
            #expect(same.status == .notModified && same.text.isEmpty && same.headers.first(name: .eTag) == etag)
            #expect(try await r.send(.GET, path, as: "clinA", headers: ["If-None-Match": "W/\"7\", *"]).status == .notModified)
            #expect(try await r.send(.GET, path, as: "clinA", headers: ["If-None-Match": "W/\"7\""]).status == .ok)
            #expect(try await r.send(.GET, path, as: "clinA", headers: ["If-Modified-Since": modified]).status == .notModified)
            #expect(try await r.send(.GET, path, as: "clinA", headers: ["If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"]).status == .ok)
            // If-None-Match wins over If-Modified-Since (RFC 7232 3.3).
            #expect(try await r.send(.GET, path, as: "clinA", headers: ["If-None-Match": "W/\"7\"", "If-Modified-Since": modified]).status == .ok)
            // After an update the old version's tag no longer matches.
            let updated = try await r.send(.PUT, "/api/v1/labs/\(labID)", as: "clinA", json: #"{"test":"calcium","value":9.4,"unit":"mg/dL","date":"2026-11-01"}"#,
                                           headers: ["If-Match": VersionCheck.etag(1)])
            #expect(updated.status == .ok, "\(updated.text)")
            let changed = try await r.send(.GET, path, as: "clinA", headers: ["If-None-Match": etag])
            #expect(changed.status == .ok && changed["meta"]?["versionId"] == "2")
            // Another site's clinician is refused as before, whatever the headers.
            #expect(try await r.send(.GET, path, as: "clinB", headers: ["If-None-Match": "*"]).status == .forbidden)
            let meta = try await r.send(.GET, "/fhir/metadata", as: "clinA").text
            #expect(meta.contains(#""conditionalRead":"full-support""#) && meta.contains(#""conditionalRead":"not-supported""#))
        }
    }

    /// R4 search.html#revinclude: `Patient?_revinclude=X:patient` adds the resources of type X of the
    /// matched patients, `BodyStructure?_revinclude=Observation:focus` a lesion's measurements; each
    /// as an include entry, once. Unsupported ones are named.
    @Test func revincludeAddsWhatPointsAtTheMatches() async throws {
        try await TestRegistry.run { r in
            let pid = try await r.createPatient(mrn: "RV-1"), other = try await r.createPatient(mrn: "RV-2")
            let labID = try await lab(r, pid, date: "2026-11-01")
            _ = try await lab(r, other, date: "2026-11-01")
            let lesion = try await r.send(.POST, "/api/v1/patients/\(pid)/lesions", as: "clinA", json: #"{"label": "L1", "site": "lower-leg", "laterality": "right"}"#)
            let measurement = try await r.send(.POST, "/api/v1/lesions/\(lesion.id)/measurements", as: "clinA", json: #"{"date": "2026-11-01", "lengthCm": 2, "widthCm": 1}"#)
            #expect(measurement.status == .created, "\(measurement.text)")
            func entries(_ path: String) async throws -> [(mode: String, ref: String)] {
                let reply = try await r.send(.GET, path, as: "clinA")
                #expect(reply.status == .ok, "\(path): \(reply.text)")
                guard case .array(let list)? = reply.json["entry"] else { return [] }
                return list.map { ($0["search"]?["mode"]?.stringValue ?? "", "\($0["resource"]?["resourceType"]?.stringValue ?? "")/\($0["resource"]?["id"]?.stringValue ?? "")") }
            }
            let withLabs = try await entries("/fhir/Patient?_id=\(pid)&_revinclude=Observation:patient")
            #expect(withLabs.filter { $0.mode == "match" }.map(\.ref) == ["Patient/\(pid.lowercased())"])
            let included = Set(withLabs.filter { $0.mode == "include" }.map(\.ref))
            let searched = Set(ids(try await r.send(.GET, "/fhir/Observation?patient=\(pid)", as: "clinA").json).map { "Observation/\($0)" })
            #expect(included == searched && included.contains("Observation/\(labID.lowercased())"), "\(included) vs \(searched)")
            let flags = try await entries("/fhir/Patient?_id=\(pid)&_revinclude=Flag:patient&_revinclude=Condition:subject")
            #expect(flags.filter { $0.mode == "include" }.allSatisfy { $0.ref.hasPrefix("Flag/") || $0.ref.hasPrefix("Condition/") })
            let lesions = try await entries("/fhir/BodyStructure?patient=\(pid)&_revinclude=Observation:focus")
            let measured = lesions.filter { $0.mode == "include" }.map(\.ref)
            #expect(lesions.filter { $0.mode == "match" }.map(\.ref) == ["BodyStructure/\(lesion.id.lowercased())"])
            #expect(!measured.isEmpty && !measured.contains("Observation/\(labID.lowercased())"), "a lab has no focus: \(measured)")
            for path in ["/fhir/Patient?_revinclude=Observation:focus", "/fhir/Observation?_revinclude=Flag:patient", "/fhir/Patient?_revinclude=*"] {
                let bad = try await r.send(.GET, path, as: "clinA")
                #expect(bad.status == .badRequest && bad.text.contains(#""_revinclude""#), "\(path): \(bad.text)")
            }
            #expect(try await r.send(.GET, "/fhir/metadata", as: "clinA").text.contains(#""searchRevInclude":["Observation:focus"]"#))
        }
    }

    /// R4 search.html#errors: by default an unknown parameter fails the search (nothing is ignored
    /// silently); with `Prefer: handling=lenient` it is left out of the search and its self link and
    /// reported as a warning in an outcome entry. A malformed value still fails. `_total` is accepted.
    @Test func lenientHandlingIgnoresUnknownParametersAndSaysSo() async throws {
        try await TestRegistry.run { r in
            let pid = try await r.createPatient()
            _ = try await lab(r, pid, date: "2026-11-01")
            let strict = try await r.send(.GET, "/fhir/Observation?patient=\(pid)&foo=1", as: "clinA")
            #expect(strict.status == .badRequest && strict.text.contains(#""foo""#))
            let lenient: HTTPHeaders = ["Prefer": "handling=lenient"]
            let reply = try await r.send(.GET, "/fhir/Observation?patient=\(pid)&foo=1&_total=none", as: "clinA", headers: lenient)
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(ids(reply.json) == ids(try await r.send(.GET, "/fhir/Observation?patient=\(pid)", as: "clinA").json))
            guard case .array(let entries)? = reply.json["entry"] else { Issue.record("no entries"); return }
            let outcome = entries.first { $0["search"]?["mode"] == "outcome" }?["resource"]
            #expect(outcome?["resourceType"] == "OperationOutcome" && JSONWriter.write(outcome ?? .null, pretty: false).contains("foo"), "\(reply.text)")
            #expect(JSONWriter.write(outcome ?? .null, pretty: false).contains(#""severity":"warning""#))
            guard case .array(let links)? = reply.json["link"] else { Issue.record("no links"); return }
            let selfURL = links.first { $0["relation"] == "self" }?["url"]?.stringValue ?? ""
            #expect(!selfURL.contains("foo") && selfURL.contains("patient="), "\(selfURL)")
            #expect(try await r.send(.GET, "/fhir/Observation?date=yesterday", as: "clinA", headers: lenient).status == .badRequest)
            #expect(try await r.send(.GET, "/fhir/Observation?_total=some", as: "clinA").status == .badRequest)
        }
    }

    /// R4 Patient/$everything parameters (patient-operation-everything): `_type` limits the types
    /// (the Patient only if named); `start`/`end` are care dates, answered as the search API's
    /// `date=ge<start>` and `date=le<end>` for dated types, undated types (BodyStructure) whole;
    /// `_since` keeps what changed since. Anything else is a 400 naming it.
    @Test func everythingTakesTypeCareDatesAndSince() async throws {
        try await TestRegistry.run { r in
            let pid = try await r.createPatient(extra: #", "ssc": {"subtype": "diffuse", "diagnosisDate": "2010"}"#)
            let old = try await lab(r, pid, date: "2025-01-15"), nov1 = try await lab(r, pid, date: "2026-11-01"), nov2 = try await lab(r, pid, date: "2026-11-02")
            let lesion = try await r.send(.POST, "/api/v1/patients/\(pid)/lesions", as: "clinA", json: #"{"label": "L1", "site": "lower-leg", "laterality": "right"}"#)
            #expect(lesion.status == .created, "\(lesion.text)")
            func everything(_ query: String) async throws -> [String] {
                let reply = try await r.send(.GET, "/fhir/Patient/\(pid)/$everything\(query)", as: "clinA")
                #expect(reply.status == .ok, "\(query): \(reply.text)")
                return ids(reply.json)
            }
            func types(_ query: String) async throws -> Set<String> {
                let reply = try await r.send(.GET, "/fhir/Patient/\(pid)/$everything\(query)", as: "clinA")
                guard case .array(let entries)? = reply.json["entry"] else { return [] }
                return Set(entries.compactMap { $0["resource"]?["resourceType"]?.stringValue })
            }
            let labs = [old, nov1, nov2].map { $0.lowercased() }
            #expect(Set(try await everything("?_type=Observation")) == Set(labs))
            #expect(try await types("?_type=Observation") == ["Observation"])
            #expect(try await types("?_type=Patient,BodyStructure") == ["Patient", "BodyStructure"])
            #expect(try await types("?_type=BodyStructure&_type=Condition") == ["BodyStructure", "Condition"])
            // Care dates: the same answer as the search API for the dated types; the lesion whatever the range.
            for (query, search) in [("?start=2026-11-02", "date=ge2026-11-02"), ("?end=2026-01", "date=le2026-01"), ("?start=2026-11&end=2026-11-01", "date=ge2026-11&date=le2026-11-01")] {
                let got = Set(try await everything(query + "&_type=Observation,BodyStructure"))
                let searched = Set(ids(try await r.send(.GET, "/fhir/Observation?patient=\(pid)&\(search)", as: "clinA").json))
                #expect(!searched.isEmpty && got == searched.union([lesion.id.lowercased()]), "\(query): \(got) vs \(searched)")
            }
            #expect(Set(try await everything("?start=2026-11-02&_type=Observation")) == [nov2.lowercased()])
            // The SSc Condition (diagnosed 2010) is in a range that holds 2010 only.
            #expect(try await everything("?end=2011&_type=Condition") == ["ssc-\(pid)"])
            #expect(try await everything("?start=2011&_type=Condition").isEmpty)
            // _since: nothing stored changed after 2099; computed Flags (no lastUpdated) stay.
            #expect(try await types("?_since=2099-01-01T00:00:00Z").isSubset(of: ["Flag"]))
            let all = Set(try await everything(""))
            #expect(Set(try await everything("?_since=2000-01-01T00:00:00Z")) == all)
            // _count pages the same list (a parameter of R4's OperationDefinition), next links to the end.
            let whole = try await everything("")
            var paged: [String] = []
            var next: String? = "/fhir/Patient/\(pid)/$everything?_count=2"
            var pages = 0
            while let path = next, pages < 20 {
                let page = try await r.send(.GET, path, as: "clinA")
                #expect(page.status == .ok && page["total"] == .number(Double(whole.count)), "\(path): \(page.text)")
                let got = ids(page.json)
                #expect(got.count <= 2)
                paged += got
                pages += 1
                // The next link is absolute (the request's host); it is followed by its path.
                next = (page["link"]?.arrayValue ?? []).first { $0["relation"] == "next" }?["url"]?.stringValue
                if let n = next, let range = n.range(of: "/fhir/") { next = "/fhir/" + n[range.upperBound...] }
            }
            #expect(paged == whole && pages == (whole.count + 1) / 2, "\(pages) pages: \(paged) vs \(whole)")
            #expect(try await everything("?_count=0").isEmpty)
            for (query, element) in [("?start=ge2026", "start"), ("?_count=501", "_count"), ("?_offset=2", "_offset"), ("?_type=Practitioner", "_type"),
                                     ("?start=2026-12&end=2026-11", "start"), ("?_since=2026", "_since")] {
                let bad = try await r.send(.GET, "/fhir/Patient/\(pid)/$everything\(query)", as: "clinA")
                #expect(bad.status == .badRequest && bad.text.contains("\"\(element)\""), "\(query): \(bad.text)")
            }
        }
    }
}

extension JSONValue {
    var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    var arrayFirst: JSONValue? { arrayValue?.first }
    var objectValue: JSONObject? { if case .object(let o) = self { o } else { nil } }
}
