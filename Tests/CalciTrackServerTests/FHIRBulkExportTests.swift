@testable import CalciTrackServer
import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation
import Testing
import VaporTesting

/// Bulk Data `$export` (async pattern): kick-off, status, manifest, download, cancel, the 400s,
/// other users, a job cut off by a restart, and expiry. The files must hold exactly what
/// `calcitrack export` (`FHIRExport.run`) writes for the clinician's sites.
@Suite(.serialized) struct FHIRBulkExportTests {
    static let kickoffHeaders: HTTPHeaders = ["Accept": "application/fhir+json", "Prefer": "respond-async"]

    func kickoff(_ r: TestRegistry, _ path: String = "/fhir/$export", as user: String = "clinA", headers: HTTPHeaders = kickoffHeaders) async throws -> TestRegistry.Reply {
        try await r.send(.GET, path, as: user, headers: headers)
    }

    /// The path of a URL the server gave (`http://host/fhir/...`).
    static func path(_ url: String) -> String {
        guard let range = url.range(of: "/fhir/") else { return url }
        return "/fhir/" + url[range.upperBound...]
    }

    /// Polls the status URL until the job is no longer running.
    func finished(_ r: TestRegistry, _ status: String, as user: String = "clinA") async throws -> TestRegistry.Reply {
        for _ in 0..<400 {
            let reply = try await r.send(.GET, status, as: user)
            if reply.status != .accepted { return reply }
            #expect(reply.headers.first(name: "X-Progress") != nil)
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("the export did not finish")
        return try await r.send(.GET, status, as: user)
    }

    func addRecords(_ r: TestRegistry, _ patient: String, as user: String) async throws {
        for body in [#"{"test": "calcium", "value": 9.5, "unit": "mg/dL", "date": "2026-11-01"}"#, #"{"test": "phosphate", "value": 4.1, "unit": "mg/dL", "date": "2026-11-02"}"#] {
            let lab = try await r.send(.POST, "/api/v1/patients/\(patient)/labs", as: user, json: body)
            #expect(lab.status == .created, "\(lab.text)")
        }
        let lesion = try await r.send(.POST, "/api/v1/patients/\(patient)/lesions", as: user,
                                      json: #"{"label": "L1", "site": "lower-leg", "laterality": "right"}"#)
        #expect(lesion.status == .created, "\(lesion.text)")
    }

    func lines(_ text: String) -> [JSONValue] {
        text.split(separator: "\n").map { (try? JSONParser.parse(String($0))) ?? .null }
    }

    @Test func kickoffPollManifestAndDownloadGiveTheCLIExportOfTheClinicianSites() async throws {
        try await TestRegistry.run { r in
            let a1 = try await r.createPatient(mrn: "BX-1"), a2 = try await r.createPatient(mrn: "BX-2")
            let b1 = try await r.createPatient(site: "B", mrn: "BX-3")
            try await addRecords(r, a1, as: "clinA")
            try await addRecords(r, a2, as: "clinA")
            try await addRecords(r, b1, as: "clinB")
            let started = try await kickoff(r)
            #expect(started.status == .accepted, "\(started.text)")
            let statusURL = started.headers.first(name: .contentLocation) ?? ""
            #expect(statusURL.contains("/fhir/$export-status/"), "\(statusURL)")
            let done = try await finished(r, Self.path(statusURL))
            #expect(done.status == .ok, "\(done.text)")
            #expect(done.headers.first(name: .contentType)?.hasPrefix("application/json") == true)
            let manifest = done.json
            #expect(manifest["requiresAccessToken"] == .bool(true))
            #expect(manifest["request"]?.stringValue?.hasSuffix("/fhir/$export") == true)
            #expect(manifest["transactionTime"]?.stringValue.flatMap(FHIRDates.instant) != nil)
            #expect(manifest["error"] == .array([]))
            guard case .array(let outputs)? = manifest["output"] else { Issue.record("no output"); return }
            // What the CLI writes, without site B's patient.
            var expected: [String: [JSONValue]] = [:]
            _ = try await FHIRExport.run(on: r.app.db, patient: nil, today: TestRegistry.today) { batch in
                for (type, resources) in batch { expected[type.rawValue, default: []] += resources }
            }
            let cli = expected.mapValues { list in list.filter { !JSONWriter.write($0, pretty: false).contains(b1) } }.filter { !$0.value.isEmpty }
            #expect(Set(outputs.compactMap { $0["type"]?.stringValue }) == Set(cli.keys))
            #expect(cli["Patient"]?.count == 2)
            #expect(cli["Observation"]?.isEmpty == false && cli["BodyStructure"]?.isEmpty == false)
            var downloads = 0
            for output in outputs {
                let type = output["type"]?.stringValue ?? ""
                let url = output["url"]?.stringValue ?? ""
                let file = try await r.send(.GET, Self.path(url), as: "clinA")
                #expect(file.status == .ok, "\(url): \(file.text)")
                #expect(file.headers.first(name: .contentType) == "application/fhir+ndjson")
                let resources = lines(file.text)
                #expect(resources.allSatisfy { $0["resourceType"]?.stringValue == type })
                #expect(resources == cli[type], "\(type)")
                #expect(output["count"] == .number(Double(resources.count)))
                #expect(!file.text.contains(b1))
                downloads += 1
                // Another clinician does not see the file, nor that it exists.
                #expect(try await r.send(.GET, Self.path(url), as: "clinB").status == .notFound)
            }
            #expect(try await AuditEntry.query(on: r.app.db).filter(\.$action == "export").count() == 1)
            #expect(try await AuditEntry.query(on: r.app.db).filter(\.$action == "export-download").count() == downloads)
            #expect(try await r.send(.GET, Self.path(statusURL), as: "clinB").status == .notFound)
        }
    }

    @Test func typeAndSinceLimitTheExportAndPatientLevelExportWorks() async throws {
        try await TestRegistry.run { r in
            let a1 = try await r.createPatient(mrn: "BT-1")
            try await addRecords(r, a1, as: "clinA")
            // '+' unencoded, as many clients send it.
            let typed = try await kickoff(r, "/fhir/Patient/$export?_type=Patient,BodyStructure&_outputFormat=application/fhir+ndjson")
            #expect(typed.status == .accepted, "\(typed.text)")
            let manifest = try await finished(r, Self.path(typed.headers.first(name: .contentLocation) ?? "")).json
            guard case .array(let outputs)? = manifest["output"] else { Issue.record("no output"); return }
            #expect(outputs.compactMap { $0["type"]?.stringValue } == ["Patient", "BodyStructure"])
            let future = try await kickoff(r, "/fhir/$export?_since=2099-01-01T00:00:00+01:00")
            #expect(future.status == .accepted, "\(future.text)")
            let none = try await finished(r, Self.path(future.headers.first(name: .contentLocation) ?? "")).json
            #expect(none["output"] == .array([]))
        }
    }

    /// The resources of `type` a kick-off's job wrote (none: no file).
    func exported(_ r: TestRegistry, _ started: TestRegistry.Reply, _ type: String, as user: String = "clinA") async throws -> [JSONValue] {
        #expect(started.status == .accepted, "\(started.text)")
        let manifest = try await finished(r, Self.path(started.headers.first(name: .contentLocation) ?? ""), as: user).json
        guard case .array(let outputs)? = manifest["output"], let url = outputs.first(where: { $0["type"]?.stringValue == type })?["url"]?.stringValue else { return [] }
        return lines(try await r.send(.GET, Self.path(url), as: user).text)
    }

    /// The `id`s of what a FHIR search of the API answers (its matches).
    func searched(_ r: TestRegistry, _ path: String) async throws -> Set<String> {
        let bundle = try await r.send(.GET, path, as: "clinA")
        #expect(bundle.status == .ok, "\(path): \(bundle.text)")
        guard case .array(let entries)? = bundle.json["entry"] else { return [] }
        return Set(entries.compactMap { $0["resource"]?["id"]?.stringValue })
    }

    /// Bulk Data 2.0 export.html "_typeFilter": a type with filters holds the resources that match
    /// at least one of them (the queries are OR'ed), checked against the search API's answer to the
    /// same search; a type in `_type` without a filter is exported whole.
    @Test func typeFilterKeepsTheResourcesMatchingAnyOfItsSearches() async throws {
        try await TestRegistry.run { r in
            let a1 = try await r.createPatient(mrn: "TF-1"), a2 = try await r.createPatient(mrn: "TF-2")
            try await addRecords(r, a1, as: "clinA")
            try await addRecords(r, a2, as: "clinA")
            let calcium = "http://loinc.org|17861-6", phosphate = "http://loinc.org|2777-1"
            let enc = FHIRSearch.encode
            let one = try await exported(r, try await kickoff(r, "/fhir/$export?_type=Patient,Observation&_typeFilter=" + enc("Observation?code=" + enc(calcium))), "Observation")
            let calciumIDs = try await searched(r, "/fhir/Observation?code=\(enc(calcium))")
            #expect(calciumIDs.count == 2)
            #expect(Set(one.compactMap { $0["id"]?.stringValue }) == calciumIDs)
            // Two queries (repeated parameter), and one query whose code value lists both (a comma
            // not followed by a resource type stays in its query): both are calcium OR phosphate.
            let both = try await searched(r, "/fhir/Observation?code=\(enc(calcium)),\(enc(phosphate))")
            #expect(both.count == 4)
            for path in ["/fhir/$export?_type=Observation&_typeFilter=" + enc("Observation?code=" + enc(calcium)) + "&_typeFilter=" + enc("Observation?code=" + enc(phosphate)),
                         "/fhir/$export?_type=Observation&_typeFilter=Observation%3Fcode%3D\(enc(calcium)),\(enc(phosphate))",
                         "/fhir/$export?_type=Observation&_typeFilter=" + enc("Observation?code=" + enc(calcium)) + "," + enc("Observation?code=" + enc(phosphate))] {
                let out = try await exported(r, try await kickoff(r, path), "Observation")
                #expect(Set(out.compactMap { $0["id"]?.stringValue }) == both, "\(path)")
                #expect(out.count == both.count, "each resource once: \(path)")
            }
            // Filters AND within a query: calcium of patient a1 only.
            let a1Only = try await exported(r, try await kickoff(r, "/fhir/$export?_typeFilter=" + enc("Observation?code=\(enc(calcium))&patient=Patient/\(a1)")), "Observation")
            #expect(a1Only.count == 1 && a1Only.first?["subject"]?["reference"]?.stringValue == "Patient/\(a1)")
            // An unfiltered type of the same export is whole.
            let patients = try await exported(r, try await kickoff(r, "/fhir/$export?_type=Patient,Observation&_typeFilter=" + enc("Observation?code=" + enc(calcium))), "Patient")
            #expect(patients.count == 2)
            let audit = try await AuditEntry.query(on: r.app.db).filter(\.$action == "export").all()
            #expect(audit.contains { $0.detail.contains("_typeFilter Observation?code=\(calcium)") }, "\(audit.map(\.detail))")
        }
    }

    /// Bulk Data 2.0 kick-off by POST of a Parameters resource, with `patient` (Patient level only):
    /// the export holds those patients' compartments and nothing else; a patient that is unknown,
    /// deleted or at another site is a 400 naming it; `patient` by GET or at system level is refused.
    @Test func postKickoffWithPatientsExportsOnlyThem() async throws {
        try await TestRegistry.run { r in
            let a1 = try await r.createPatient(mrn: "PK-1"), a2 = try await r.createPatient(mrn: "PK-2"), a3 = try await r.createPatient(mrn: "PK-3")
            let b1 = try await r.createPatient(site: "B", mrn: "PK-4")
            for p in [a1, a2, a3] { try await addRecords(r, p, as: "clinA") }
            func parameters(_ items: [String]) -> String { #"{"resourceType": "Parameters", "parameter": ["# + items.joined(separator: ",") + "]}" }
            func patient(_ id: String) -> String { #"{"name": "patient", "valueReference": {"reference": "Patient/"# + id + #""}}"# }
            let typeParam = #"{"name": "_type", "valueString": "Patient,Observation"}"#
            let started = try await r.send(.POST, "/fhir/Patient/$export", as: "clinA", json: parameters([typeParam, patient(a1), patient(a3)]), headers: Self.kickoffHeaders)
            let observations = try await exported(r, started, "Observation")
            #expect(Set(observations.compactMap { $0["subject"]?["reference"]?.stringValue }) == ["Patient/\(a1)", "Patient/\(a3)"])
            #expect(observations.count == 4)
            let manifestRequest = try await finished(r, Self.path(started.headers.first(name: .contentLocation) ?? "")).json["request"]?.stringValue
            #expect(manifestRequest?.hasSuffix("/fhir/Patient/$export") == true)
            let patients = try await exported(r, try await r.send(.POST, "/fhir/Patient/$export", as: "clinA", json: parameters([typeParam, patient(a2)]), headers: Self.kickoffHeaders), "Patient")
            #expect(patients.compactMap { $0["id"]?.stringValue } == [a2])
            // The named patients' audit trails show the export.
            let trail = try await AuditEntry.query(on: r.app.db).filter(\.$action == "export").all()
            #expect(Set(trail.compactMap(\.patientID)) == Set([a1, a2, a3].map { $0.lowercased() }))
            // A _typeFilter in the body works as in the query string.
            let filtered = try await exported(r, try await r.send(.POST, "/fhir/Patient/$export", as: "clinA", json: parameters([
                #"{"name": "_typeFilter", "valueString": "Observation?code=http://loinc.org|2777-1"}"#, patient(a2)]), headers: Self.kickoffHeaders), "Observation")
            #expect(filtered.count == 1 && JSONWriter.write(filtered.first ?? .null, pretty: false).contains("\"2777-1\""))

            let jobs = try await BulkExportJob.query(on: r.app.db).count()
            let deleted = try await r.createPatient(mrn: "PK-5")
            let removal = try await r.send(.DELETE, "/api/v1/patients/\(deleted)", as: "clinA", headers: ["If-Match": VersionCheck.etag(1)])
            #expect(removal.status == .noContent, "\(removal.text)")
            for (path, body, element, needle) in [
                ("/fhir/Patient/$export", parameters([patient(a1), patient(b1)]), "patient", b1.lowercased()),
                ("/fhir/Patient/$export", parameters([patient(UUID().uuidString)]), "patient", "not a patient you can export"),
                ("/fhir/Patient/$export", parameters([patient(deleted)]), "patient", deleted.lowercased()),
                ("/fhir/Patient/$export", parameters([#"{"name": "patient", "valueReference": {"reference": "Group/1"}}"#]), "patient", "Group/1"),
                ("/fhir/$export", parameters([patient(a1)]), "patient", "system-level"),
                ("/fhir/Patient/$export", #"{"resourceType": "Bundle"}"#, "Parameters", "Bundle"),
                ("/fhir/Patient/$export", parameters([#"{"name": "_type"}"#]), "Parameters.parameter[0].value[x]", "value"),
                ("/fhir/Patient/$export?_type=Patient", parameters([]), "url", "Parameters body"),
            ] {
                let reply = try await r.send(.POST, path, as: "clinA", json: body, headers: Self.kickoffHeaders)
                #expect(reply.status == .badRequest, "\(path) \(body): \(reply.text)")
                #expect(reply.text.contains("\"\(element)\""), "\(path) \(body): \(reply.text)")
                #expect(reply.text.contains(needle), "\(path) \(body): \(reply.text)")
            }
            let byGet = try await kickoff(r, "/fhir/Patient/$export?patient=Patient/\(a1)")
            #expect(byGet.status == .badRequest && byGet.text.contains("POST"), "\(byGet.text)")
            #expect(try await BulkExportJob.query(on: r.app.db).count() == jobs, "a refused kick-off starts no job")
        }
    }

    /// Bulk Data 2.0 manifest `deleted`: a `_since` export lists, as transaction Bundles of DELETE
    /// entries, the resources of its scope deleted since: a deleted record's resources, and a deleted
    /// patient's Patient and whole compartment. They are not in the output; without `_since` there
    /// is no `deleted`; with nothing deleted it is empty.
    @Test func sinceExportListsWhatWasDeletedSinceAsDeleteBundles() async throws {
        try await TestRegistry.run { r in
            let a1 = try await r.createPatient(mrn: "DL-1"), a2 = try await r.createPatient(mrn: "DL-2")
            let b1 = try await r.createPatient(site: "B", mrn: "DL-3")
            for (p, user) in [(a1, "clinA"), (a2, "clinA"), (b1, "clinB")] { try await addRecords(r, p, as: user) }
            let lab = try await r.send(.POST, "/api/v1/patients/\(a1)/labs", as: "clinA", json: #"{"test": "albumin", "value": 3.9, "unit": "g/dL", "date": "2026-11-03"}"#)
            #expect(lab.status == .created, "\(lab.text)")
            // a2's compartment as exported before it is deleted.
            var compartment = Set<String>()
            _ = try await FHIRExport.run(on: r.app.db, patient: UUID(uuidString: a2), today: TestRegistry.today) { batch in
                for (type, resources) in batch { for res in resources { compartment.insert("\(type.rawValue)/\(res["id"]?.stringValue ?? "")") } }
            }
            #expect(compartment.count >= 4, "\(compartment)")
            try await Task.sleep(for: .milliseconds(20))
            let since = ISOTimestamp.isoMillis(Date())
            try await Task.sleep(for: .milliseconds(20))
            let nothing = try await finished(r, Self.path(try await kickoff(r, "/fhir/$export?_since=\(since)").headers.first(name: .contentLocation) ?? ""))
            #expect(nothing.json["deleted"] == .array([]), "\(nothing.text)")
            let plain = try await finished(r, Self.path(try await kickoff(r, "/fhir/$export").headers.first(name: .contentLocation) ?? ""))
            #expect(plain.json["deleted"] == nil, "no _since, no deleted")

            let headers: HTTPHeaders = ["If-Match": VersionCheck.etag(1)]
            #expect(try await r.send(.DELETE, "/api/v1/labs/\(lab.id)", as: "clinA", headers: headers).status == .noContent)
            #expect(try await r.send(.DELETE, "/api/v1/patients/\(a2)", as: "clinA", headers: headers).status == .noContent)
            #expect(try await r.send(.DELETE, "/api/v1/patients/\(b1)", as: "clinB", headers: headers).status == .noContent)

            func deletions(_ query: String) async throws -> (deleted: Set<String>, output: Set<String>) {
                let started = try await kickoff(r, "/fhir/$export?_since=\(since)" + query)
                #expect(started.status == .accepted, "\(started.text)")
                let done = try await finished(r, Self.path(started.headers.first(name: .contentLocation) ?? ""))
                var output = Set<String>()
                if case .array(let outputs)? = done.json["output"] {
                    for item in outputs {
                        let file = try await r.send(.GET, Self.path(item["url"]?.stringValue ?? ""), as: "clinA")
                        for res in lines(file.text) { output.insert("\(res["resourceType"]?.stringValue ?? "")/\(res["id"]?.stringValue ?? "")") }
                    }
                }
                guard case .array(let items)? = done.json["deleted"], let item = items.first, items.count == 1 else { return ([], output) }
                #expect(item["type"] == "Bundle", "\(done.text)")
                let file = try await r.send(.GET, Self.path(item["url"]?.stringValue ?? ""), as: "clinA")
                #expect(file.status == .ok && file.headers.first(name: .contentType) == "application/fhir+ndjson", "\(file.text)")
                #expect(try await r.send(.GET, Self.path(item["url"]?.stringValue ?? ""), as: "clinB").status == .notFound)
                var deleted = Set<String>()
                for bundle in lines(file.text) {
                    #expect(bundle["resourceType"] == "Bundle" && bundle["type"] == "transaction")
                    guard case .array(let entries)? = bundle["entry"] else { continue }
                    for entry in entries {
                        #expect(entry["request"]?["method"] == "DELETE")
                        deleted.insert(entry["request"]?["url"]?.stringValue ?? "")
                    }
                }
                #expect(item["count"] == .number(Double(lines(file.text).count)))
                return (deleted, output)
            }
            let all = try await deletions("")
            let labID = lab.id.lowercased()
            // The lab, and a2 whole; nothing of site B's deleted patient (another clinician's site).
            #expect(all.deleted == compartment.union(["Observation/\(labID)"]), "\(all.deleted.symmetricDifference(compartment.union(["Observation/\(labID)"])))")
            #expect(all.deleted.isDisjoint(with: all.output))
            #expect(!all.deleted.contains { $0.contains(b1.lowercased()) })
            // Only the requested types.
            let patients = try await deletions("&_type=Patient")
            #expect(patients.deleted == ["Patient/\(a2.lowercased())"])
        }
    }

    /// Bulk Data 2.0 `_elements` (and its "Group Membership Request Pattern", `_type=Patient&_elements=id`):
    /// the named elements plus the mandatory ones, tagged SUBSETTED; a type no name applies to is whole.
    @Test func elementsCutTheNamedTypesDown() async throws {
        try await TestRegistry.run { r in
            let a1 = try await r.createPatient(mrn: "EL-1")
            try await addRecords(r, a1, as: "clinA")
            let ids = try await exported(r, try await kickoff(r, "/fhir/Patient/$export?_type=Patient&_elements=id"), "Patient")
            #expect(ids.count == 1)
            #expect(ids.first.map { Set(($0.objectValue?.keys ?? [])) } == ["resourceType", "id", "meta"], "\(ids)")
            #expect(JSONWriter.write(ids.first ?? .null, pretty: false).contains(#""code":"SUBSETTED""#))
            let started = try await kickoff(r, "/fhir/$export?_type=Patient,Observation&_elements=Observation.value")
            let observations = try await exported(r, started, "Observation")
            #expect(observations.count == 2)
            for o in observations {
                // value[x] named; status and code are mandatory in R4; subject and effective[x] are not kept.
                #expect(Set(o.objectValue?.keys ?? []) == ["resourceType", "id", "meta", "status", "code", "valueQuantity"], "\(o)")
            }
            let patients = try await exported(r, started, "Patient")
            #expect(patients.first?["name"] != nil && !JSONWriter.write(patients.first ?? .null, pretty: false).contains("SUBSETTED"), "Patient is whole")
        }
    }

    /// `meta.lastUpdated` has whole seconds and `_since` (a transaction time) milliseconds: a resource
    /// changed later in the second of `_since` must not be missed by the incremental export.
    @Test func sinceComparesAtTheSecondOfLastUpdated() {
        let resource = JSONValue.object(JSONObject([("resourceType", "Patient"), ("meta", .object(JSONObject([("lastUpdated", "2026-12-07T12:03:19Z")])))]))
        let instant = { (text: String) in FHIRDates.instant(text)! }
        #expect(FHIRExport.changed(resource, since: instant("2026-12-07T12:03:19.212Z")))
        #expect(FHIRExport.changed(resource, since: instant("2026-12-07T12:03:19Z")))
        #expect(!FHIRExport.changed(resource, since: instant("2026-12-07T12:03:20Z")))
        #expect(!FHIRExport.changed(resource, since: instant("2026-12-07T12:03:20.001Z")))
    }

    /// Each `_typeFilter` is checked as the search API checks its search, and named on the kick-off.
    @Test func badTypeFiltersAre400NamingTheFilter() async throws {
        try await TestRegistry.run { r in
            for (filter, extra, needle) in [
                ("Observation", "", "<ResourceType>?"),
                ("Observation?", "", "no search parameters"),
                ("Practitioner?name=x", "", "Practitioner"),
                ("Flag?patient=x", "", "Flag"),
                ("Observation?foo=1", "", "foo"),
                ("Observation?date=yesterday", "", "date=yesterday"),
                ("Observation?code=x&_include=Observation:patient", "", "_include"),
                ("Observation?_count=5", "", "_count"),
                ("Observation?code=x", "&_type=Patient", "_type leaves out"),
            ] {
                let path = "/fhir/$export?_typeFilter=" + FHIRSearch.encode(filter) + extra
                let reply = try await kickoff(r, path)
                #expect(reply.status == .badRequest, "\(filter): \(reply.text)")
                #expect(reply.text.contains("\"_typeFilter\""), "\(filter): \(reply.text)")
                #expect(reply.text.contains(needle), "\(filter): \(reply.text)")
            }
            #expect(try await BulkExportJob.query(on: r.app.db).count() == 0)
        }
    }

    @Test func badKickoffsAre400AndOtherRolesAre403() async throws {
        try await TestRegistry.run { r in
            for (path, headers, element) in [
                ("/fhir/$export", HTTPHeaders([("Accept", "application/fhir+json")]), "Prefer"),
                ("/fhir/$export", HTTPHeaders([("Prefer", "respond-async")]), "Accept"),
                ("/fhir/$export?_type=Flag", Self.kickoffHeaders, "_type"),
                ("/fhir/$export?_type=Patient,Practitioner", Self.kickoffHeaders, "_type"),
                ("/fhir/$export?_outputFormat=text/csv", Self.kickoffHeaders, "_outputFormat"),
                ("/fhir/$export?_since=yesterday", Self.kickoffHeaders, "_since"),
                ("/fhir/$export?includeAssociatedData=LatestProvenanceResources", Self.kickoffHeaders, "includeAssociatedData"),
                ("/fhir/$export?_elements=Practitioner.id", Self.kickoffHeaders, "_elements"),
                ("/fhir/$export?_elements=Patient.", Self.kickoffHeaders, "_elements"),
                ("/fhir/$export?_typeFilter=Observation%3F_sort%3Ddate", Self.kickoffHeaders, "_typeFilter"),
            ] {
                let reply = try await kickoff(r, path, headers: headers)
                #expect(reply.status == .badRequest, "\(path): \(reply.text)")
                #expect(reply["resourceType"] == "OperationOutcome")
                #expect(reply.text.contains("\"\(element)\""), "\(path): \(reply.text)")
            }
            #expect(try await kickoff(r, "/fhir/Observation/$export").status == .notFound)
            #expect(try await kickoff(r, as: "research").status == .forbidden)
            #expect(try await kickoff(r, as: "admin").status == .forbidden)
            #expect(try await BulkExportJob.query(on: r.app.db).count() == 0)
            #expect(try await r.send(.GET, "/fhir/$export-status/\(UUID().uuidString)", as: "clinA").status == .notFound)
        }
    }

    @Test func deleteCancelsAndRemovesTheJobAndItsFiles() async throws {
        try await TestRegistry.run { r in
            let a1 = try await r.createPatient(mrn: "BC-1")
            try await addRecords(r, a1, as: "clinA")
            let started = try await kickoff(r)
            let status = Self.path(started.headers.first(name: .contentLocation) ?? "")
            _ = try await finished(r, status)
            let id = UUID(uuidString: String(status.split(separator: "/").last ?? ""))!
            let directory = r.app.bulkExports.jobDirectory(id)
            #expect(FileManager.default.fileExists(atPath: directory))
            #expect(try await r.send(.DELETE, status, as: "clinB").status == .notFound)
            let cancelled = try await r.send(.DELETE, status, as: "clinA")
            #expect(cancelled.status == .accepted, "\(cancelled.text)")
            #expect(try await r.send(.GET, status, as: "clinA").status == .notFound)
            #expect(!FileManager.default.fileExists(atPath: directory))
            #expect(try await BulkExportJob.query(on: r.app.db).count() == 0)
            // A job cancelled while it runs leaves nothing either.
            let running = try await kickoff(r)
            let runningStatus = Self.path(running.headers.first(name: .contentLocation) ?? "")
            #expect(try await r.send(.DELETE, runningStatus, as: "clinA").status == .accepted)
            #expect(try await r.send(.GET, runningStatus, as: "clinA").status == .notFound)
            #expect(try await BulkExportJob.query(on: r.app.db).count() == 0)
        }
    }

    @Test func aJobCutOffByARestartIsFailedAndOldJobsExpire() async throws {
        try await TestRegistry.run { r in
            let clinA = try await User.query(on: r.app.db).filter(\.$username == "clinA").first()!.id!
            // A row that says running with no task in this process: the server was restarted.
            let orphan = BulkExportJob(id: UUID(), ownerID: clinA, ownerUsername: "clinA", requestURL: "http://localhost/fhir/$export",
                                       types: FHIRExport.types, since: nil, transactionTime: Date())
            try await orphan.create(on: r.app.db)
            let reply = try await r.send(.GET, "/fhir/$export-status/\(orphan.id!.uuidString)", as: "clinA")
            #expect(reply.status == .internalServerError, "\(reply.text)")
            #expect(reply["resourceType"] == "OperationOutcome")
            #expect(reply.text.contains("server stopped"))
            #expect(try await BulkExportJob.find(orphan.id!, on: r.app.db)?.state == .failed)
            // Over 24 h after its transaction time a job and its files are deleted.
            let old = BulkExportJob(id: UUID(), ownerID: clinA, ownerUsername: "clinA", requestURL: "http://localhost/fhir/$export",
                                    types: [.Patient], since: nil, transactionTime: Date().addingTimeInterval(-BulkExportRunner.lifetime - 60))
            old.stateText = BulkExportJob.State.complete.rawValue
            try await old.create(on: r.app.db)
            let directory = r.app.bulkExports.jobDirectory(old.id!)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            #expect(try await r.send(.GET, "/fhir/$export-status/\(old.id!.uuidString)", as: "clinA").status == .notFound)
            #expect(!FileManager.default.fileExists(atPath: directory))
            #expect(try await BulkExportJob.find(old.id!, on: r.app.db) == nil)
            #expect(try await BulkExportJob.find(orphan.id!, on: r.app.db) != nil)
        }
    }

    /// Several server processes behind one PostgreSQL database: a poll answered by a process that
    /// does not run the job takes it as running while the running process renews its heartbeat
    /// (every 10 s), and as cut off once none came for 60 s (migration 015).
    @Test func aJobAnotherProcessRunsStaysRunningWhileItsHeartbeatIsRecent() async throws {
        try await TestRegistry.run { r in
            let clinA = try await User.query(on: r.app.db).filter(\.$username == "clinA").first()!.id!
            func job(heartbeat: TimeInterval?) async throws -> UUID {
                let job = BulkExportJob(id: UUID(), ownerID: clinA, ownerUsername: "clinA", requestURL: "http://localhost/fhir/$export",
                                        types: FHIRExport.types, since: nil, transactionTime: Date().addingTimeInterval(-300))
                job.progress = "1200 resource(s) written"
                job.heartbeatAt = heartbeat.map { Date().addingTimeInterval(-$0) }
                try await job.create(on: r.app.db)
                return job.id!
            }
            let elsewhere = try await job(heartbeat: 5)
            let reply = try await r.send(.GET, "/fhir/$export-status/\(elsewhere.uuidString)", as: "clinA")
            #expect(reply.status == .accepted, "\(reply.text)")
            #expect(reply.headers.first(name: "X-Progress") == "1200 resource(s) written")
            #expect(try await BulkExportJob.find(elsewhere, on: r.app.db)?.state == .running)
            let stopped = try await job(heartbeat: BulkExportRunner.heartbeatTimeout + 5)
            let failed = try await r.send(.GET, "/fhir/$export-status/\(stopped.uuidString)", as: "clinA")
            #expect(failed.status == .internalServerError, "\(failed.text)")
            #expect(failed.text.contains("server stopped"))
            #expect(try await BulkExportJob.find(stopped, on: r.app.db)?.state == .failed)
            // The running process's beat renews a running job, and leaves a finished one alone.
            let now = Date()
            #expect(try await BulkExportRunner.heartbeat(elsewhere, on: r.app.db, now: now))
            let renewed = try #require(try await BulkExportJob.find(elsewhere, on: r.app.db)?.heartbeatAt)
            #expect(abs(renewed.timeIntervalSince(now)) < 0.01)
            #expect(try await BulkExportRunner.heartbeat(stopped, on: r.app.db, now: now))
            #expect(try await BulkExportJob.find(stopped, on: r.app.db)?.heartbeatAt.map { now.timeIntervalSince($0) > BulkExportRunner.heartbeatTimeout } == true)
            // A job cancelled through another process (its row deleted): the beat says so, and the runner stops it.
            try await BulkExportJob.query(on: r.app.db).filter(\.$id == elsewhere).delete()
            #expect(try await BulkExportRunner.heartbeat(elsewhere, on: r.app.db) == false)
        }
    }

    @Test func theCapabilityStatementListsTheExportOperations() async throws {
        try await TestRegistry.run { r in
            let meta = try await r.send(.GET, "/fhir/metadata", as: "clinA")
            let text = meta.text
            #expect(text.contains("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"))
            #expect(text.contains("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"))
            // The kick-off parameters it takes are stated, since the definition URL cannot say them.
            guard case .array(let rest)? = meta.json["rest"], case .array(let operations)? = rest.first?["operation"] else { Issue.record("no system operations"); return }
            let export = operations.first { $0["name"]?.stringValue == "export" }?["documentation"]?.stringValue ?? ""
            #expect(["_typeFilter", "patient", "POST"].allSatisfy(export.contains), "\(export)")
        }
    }
}
