@testable import CalciTrackServer
import CalciTrackCore
import Foundation
import Testing
import VaporTesting

/// Stable paging (`SearchSnapshots`): a client following next links gets every match once, even
/// when records are created or deleted between its pages; a next link is no snapshot for anyone else.
@Suite struct FHIRSearchPagingTests {
    let read = FHIRReadTests()

    func next(_ reply: TestRegistry.Reply) -> String? {
        reply.json["link"]?.arrayValue?.first { $0["relation"] == "next" }?["url"]?.stringValue
            .map { String($0[$0.range(of: "/fhir")!.lowerBound...]) }
    }

    @Test("A lab created before the cursor and one deleted after it do not shift the pages: each match once, the deleted one left out")
    func pagesDoNotShift() async throws {
        try await TestRegistry.run { r in
            let pid = try await r.createPatient()
            var labs: [String] = []
            for day in 1...5 { labs.append(try await read.lab(r, pid, date: "2025-01-0\(day)")) }
            let first = try await r.send(.GET, "/fhir/Observation?patient=\(pid)&_count=2&_sort=date", as: "clinA")
            #expect(read.ids(first.json) == Array(labs[0..<2]) && first.json["total"] == 5)
            let link = try #require(next(first))
            #expect(link.contains("_page=") && link.contains("_offset=2"), "\(link)")
            // Meanwhile: a lab that sorts first, and the last one deleted.
            let early = try await read.lab(r, pid, date: "2024-12-31")
            let last = try await r.send(.GET, "/api/v1/labs/\(labs[4])", as: "clinA")
            #expect(try await r.send(.DELETE, "/api/v1/labs/\(labs[4])", as: "clinA", headers: ["If-Match": last.etag]).status == .noContent)
            let second = try await r.send(.GET, link, as: "clinA")
            #expect(read.ids(second.json) == Array(labs[2..<4]), "by offset alone this page repeated \(labs[1]): \(second.text)")
            #expect(second.json["total"] == 5)
            let third = try await r.send(.GET, try #require(next(second)), as: "clinA")
            #expect(read.ids(third.json).isEmpty, "the deleted lab is left out of its page: \(third.text)")
            #expect(next(third) == nil)
            // A new search sees the new lab and not the deleted one.
            let fresh = try await r.send(.GET, "/fhir/Observation?patient=\(pid)&_count=10&_sort=date", as: "clinA")
            #expect(read.ids(fresh.json) == [early] + Array(labs[0..<4]))
            // A page asked for by its own _offset (no _page) pages by offset, as before: it keeps no snapshot.
            let manual = try await r.send(.GET, "/fhir/Observation?patient=\(pid)&_count=2&_sort=date&_offset=2", as: "clinA")
            #expect(read.ids(manual.json) == Array(labs[1..<3]) && next(manual).map { !$0.contains("_page=") } == true, "\(manual.text)")
            // The link is no snapshot for another user: clinB (site B) pages by offset, with their own access.
            let other = try await r.send(.GET, link, as: "clinB")
            #expect(other.status == .ok && read.ids(other.json).isEmpty && other.json["total"] == 0, "\(other.text)")
        }
    }
}
