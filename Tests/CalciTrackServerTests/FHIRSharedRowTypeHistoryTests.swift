@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import Testing
import VaporTesting

/// Type-level history of Observation and Condition (`FHIRSharedRowTypeHistory`): the union of
/// the instance histories of the type's resources at the caller's sites, paged by resource.
@Suite(.serialized) struct FHIRSharedRowTypeHistoryTests {
    func get(_ r: TestRegistry, _ path: String, as user: String = "clinA") async throws -> TestRegistry.Reply {
        try await r.send(.GET, path, as: user)
    }

    func entries(_ reply: TestRegistry.Reply) -> [JSONValue] {
        guard case .array(let list)? = reply["entry"] else { return [] }
        return list
    }

    /// An entry as (resource id, version, method), comparable between type and instance history.
    func keys(_ list: [JSONValue]) -> [String] {
        list.map { e in
            let id = e["fullUrl"]?.stringValue?.split(separator: "/").last.map(String.init) ?? "?"
            return "\(id) \(e["response"]?["etag"]?.stringValue ?? "?") \(e["request"]?["method"]?.stringValue ?? "?")"
        }
    }

    /// Every page of a type history, following next links with `_count`.
    func allPages(_ r: TestRegistry, _ path: String) async throws -> [JSONValue] {
        var list: [JSONValue] = []
        var next: String? = path
        while let url = next {
            let reply = try await get(r, url)
            #expect(reply.status == .ok, "\(url): \(reply.text)")
            #expect(reply["total"] == nil)
            list += entries(reply)
            guard case .array(let links)? = reply["link"],
                  let link = links.first(where: { $0["relation"]?.stringValue == "next" })?["url"]?.stringValue else { break }
            next = "/fhir" + String(link.split(separator: "/fhir", maxSplits: 1).last ?? "")
        }
        return list
    }

    @Test func observationAndConditionHistoriesAreTheUnionOfTheirInstanceHistories() async throws {
        try await TestRegistry.run { r in
            let patient = try await r.createPatient(mrn: "TH-1", extra: #", "weightKg": 61, "ssc": {"subtype": "diffuse", "diagnosisDate": "2010"}"#)
            let other = try await r.createPatient(site: "B", mrn: "TH-2", extra: #", "weightKg": 70"#)
            let lab = try await r.send(.POST, "/api/v1/patients/\(patient)/labs", as: "clinA", json: #"{"test": "calcium", "value": 9.5, "unit": "mg/dL", "date": "2026-11-01"}"#)
            let vitals = try await r.send(.POST, "/api/v1/patients/\(patient)/vitals", as: "clinA", json: #"{"date": "2026-11-01", "temperatureC": 37.2, "heartRate": 80}"#)
            let episode = try await r.send(.POST, "/api/v1/patients/\(patient)/infection-episodes", as: "clinA", json: #"{"onset": "2026-11-01", "outcome": "ongoing"}"#)
            for reply in [lab, vitals, episode] { #expect(reply.status == .created, "\(reply.text)") }
            // A second version of the vitals row with a third vital, and the lab deleted.
            let changed = try await r.send(.PUT, "/api/v1/vitals/\(vitals.id)", as: "clinA", json: #"{"date": "2026-11-01", "temperatureC": 37.2, "heartRate": 80, "respiratoryRate": 18}"#,
                                           headers: ["If-Match": vitals.etag])
            #expect(changed.status == .ok, "\(changed.text)")
            let gone = try await r.send(.DELETE, "/api/v1/labs/\(lab.id)", as: "clinA", headers: ["If-Match": "\"1\""])
            #expect(gone.status == .noContent, "\(gone.text)")
            _ = try await r.send(.POST, "/api/v1/patients/\(other)/labs", as: "clinB", json: #"{"test": "calcium", "value": 9.1, "unit": "mg/dL", "date": "2026-11-01"}"#)

            let observations = ["weight-\(patient)", lab.id, "\(vitals.id)-temperature", "\(vitals.id)-heart-rate", "\(vitals.id)-respiratory-rate"]
            let conditions = ["ssc-\(patient)", episode.id]
            for (type, ids) in [("Observation", observations), ("Condition", conditions)] {
                var expected: [String] = []
                for id in ids {
                    let history = try await get(r, "/fhir/\(type)/\(id)/_history")
                    #expect(history.status == .ok, "\(type)/\(id): \(history.text)")
                    expected += keys(entries(history))
                }
                #expect(expected.count >= (type == "Observation" ? 8 : 2), "\(expected)")
                let whole = try await get(r, "/fhir/\(type)/_history")
                #expect(whole.status == .ok, "\(whole.text)")
                #expect(whole["type"] == "history")
                let listed = keys(entries(whole))
                #expect(listed.sorted() == expected.sorted(), "\(type): \(listed) vs \(expected)")
                #expect(!whole.text.contains(other), "another site's resources are listed")
                // Newest first, and paging by resource gives the same list in the same order.
                let times = entries(whole).compactMap { $0["response"]?["lastModified"]?.stringValue }
                #expect(times == times.sorted(by: >), "\(times)")
                let paged = try await allPages(r, "/fhir/\(type)/_history?_count=2")
                #expect(keys(paged) == listed)
                #expect(try await allPages(r, "/fhir/\(type)/_history?_count=2").count == expected.count)
            }
            // The deleted lab is a DELETE of that Observation; the vitals row's second version holds three.
            let all = keys(entries(try await get(r, "/fhir/Observation/_history")))
            #expect(all.contains("\(lab.id) W/\"2\" DELETE"), "\(all)")
            #expect(all.filter { $0.hasPrefix(vitals.id) && $0.contains("W/\"2\"") }.count == 3, "\(all)")
            let none = try await get(r, "/fhir/Observation/_history?_since=2099-01-01T00:00:00Z")
            #expect(entries(none).isEmpty)
        }
    }
}
