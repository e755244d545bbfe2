import CalciTrackCore
import CalciTrackFHIR

/// What the FHIR API supports, in one table: `GET /fhir/metadata` is built from it, so the
/// CapabilityStatement lists exactly what the controllers answer. Whoever adds an interaction,
/// a search parameter or an operation adds it here.
enum FHIRCapabilities {
    struct SearchParam: Sendable {
        let name: String
        let type: String   // FHIR search param type: token, reference, date, string
        let documentation: String
    }

    struct ResourceSupport: Sendable {
        var interactions: [String]
        var searchParams: [SearchParam]
        var includes: [String]
        var operations: [(name: String, definition: String)] = []
        var versioning = "versioned"
    }

    static let patientParams = [SearchParam(name: "patient", type: "reference", documentation: "Patient/<id> or <id>; comma-separated: any of; chained: patient.identifier=[<MRN system>|]<MRN>"),
                                SearchParam(name: "subject", type: "reference", documentation: "same as patient")]
    static let readInteractions = ["read", "vread", "history-instance", "search-type"]
    /// The write side (FHIRWriteController): create (conditional with If-None-Exist: identifier,
    /// _id), update with If-Match (or meta.versionId), delete (409 while records depend on it);
    /// conditional update and delete (single) with the same parameters.
    static let writeInteractions = ["create", "update", "delete"]
    /// Type-level history (`FHIRTypeHistory`; Observation and Condition: `FHIRSharedRowTypeHistory`).
    static let typeHistory = ["history-type"]
    /// System-level interactions: transaction and batch Bundles on POST /fhir (GET entries are
    /// reads), and the system history (`FHIRSystemHistory`).
    static let systemInteractions = ["transaction", "batch", "history-system"]
    /// Bulk Data Access 2.0 `$export` (`BulkExportController`): system level here, Patient level on Patient.
    static let systemOperations = [(name: "export", definition: "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export", documentation: exportDocumentation)]
    /// What the kick-off takes (`BulkExportKickoff`): a client cannot learn it from the definition URL.
    static let exportDocumentation = "Bulk Data 2.0 kick-off by GET (query string) or POST (Parameters): _outputFormat (ndjson), _type, _since, "
        + "_typeFilter (Type?search with this statement's search parameters; several are OR'ed; no result parameters), "
        + "and patient (valueReference; POST to Patient/$export or Group/<id>/$export). A Group is a site's patients. "
        + "With _since, the manifest's deleted file lists what was deleted since as DELETE Bundles. "
        + "_elements ([Type.]element; mandatory elements kept, resources tagged SUBSETTED). Not supported (400): includeAssociatedData."

    /// Search parameters every type has (Bundle control).
    static let common = ["_id", "_count", "_sort", "_include", "_revinclude", "_elements", "_summary", "_format", "_pretty"]

    /// Built once: every search parse looks its type up here.
    static let resources: [(FHIRResourceType, ResourceSupport)] = declared.map { type, support in
        var support = support
        if type != .Flag {
            support.searchParams.append(lastUpdated)
            support.operations.append(("validate", FHIRValidateOperation.definition))
        }
        return (type, support)
    }

