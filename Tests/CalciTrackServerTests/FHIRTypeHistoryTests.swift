@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import Testing
import VaporTesting

/// Type-level history (`GET /fhir/{type}/_history`): the versions of the caller's sites,
/// newest first, paged with `_count` (next link), limited with `_since`.
@Suite(.serialized) struct FHIRTypeHistoryTests {
    typealias W = FHIRWriteTests

    func fhir(_ r: TestRegistry, _ method: HTTPMethod, _ path: String, as user: String, body: String? = nil, headers: HTTPHeaders = [:]) async throws -> TestRegistry.Reply {
        var h = headers
        if body != nil { h.replaceOrAdd(name: .contentType, value: "application/fhir+json") }
        return try await r.send(method, path, as: user, json: body, headers: h)
    }

    func entries(_ reply: TestRegistry.Reply) -> [JSONValue] {
        guard case .array(let list)? = reply["entry"] else { return [] }
        return list
    }

    func next(_ reply: TestRegistry.Reply) -> String? {
        guard case .array(let links)? = reply["link"] else { return nil }
        return links.first { $0["relation"]?.stringValue == "next" }?["url"]?.stringValue
    }

    func id(_ reply: TestRegistry.Reply) -> String {
        reply.locationID
    }

    @Test func patientHistoryListsTheCallersSitesNewestFirstAndPages() async throws {
        try await TestRegistry.run { r in
            let one = id(try await fhir(r, .POST, "/fhir/Patient", as: "clinA", body: W.patient("H-1")))
            let two = id(try await fhir(r, .POST, "/fhir/Patient", as: "clinA", body: W.patient("H-2")))
            let other = id(try await fhir(r, .POST, "/fhir/Patient", as: "clinB", body: W.patient("H-3", site: "B")))
            // Later versions one second on, so _since can tell them apart.
            try await Task.sleep(for: .milliseconds(1_200))
            let since = ISOTimestamp.iso(Date())
            let updated = try await fhir(r, .PUT, "/fhir/Patient/\(one)", as: "clinA", body: W.patient("H-1", family: "Roe", id: one), headers: ["If-Match": "W/\"1\""])
            #expect(updated.status == .ok, "\(updated.text)")
            let deleted = try await fhir(r, .DELETE, "/fhir/Patient/\(two)", as: "clinA")
            #expect(deleted.status == .ok, "\(deleted.text)")

            let all = try await fhir(r, .GET, "/fhir/Patient/_history", as: "clinA")
            #expect(all.status == .ok, "\(all.text)")
            #expect(all["type"] == "history")
            #expect(all["total"] == 4, "\(all.text)")
            #expect(!all.text.contains(other))
            let list = entries(all)
            #expect(list.count == 4)
            #expect(list.first?["request"]?["method"] == "DELETE", "newest first: \(all.text)")
            #expect(all.text.contains("\"Roe\""))

            let page1 = try await fhir(r, .GET, "/fhir/Patient/_history?_count=3", as: "clinA")
            #expect(entries(page1).count == 3)
            let link = try #require(next(page1))
            #expect(link.contains("_cursor=") && !link.contains("_offset"), "\(link)")
            let path = "/fhir" + String(link.split(separator: "/fhir", maxSplits: 1).last ?? "")
            let page2 = try await fhir(r, .GET, path, as: "clinA")
            #expect(entries(page2).count == 1, "\(page2.text)")
            #expect(next(page2) == nil)
            #expect(entries(page1) + entries(page2) == list, "the pages are the whole history, in order")
            // _offset is still answered.
            let offset = try await fhir(r, .GET, "/fhir/Patient/_history?_count=2&_offset=2", as: "clinA")
            #expect(entries(offset) == Array(list[2...]), "\(offset.text)")

            let recent = try await fhir(r, .GET, "/fhir/Patient/_history?_since=\(since)", as: "clinA")
            #expect(recent["total"] == 2, "\(recent.text)")
            #expect(Set(entries(recent).compactMap { $0["request"]?["method"]?.stringValue }) == ["PUT", "DELETE"])
            let future = try await fhir(r, .GET, "/fhir/Patient/_history?_since=2099-01-01T00:00:00Z", as: "clinA")
            #expect(future["total"] == 0)
            let b = try await fhir(r, .GET, "/fhir/Patient/_history", as: "clinB")
            #expect(b["total"] == 1)
        }
    }

    /// Pages follow a cursor (where the last page stopped), not an offset: versions written while
    /// a client pages (newest first, so before the pages it has read) neither repeat nor hide an
    /// entry of the walk, and a deep page does not re-read the rows before it.
    @Test func pagingIsStableWhileVersionsAreWritten() async throws {
        try await TestRegistry.run { r in
            var ids: [String] = []
            for n in 1...5 { ids.append(id(try await fhir(r, .POST, "/fhir/Patient", as: "clinA", body: W.patient("HS-\(n)")))) }
            let before = entries(try await fhir(r, .GET, "/fhir/Patient/_history", as: "clinA"))
            #expect(before.count == 5)
            var walked: [JSONValue] = []
            var page = try await fhir(r, .GET, "/fhir/Patient/_history?_count=2", as: "clinA")
            walked += entries(page)
            // Two new versions while the client pages; with an offset, the next page would repeat two entries.
            for n in 6...7 { _ = try await fhir(r, .POST, "/fhir/Patient", as: "clinA", body: W.patient("HS-\(n)")) }
            while let link = next(page) {
                page = try await fhir(r, .GET, "/fhir" + String(link.split(separator: "/fhir", maxSplits: 1).last ?? ""), as: "clinA")
                #expect(page.status == .ok, "\(page.text)")
                walked += entries(page)
            }
            #expect(walked == before, "\(walked.count) entries walked")

            // Cursors the server did not write are named.
            for cursor in ["nonsense", "patients~\(UUID().uuidString)~1~0", "patients~\(ids[0])~x~0"] {
                let bad = try await fhir(r, .GET, "/fhir/Patient/_history?_cursor=\(cursor)", as: "clinA")
                #expect(bad.status == .badRequest && bad.text.contains("\"_cursor\""), "\(cursor): \(bad.text)")
            }
        }
    }

    @Test func badParametersAndTypesWithoutTypeHistoryAreNamed() async throws {
        try await TestRegistry.run { r in
            let since = try await fhir(r, .GET, "/fhir/Patient/_history?_since=yesterday", as: "clinA")
            #expect(since.status == .badRequest)
            #expect(since.text.contains("_since"))
            let count = try await fhir(r, .GET, "/fhir/Patient/_history?_count=-1", as: "clinA")
            #expect(count.status == .badRequest)
            #expect(count.text.contains("_count"))
            let unknown = try await fhir(r, .GET, "/fhir/Patient/_history?family=Doe", as: "clinA")
            #expect(unknown.status == .badRequest)
            #expect(unknown.text.contains("family"))
            let flags = try await fhir(r, .GET, "/fhir/Flag/_history", as: "clinA")
            #expect(flags.status == .badRequest)
            #expect(flags["resourceType"] == "OperationOutcome")
            let metadata = try await fhir(r, .GET, "/fhir/metadata", as: "clinA")
            #expect(metadata.text.contains("\"history-type\""))
        }
    }
}
