import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation

/// `_include` and `_revinclude` of a search (`FHIRCapabilities.includes`, `.revincludes`).
extension FHIRSearch {
    /// `_revinclude`: the resources of each named type that point at the matches: those of the
    /// matched patients (`X:patient`, `X:subject`; Flags are computed per patient), or the
    /// measurements whose focus is a matched lesion (`Observation:focus`). The caller's sites only.
    static func revincluded(_ revincludes: [(source: FHIRResourceType, param: String)], of matches: [JSONValue], type: FHIRResourceType,
                            siteIDs: [UUID], on db: any Database, today: LocalDate) async throws -> [JSONValue] {
        let targets = matches.compactMap { $0["id"]?.stringValue }
        // The patients whose resources can point at the matches.
        let patients: [UUID] = type == .Patient ? targets.compactMap(UUID.parse)
            : matches.compactMap { $0["patient"]?["reference"]?.stringValue.flatMap { UUID.parse($0.dropFirst("Patient/".count)) } }
        guard !patients.isEmpty else { return [] }
        var result: [JSONValue] = []
        for (source, param) in revincludes {
            if source == .Flag {
                for pid in patients { result += try await FHIRAlerts.flags(patientID: pid, on: db, today: today) }
                continue
            }
            var q = Query()
            q.patients = [Array(Set(patients))]
            let found = try await resources(source, try await rows(source, q, siteIDs: siteIDs, on: db, page: false).rows, on: db, today: today)
            if param == "focus" {
                let wanted = Set(targets.map { "\(type.rawValue)/\($0)" })
                result += found.filter { r in
                    guard case .array(let focus)? = r["focus"] else { return false }
                    return focus.contains { wanted.contains($0["reference"]?.stringValue ?? "") }
                }
            } else {
                result += found
            }
        }
        return result
    }

    /// References a resource makes that `_include` follows: subject/patient and focus.
    static func references(_ resource: JSONValue, params: Set<String>) -> [String] {
        var refs: [String] = []
        let all = params.contains("*")
        if all || params.contains("patient") || params.contains("subject") {
            for key in ["subject", "patient"] { if let r = resource[key]?["reference"]?.stringValue { refs.append(r) } }
        }
        if all || params.contains("focus") {
            if case .array(let focus)? = resource["focus"] { for f in focus { if let r = f["reference"]?.stringValue { refs.append(r) } } }
        }
        return refs
    }
}
