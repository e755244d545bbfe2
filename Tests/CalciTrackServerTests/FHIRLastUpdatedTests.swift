@testable import CalciTrackServer
import CalciTrackCore
import Foundation
import Testing
import VaporTesting

/// `_lastUpdated` (R4 search.html#lastUpdated): a date search on `meta.lastUpdated`, with the
/// prefixes and precision semantics of R4 3.1.1.4.2 (a value covers the range its precision
/// gives; `gt` is after that range, `ge` from its start).
@Suite(.serialized) struct FHIRLastUpdatedTests {
    @Test("A value's precision gives its range: year, month, day (UTC), minute, second, fraction, with the time zone")
    func ranges() throws {
        func range(_ text: String) -> (String, String)? {
            LastUpdatedValue.range(text).map { (ISOTimestamp.isoMillis($0.low), ISOTimestamp.isoMillis($0.high)) }
        }
        #expect(range("2026")! == ("2026-01-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z"))
        #expect(range("2026-02")! == ("2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"))
        #expect(range("2026-12-07")! == ("2026-12-07T00:00:00.000Z", "2026-12-08T00:00:00.000Z"))
        #expect(range("2026-12-07T10:15Z")! == ("2026-12-07T10:15:00.000Z", "2026-12-07T10:16:00.000Z"))
        #expect(range("2026-12-07T10:15:30+01:00")! == ("2026-12-07T09:15:30.000Z", "2026-12-07T09:15:31.000Z"))
        #expect(range("2026-12-07T10:15:30.25-05:30")! == ("2026-12-07T15:45:30.250Z", "2026-12-07T15:45:30.260Z"))
        // R4 dateTime: a time needs its zone; impossible dates and times are not values.
        for bad in ["2026-12-07T10:15:30", "2026-13", "2026-02-30", "26-12-07", "2026-12-07T25:00Z", "2026-12-07T10:60Z",
                    "2026-12-07T10Z", "2026-12-07T10:15:30.Z", "2026-12-07T10:15+1:00", "", "2026-12-07X", "２０２６"] {
            #expect(LastUpdatedValue.range(bad) == nil, "\(bad)")
        }
    }

    @Test("Search by _lastUpdated finds what changed after an instant (a poll), on every type but Flag; a bad value is a 400 naming it")
    func search() async throws {
        try await TestRegistry.run { r in
            let pid = try await r.createPatient(mrn: "LU-1")
            func lab(_ date: String) async throws -> String {
                try await r.send(.POST, "/api/v1/patients/\(pid)/labs", as: "clinA", json: #"{"test":"calcium","value":9.1,"unit":"mg/dL","date":"\#(date)"}"#).id.lowercased()
            }
            func lastUpdated(_ id: String) async throws -> String {
                try await r.send(.GET, "/fhir/Observation/\(id)", as: "clinA")["meta"]?["lastUpdated"]?.stringValue ?? "?"
            }
            func found(_ query: String) async throws -> Set<String> {
                let bundle = try await r.send(.GET, "/fhir/Observation?patient=\(pid)&" + query, as: "clinA")
                #expect(bundle.status == .ok, "\(query): \(bundle.text)")
                guard case .array(let entries)? = bundle["entry"] else { return [] }
                return Set(entries.compactMap { $0["resource"]?["id"]?.stringValue })
            }
            let a = try await lab("2026-11-01")
            let aUpdated = try await lastUpdated(a)
            // meta.lastUpdated is to the second: the next write lands in a later second.
            try await Task.sleep(for: .milliseconds(1100))
            let b = try await lab("2026-11-02")
            let bUpdated = try await lastUpdated(b)
            #expect(aUpdated < bUpdated)

            #expect(try await found("_lastUpdated=gt\(aUpdated)") == [b], "after a's second: b only")
            #expect(try await found("_lastUpdated=ge\(aUpdated)") == [a, b])
            #expect(try await found("_lastUpdated=lt\(bUpdated)") == [a])
            #expect(try await found("_lastUpdated=\(aUpdated)") == [a], "eq: within that second")
            #expect(try await found("_lastUpdated=\(String(aUpdated.prefix(10)))") .isSuperset(of: [a]))
            #expect(try await found("_lastUpdated=lt2000") == [])
            // Two values of one parameter are an OR, two parameters an AND (a window).
            #expect(try await found("_lastUpdated=gt\(aUpdated)&_lastUpdated=lt\(bUpdated)") == [])
            #expect(try await found("_lastUpdated=\(aUpdated),\(bUpdated)") == [a, b])

            // An update moves a resource into the next poll.
            try await Task.sleep(for: .milliseconds(1100))
            let put = try await r.send(.PUT, "/api/v1/labs/\(a)", as: "clinA", json: #"{"test":"calcium","value":9.4,"unit":"mg/dL","date":"2026-11-01"}"#,
                                       headers: ["If-Match": VersionCheck.etag(1)])
            #expect(put.status == .ok, "\(put.text)")
            #expect(try await found("_lastUpdated=gt\(bUpdated)") == [a])

            // Other types: the Patient (its row's updated_at), the same in a Bulk Data _typeFilter.
            let patients = try await r.send(.GET, "/fhir/Patient?_id=\(pid)&_lastUpdated=lt2000", as: "clinA")
            #expect(patients.status == .ok && patients["total"] == 0, "\(patients.text)")
            #expect(try await r.send(.GET, "/fhir/Patient?_id=\(pid)&_lastUpdated=ge2000", as: "clinA")["total"] == 1)
            let started = try await r.send(.GET, "/fhir/$export?_type=Observation&_typeFilter=" + "Observation?_lastUpdated=gt\(bUpdated)".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!,
                                           as: "clinA", headers: FHIRBulkExportTests.kickoffHeaders)
            #expect(try await FHIRBulkExportTests().exported(r, started, "Observation").compactMap { $0["id"]?.stringValue } == [a])

            // Refused, naming the parameter: a time without its zone, a malformed date, Flag.
            for (path, expected) in [("/fhir/Observation?_lastUpdated=gt2026-12-07T10:00:00", "_lastUpdated"),
                                     ("/fhir/Observation?_lastUpdated=2026-13-01", "_lastUpdated"),
                                     ("/fhir/Flag?patient=\(pid)&_lastUpdated=gt2026-01-01", "_lastUpdated")] {
                let reply = try await r.send(.GET, path, as: "clinA")
                #expect(reply.status == .badRequest && reply["issue"]?.arrayFirst?["expression"] == .array([.string(expected)]), "\(path): \(reply.text)")
            }
            // The CapabilityStatement lists it on every type but Flag.
            let metadata = try await r.send(.GET, "/fhir/metadata", as: nil)
            guard case .array(let resources)? = metadata["rest"]?.arrayFirst?["resource"] else { Issue.record("no resources"); return }
            for resource in resources {
                let params = resource["searchParam"].flatMap { value -> [String]? in
                    guard case .array(let items) = value else { return nil }
                    return items.compactMap { $0["name"]?.stringValue }
                } ?? []
                let type = resource["type"]?.stringValue ?? ""
                #expect(params.contains("_lastUpdated") == !["Flag", "Group"].contains(type), "\(type): \(params)")
            }
        }
    }
}
