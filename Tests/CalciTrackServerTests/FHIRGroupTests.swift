@testable import CalciTrackServer
import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation
import Testing
import VaporTesting

/// Sites as FHIR Groups and the Bulk Data Group-level `$export` (Bulk Data 2.0 export.html
/// "Endpoint - Group of Patients": a server with Group export SHOULD support reading and searching
/// Group). A Group holds its site's patients, and only the caller's sites are Groups to them.
@Suite(.serialized) struct FHIRGroupTests {
    typealias Export = FHIRBulkExportTests

    func members(_ group: JSONValue) -> [String] {
        guard case .array(let list)? = group["member"] else { return [] }
        return list.compactMap { $0["entity"]?["reference"]?.stringValue }
    }

    @Test func aSiteIsAGroupOfItsPatientsToItsClinicians() async throws {
        try await TestRegistry.run { r in
            let a1 = try await r.createPatient(mrn: "G-1"), a2 = try await r.createPatient(mrn: "G-2")
            _ = try await r.createPatient(site: "B", mrn: "G-3")
            let gone = try await r.createPatient(mrn: "G-4")
            #expect(try await r.send(.DELETE, "/api/v1/patients/\(gone)", as: "clinA", headers: ["If-Match": VersionCheck.etag(1)]).status == .noContent)
            let groupA = r.siteA.lowercasedString
            let read = try await r.send(.GET, "/fhir/Group/\(groupA)", as: "clinA")
            #expect(read.status == .ok, "\(read.text)")
            #expect(read["resourceType"] == "Group" && read["type"] == "person" && read["actual"] == .bool(true))
            #expect(Set(members(read.json)) == ["Patient/\(a1.lowercased())", "Patient/\(a2.lowercased())"], "deleted and site B's patients are not members")
            #expect(read["quantity"] == .number(2))
            #expect(read.text.contains(#""system":"https://calcitrack.org/fhir/sid/site","value":"A""#), "\(read.text)")
            // Another site's Group is refused (403, as other reads by registry id); an unknown one is 404.
            #expect(try await r.send(.GET, "/fhir/Group/\(groupA)", as: "clinB").status == .forbidden)
            #expect(try await r.send(.GET, "/fhir/Group/\(UUID().uuidString)", as: "clinA").status == .notFound)
            #expect(try await r.send(.GET, "/fhir/Group/\(groupA)", as: "research").status == .forbidden)

            // Search: the caller's sites only, by identifier (with or without the site system) or _id.
            for (query, expected) in [("", [groupA]), ("?identifier=A", [groupA]), ("?identifier=https://calcitrack.org/fhir/sid/site%7CA", [groupA]),
                                      ("?identifier=B", []), ("?identifier=other%7CA", []), ("?_id=\(groupA.uppercased())", [groupA])] {
                let bundle = try await r.send(.GET, "/fhir/Group\(query)", as: "clinA")
                #expect(bundle.status == .ok, "\(query): \(bundle.text)")
                guard case .array(let entries)? = bundle.json["entry"] ?? .array([]) else { Issue.record("no entries"); continue }
                #expect(entries.compactMap { $0["resource"]?["id"]?.stringValue } == expected, "\(query)")
                #expect(bundle["total"] == .number(Double(expected.count)), "\(query)")
            }
            let bad = try await r.send(.GET, "/fhir/Group?name=A", as: "clinA")
            #expect(bad.status == .badRequest && bad.text.contains(#""name""#), "\(bad.text)")
            #expect(try await AuditEntry.query(on: r.app.db).filter(\.$resourceType == "fhir/Group").count() >= 7)
        }
    }