    private static var declared: [(FHIRResourceType, ResourceSupport)] {[
        (.Patient, ResourceSupport(interactions: readInteractions + writeInteractions + typeHistory, searchParams: [
            SearchParam(name: "identifier", type: "token", documentation: "MRN: https://calcitrack.org/fhir/sid/mrn/<site code>|<MRN>"),
            SearchParam(name: "birthdate", type: "date", documentation: "eq ne lt gt le ge sa eb"),
            SearchParam(name: "gender", type: "token", documentation: "female | male | other | unknown"),
            SearchParam(name: "family", type: "string", documentation: "starts with, case- and accent-insensitive"),
            SearchParam(name: "given", type: "string", documentation: "the given name(s) start with it, case- and accent-insensitive"),
            SearchParam(name: "name", type: "string", documentation: "the family or the given name starts with it, case- and accent-insensitive"),
        ], includes: [], operations: [("everything", "http://hl7.org/fhir/OperationDefinition/Patient-everything"),
                                     ("export", "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export")])),
        (.Condition, ResourceSupport(interactions: readInteractions + writeInteractions + typeHistory, searchParams: patientParams + [
            SearchParam(name: "code", type: "token", documentation: "system|code, code or system|"),
            SearchParam(name: "onset-date", type: "date", documentation: "eq ne lt gt le ge sa eb"),
            SearchParam(name: "clinical-status", type: "token", documentation: "active | recurrence | inactive | resolved (as served)"),
            SearchParam(name: "category", type: "token", documentation: "problem-list-item (SSc, calcinosis cutis) | encounter-diagnosis (infections)"),
        ], includes: ["Condition:patient", "Condition:subject"])),
        (.Observation, ResourceSupport(interactions: readInteractions + writeInteractions + typeHistory, searchParams: patientParams + [
            SearchParam(name: "code", type: "token", documentation: "system|code, code or system|"),
            SearchParam(name: "category", type: "token", documentation: "laboratory | vital-signs | exam"),
            SearchParam(name: "date", type: "date", documentation: "eq ne lt gt le ge sa eb"),
            SearchParam(name: "status", type: "token", documentation: "final (every Observation)"),
        ], includes: ["Observation:patient", "Observation:subject", "Observation:focus"])),
        (.BodyStructure, ResourceSupport(interactions: readInteractions + writeInteractions + typeHistory, searchParams: [
            SearchParam(name: "patient", type: "reference", documentation: "Patient/<id> or <id>; chained: patient.identifier=[<MRN system>|]<MRN>"),
        ], includes: ["BodyStructure:patient"])),
        (.MedicationStatement, ResourceSupport(interactions: readInteractions + writeInteractions + typeHistory, searchParams: patientParams + [
            SearchParam(name: "code", type: "token", documentation: "RxNorm: http://www.nlm.nih.gov/research/umls/rxnorm|<rxcui>"),
            SearchParam(name: "effective", type: "date", documentation: "the effective period; eq ne lt gt le ge sa eb"),
            SearchParam(name: "status", type: "token", documentation: "active | on-hold | completed | intended, as of today (as served)"),
        ], includes: ["MedicationStatement:patient", "MedicationStatement:subject"])),
        (.Procedure, ResourceSupport(interactions: readInteractions + writeInteractions + typeHistory, searchParams: patientParams + [
            SearchParam(name: "code", type: "token", documentation: "local procedure codes"),
            SearchParam(name: "date", type: "date", documentation: "eq ne lt gt le ge sa eb"),
            SearchParam(name: "status", type: "token", documentation: "completed (every Procedure)"),
        ], includes: ["Procedure:patient", "Procedure:subject"])),
        (.Encounter, ResourceSupport(interactions: readInteractions + writeInteractions + typeHistory, searchParams: patientParams + [
            SearchParam(name: "type", type: "token", documentation: "local visit kind codes"),
            SearchParam(name: "date", type: "date", documentation: "eq ne lt gt le ge sa eb"),
            SearchParam(name: "status", type: "token", documentation: "finished (every Encounter)"),
        ], includes: ["Encounter:patient", "Encounter:subject"])),
        (.ImagingStudy, ResourceSupport(interactions: readInteractions + writeInteractions + typeHistory, searchParams: patientParams + [
            SearchParam(name: "modality", type: "token", documentation: "DICOM DCM: CR US CT MR"),
            SearchParam(name: "started", type: "date", documentation: "eq ne lt gt le ge sa eb"),
            SearchParam(name: "status", type: "token", documentation: "available (every ImagingStudy)"),
        ], includes: ["ImagingStudy:patient", "ImagingStudy:subject"])),
        (.Flag, ResourceSupport(interactions: ["read", "search-type"], searchParams: patientParams, includes: ["Flag:patient", "Flag:subject"],
                                versioning: "no-version")),
    ]}

    static func support(_ type: FHIRResourceType) -> ResourceSupport? { resources.first { $0.0 == type }?.1 }

