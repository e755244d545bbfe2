import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Vapor

/// The registry's sites as FHIR Groups (docs/fhir.md "Groups"), so that a Bulk Data client can
/// find the cohort it exports by Group (`Group/<site id>/$export`, `BulkExportController`):
/// read and search of the caller's sites only. Groups are not written through FHIR (sites are
/// managed by `calcitrack site add` and the admin API); their members are the site's patients.
enum FHIRGroups {
    static let resourceType = "Group"
    static let searchParams = ["_id", "identifier", "_format", "_pretty"]

    /// The site behind `Group/<id>`: an unknown id is 404; another site's is 403, as for other
    /// reads by registry id (ids are unguessable UUIDs, docs/fhir.md "Known limits").
    static func site(_ id: String, _ principal: Principal, on db: any Database) async throws -> Site {
        guard let uuid = UUID.parse(id), let site = try await Site.find(uuid, on: db) else { throw FHIRError.notFound(resourceType, id) }
        guard principal.siteIDs.contains(uuid) else {
            throw FHIRError(.forbidden, .forbidden, "Group/\(id) is the patients of a site you are not a member of")
        }
        return site
    }

    static func resource(_ site: Site, on db: any Database) async throws -> JSONValue {
        // Soft-deleted patients are left out by the query, as by every export.
        let members = try await Patient.query(on: db).filter(\.$site.$id == site.id!).sort(\.$id).field(\.$id).all()
        return GroupOutbound.site(id: site.id!.lowercasedString, code: site.code, name: site.name,
                                  patientIDs: members.map { $0.id!.lowercasedString })
    }

    static func read(_ id: String, _ context: FHIRReadContext) async throws -> FHIRReadAnswer {
        let site = try await site(id, context.principal, on: context.db)
        return FHIRReadAnswer(resource: try await resource(site, on: context.db),
                              audit: [AuditEvent(action: "read", resourceType: "fhir/Group", resourceID: site.id!.lowercasedString,
                                                 detail: "site \(site.code)")])
    }

    /// `_id` and `identifier` (`https://calcitrack.org/fhir/sid/site|<code>`, or the code alone),
    /// each comma-separated (any of) and repeatable (all of), over the caller's sites; any other
    /// parameter is a 400 naming it. A handful of sites: one page, no paging.
    static func search(pairs: [(String, String)], query: String, _ context: FHIRReadContext) async throws -> FHIRReadAnswer {
        var ids: [[String]] = [], identifiers: [[FHIRSource.Token]] = []
        var issues: [OperationOutcome.Issue] = []
        for (name, value) in pairs {
            let values = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if value.isEmpty { issues.append(.init(.error, .value, "\(name) has no value", at: [name])); continue }
            switch name {
            case "_id": ids.append(values.map { $0.lowercased() })
            case "identifier": identifiers.append(values.map(FHIRSearch.token))
            case "_format", "_pretty":
                if let problem = FHIRSearch.formatProblem(name, value) { issues.append(.init(.error, .value, problem, at: [name])) }
            default:
                issues.append(.init(.error, .notSupported, "search parameter \(name) is not supported for Group; supported: \(searchParams.joined(separator: ", "))", at: [name]))
            }
        }
        if !issues.isEmpty { throw FHIRError(.badRequest, OperationOutcome(issues)) }
        let sites = try await Site.query(on: context.db).filter(\.$id ~~ Array(context.principal.siteIDs)).sort(\.$code).all()
        let matching = sites.filter { site in
            ids.allSatisfy { $0.contains(site.id!.lowercasedString) }
                && identifiers.allSatisfy { group in
                    group.contains { ($0.system == nil || $0.system == CodeSystem.siteIdentifier) && ($0.code == nil || $0.code == site.code) }
                }
        }
        var entries: [(JSONValue, String)] = []
        for site in matching { entries.append((try await resource(site, on: context.db), "match")) }
        let selfURL = "\(context.base)/Group" + (query.isEmpty ? "" : "?\(query)")
        let audit = AuditEvent(action: "search", resourceType: "fhir/Group",
                               detail: "query \(query); \(matching.count) match(es); returned " + matching.map { "Group/\($0.id!.lowercasedString)" }.joined(separator: " "))
        return FHIRReadAnswer(resource: FHIRBundle.searchset(entries, total: entries.count, base: context.base, selfURL: selfURL, nextURL: nil), audit: [audit])
    }
}
