@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import Testing
import VaporTesting

/// System-level history (`GET /fhir/_history`, R4 http.html#history): the union of the type
/// histories at the caller's sites, newest first, paged by resources (`_count`, next link),
/// limited with `_since`; also as a GET entry of a batch Bundle.
@Suite(.serialized) struct FHIRSystemHistoryTests {
    typealias W = FHIRWriteTests

    /// The request and reply helpers of the type history's tests.
    let h = FHIRTypeHistoryTests()
    func fhir(_ r: TestRegistry, _ method: HTTPMethod, _ path: String, as user: String, body: String? = nil, headers: HTTPHeaders = [:]) async throws -> TestRegistry.Reply {
        try await h.fhir(r, method, path, as: user, body: body, headers: headers)
    }
    func entries(_ reply: TestRegistry.Reply) -> [JSONValue] { h.entries(reply) }
    func next(_ reply: TestRegistry.Reply) -> String? { h.next(reply) }
    func id(_ reply: TestRegistry.Reply) -> String { h.id(reply) }

    /// An entry as "METHOD Type/id W/"v"", to compare lists of versions.
    func version(_ entry: JSONValue) -> String {
        let url = entry["fullUrl"]?.stringValue ?? "?"
        let path = url.split(separator: "/").suffix(2).joined(separator: "/")
        return "\(entry["request"]?["method"]?.stringValue ?? "?") \(path) \(entry["response"]?["etag"]?.stringValue ?? "?")"
    }

    @Test func listsEveryTypesVersionsOfTheCallersSitesNewestFirst() async throws {
        try await TestRegistry.run { r in
            let patient = id(try await fhir(r, .POST, "/fhir/Patient", as: "clinA", body: W.patient("SH-1")))
            let lab = try await fhir(r, .POST, "/fhir/Observation", as: "clinA", body: W.calcium(subject: "Patient/\(patient)"))
            #expect(lab.status == .created, "\(lab.text)")
            let other = id(try await fhir(r, .POST, "/fhir/Patient", as: "clinB", body: W.patient("SH-2", site: "B")))
            try await Task.sleep(for: .milliseconds(1_200))
            let since = ISOTimestamp.iso(Date())
            let updated = try await fhir(r, .PUT, "/fhir/Patient/\(patient)", as: "clinA", body: W.patient("SH-1", family: "Roe", id: patient), headers: ["If-Match": "W/\"1\""])
            #expect(updated.status == .ok, "\(updated.text)")

            let all = try await fhir(r, .GET, "/fhir/_history", as: "clinA")
            #expect(all.status == .ok, "\(all.text)")
            #expect(all["type"] == "history")
            #expect(all["total"] == nil, "no total: paged by resources")
            #expect(!all.text.contains(other), "another site's patient is not listed")
            let list = entries(all).map(version)
            #expect(list.first == "PUT Patient/\(patient) W/\"2\"", "newest first: \(list)")
            #expect(list.contains("POST Patient/\(patient) W/\"1\""))
            #expect(list.contains { $0.hasPrefix("POST Observation/") }, "\(list)")
            // The union of the type histories: the same versions, none lost, none added.
            var union: [String] = []
            for type in FHIRSystemHistory.types {
                let typeHistory = try await fhir(r, .GET, "/fhir/\(type.rawValue)/_history", as: "clinA")
                #expect(typeHistory.status == .ok, "\(typeHistory.text)")
                union += entries(typeHistory).map(version)
            }
            #expect(list.sorted() == union.sorted(), "\(list) vs \(union)")

            // Pages of one entry, followed by their next links, give the same list.
            var paged: [String] = []
            var path: String? = "/fhir/_history?_count=1"
            while let p = path, paged.count <= list.count {
                let page = try await fhir(r, .GET, p, as: "clinA")
                #expect(page.status == .ok, "\(page.text)")
                paged += entries(page).map(version)
                path = next(page).map { "/fhir" + String($0.split(separator: "/fhir", maxSplits: 1).last ?? "") }
            }
            #expect(paged == list)

            let recent = try await fhir(r, .GET, "/fhir/_history?_since=\(since)", as: "clinA")
            #expect(entries(recent).map(version) == ["PUT Patient/\(patient) W/\"2\""], "\(recent.text)")
            let b = try await fhir(r, .GET, "/fhir/_history", as: "clinB")
            #expect(entries(b).map(version) == ["POST Patient/\(other) W/\"1\""], "\(b.text)")
        }
    }

    @Test func badParametersRolesAndBundleEntries() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient(mrn: "SH-3")
            let bad = try await fhir(r, .GET, "/fhir/_history?patient=\(patient)", as: "clinA")
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("system _history"), "\(bad.text)")
            let since = try await fhir(r, .GET, "/fhir/_history?_since=yesterday", as: "clinA")
            #expect(since.status == .badRequest)
            for role in ["research", "admin"] {
                #expect(try await fhir(r, .GET, "/fhir/_history", as: role).status == .forbidden)
            }
            let plain = try await fhir(r, .GET, "/fhir/_history", as: "clinA")
            let batch = try await fhir(r, .POST, "/fhir", as: "clinA", body: W.transaction("batch", [FHIRBundleReadTests.get("_history")]))
            #expect(batch.status == .ok, "\(batch.text)")
            let answer = entries(batch).first
            #expect(answer?["response"]?["status"] == "200 OK")
            #expect(answer?["resource"]?["entry"] == plain["entry"], "\(batch.text)")
            #expect(try await AuditEntry.query(on: r.app.db).filter(\.$resourceType == "fhir").filter(\.$resourceID == "_history").count() == 2)
            let metadata = try await fhir(r, .GET, "/fhir/metadata", as: "clinA")
            #expect(metadata.text.contains("\"history-system\""))
        }
    }
}