    /// `_lastUpdated` (`LastUpdatedValue`): every type but Flag (alerts are computed on read).
    static let lastUpdated = SearchParam(name: "_lastUpdated", type: "date",
                                         documentation: "meta.lastUpdated; eq ne lt gt le ge sa eb; a date (UTC) or a time with its time zone")

    /// `_revinclude` (`FHIRSearch.revincluded`): the includes of other types that point at `type`:
    /// on Patient every `X:patient` and `X:subject`; on BodyStructure `Observation:focus` (a lesion's measurements).
    static func revincludes(_ type: FHIRResourceType) -> [String] {
        switch type {
        case .Patient:
            return resources.filter { $0.0 != .Patient }.flatMap { $0.1.includes.filter { $0.hasSuffix(":patient") || $0.hasSuffix(":subject") } }
        case .BodyStructure: return ["Observation:focus"]
        default: return []
        }
    }

    /// Group (`FHIRGroups`): the registry's sites, read and search only, and the Group-level export.
    static let group = ResourceSupport(interactions: ["read", "search-type"], searchParams: [
        SearchParam(name: "identifier", type: "token", documentation: "site code: https://calcitrack.org/fhir/sid/site|<code>, or <code>"),
    ], includes: [], operations: [("export", "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export")], versioning: "no-version")

    static func statement(baseURL: String, now: String) -> JSONValue {
        func obj(_ pairs: [(String, JSONValue?)]) -> JSONValue { .object(JSONObject(pairs.compactMap { k, v in v.map { (k, $0) } })) }
        let resources: [JSONValue] = (Self.resources.map { ($0.0.rawValue, $0.1) } + [(FHIRGroups.resourceType, group)]).map { type, support in
            obj([
                ("type", .string(type)),
                ("interaction", .array(support.interactions.map { obj([("code", .string($0))]) })),
                ("versioning", .string(support.interactions.contains("update") ? "versioned-update" : support.versioning)),
                ("updateCreate", support.interactions.contains("update") ? .bool(true) : nil),
                ("conditionalCreate", support.interactions.contains("create") ? .bool(true) : nil),
                ("conditionalUpdate", support.interactions.contains("update") ? .bool(true) : nil),
                ("conditionalDelete", support.interactions.contains("delete") ? .string("single") : nil),
                ("readHistory", .bool(support.versioning == "versioned")),
                // ConditionalRead: If-None-Match and If-Modified-Since on a plain read of a versioned resource.
                ("conditionalRead", .string(support.versioning == "no-version" ? "not-supported" : "full-support")),
                ("searchInclude", support.includes.isEmpty ? nil : .array((support.includes + ["*"]).map { .string($0) })),
                ("searchRevInclude", FHIRResourceType(rawValue: type).map(revincludes).flatMap { $0.isEmpty ? nil : .array($0.map { .string($0) }) }),
                ("searchParam", .array((support.searchParams + [SearchParam(name: "_id", type: "token", documentation: "logical id")]).map {
                    obj([("name", .string($0.name)), ("type", .string($0.type)), ("documentation", .string($0.documentation))])
                })),
                ("operation", support.operations.isEmpty ? nil : .array(support.operations.map {
                    obj([("name", .string($0.name)), ("definition", .string($0.definition))])
                })),
            ])
        }
        return obj([
            ("resourceType", "CapabilityStatement"), ("status", "active"), ("date", .string(now)), ("kind", "instance"),
            ("software", obj([("name", "CalciTrack")])),
            ("implementation", obj([("description", "CalciTrack calcinosis registry FHIR API"), ("url", .string(baseURL))])),
            ("fhirVersion", .string(FHIRVersion.number)), ("format", ["json"]),
            ("rest", .array([obj([
                ("mode", "server"),
                ("security", obj([("description", "Bearer token (calcitrack token issue) or a signed-in session; clinicians see their sites' patients; researchers are refused (FHIR carries identified data)")])),
                ("resource", .array(resources)),
                ("interaction", .array(systemInteractions.map { obj([("code", .string($0))]) })),
                ("operation", .array(systemOperations.map {
                    obj([("name", .string($0.name)), ("definition", .string($0.definition)), ("documentation", .string($0.documentation))])
                })),
            ])])),
        ])
    }
}