    /// The Group export holds the Group's patients and their compartments, and no other site's
    /// even for a clinician of both sites; `patient` must name members.
    @Test func groupExportHoldsTheGroupsPatientsOnly() async throws {
        try await TestRegistry.run { r in
            let a1 = try await r.createPatient(mrn: "GE-1"), a2 = try await r.createPatient(mrn: "GE-2")
            let b1 = try await r.createPatient(site: "B", mrn: "GE-3")
            try await FHIRBulkExportTests().addRecords(r, a1, as: "clinA")
            try await FHIRBulkExportTests().addRecords(r, b1, as: "clinB")
            try await Accounts.addUser(username: "clinAB", role: "clinician", password: TestRegistry.password, siteCodes: ["A", "B"], actor: "test", bcryptCost: 4, on: r.app.db)
            let token = try await Accounts.issueToken(username: "clinAB", label: "test", actor: "test", on: r.app.db)
            var both = Export.kickoffHeaders
            both.bearerAuthorization = BearerAuthorization(token: token)
            func manifest(_ started: TestRegistry.Reply) async throws -> [String: [JSONValue]] {
                #expect(started.status == .accepted, "\(started.text)")
                let status = Export.path(started.headers.first(name: .contentLocation) ?? "")
                var done = try await r.send(.GET, status, as: nil, headers: both)
                for _ in 0..<400 where done.status == .accepted {
                    try await Task.sleep(for: .milliseconds(25))
                    done = try await r.send(.GET, status, as: nil, headers: both)
                }
                #expect(done.status == .ok, "\(done.text)")
                guard case .array(let outputs)? = done.json["output"] else { return [:] }
                var files: [String: [JSONValue]] = [:]
                for output in outputs {
                    let file = try await r.send(.GET, Export.path(output["url"]?.stringValue ?? ""), as: nil, headers: both)
                    files[output["type"]?.stringValue ?? ""] = FHIRBulkExportTests().lines(file.text)
                }
                return files
            }
            let groupA = r.siteA.lowercasedString
            let files = try await manifest(try await r.send(.GET, "/fhir/Group/\(groupA)/$export", as: nil, headers: both))
            #expect(Set(files["Patient"]?.compactMap { $0["id"]?.stringValue } ?? []) == Set([a1, a2].map { $0.lowercased() }))
            #expect(!files.values.joined().contains { JSONWriter.write($0, pretty: false).contains(b1.lowercased()) }, "nothing of site B's patient")
            #expect(files["Observation"]?.count == 2)
            // The same clinician's system export has both sites.
            let all = try await manifest(try await r.send(.GET, "/fhir/$export?_type=Patient", as: nil, headers: both))
            #expect(all["Patient"]?.count == 3)
            // patient: members only.
            func parameters(_ id: String) -> String {
                #"{"resourceType": "Parameters", "parameter": [{"name": "patient", "valueReference": {"reference": "Patient/\#(id)"}}]}"#
            }
            let one = try await manifest(try await r.send(.POST, "/fhir/Group/\(groupA)/$export", as: nil, json: parameters(a2), headers: both))
            #expect(one["Patient"]?.compactMap { $0["id"]?.stringValue } == [a2.lowercased()])
            let outsider = try await r.send(.POST, "/fhir/Group/\(groupA)/$export", as: nil, json: parameters(b1), headers: both)
            #expect(outsider.status == .badRequest && outsider.text.contains("not a member of Group/\(groupA)"), "\(outsider.text)")
            // Another site's Group, an unknown Group, a non-Group instance.
            #expect(try await r.send(.GET, "/fhir/Group/\(groupA)/$export", as: "clinB", headers: Export.kickoffHeaders).status == .forbidden)
            #expect(try await r.send(.GET, "/fhir/Group/\(UUID().uuidString)/$export", as: "clinA", headers: Export.kickoffHeaders).status == .notFound)
            #expect(try await r.send(.GET, "/fhir/Patient/\(a1)/$export", as: "clinA", headers: Export.kickoffHeaders).status == .notFound)
            let audit = try await AuditEntry.query(on: r.app.db).filter(\.$action == "export").all()
            #expect(audit.contains { $0.detail.contains("Group/\(groupA) (site A)") }, "\(audit.map(\.detail))")
        }
    }
}
