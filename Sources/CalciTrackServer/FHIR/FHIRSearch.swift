import CalciTrackCore
import CalciTrackFHIR
import Fluent
import SQLKit
import Vapor

/// FHIR search (R4 3.1.1): parameters are parsed and checked first (an unknown or malformed
/// one is an OperationOutcome naming it, never ignored), then answered by one SQL UNION over
/// the type's sources (`FHIRSource`) for the count and one for the page.
enum FHIRSearch {
    static let defaultCount = 50
    static let maxCount = 500

    /// The query string as name/value pairs, in order, repeated names kept (`date=ge..&date=le..`).
    static func pairs(_ req: Request) -> [(String, String)] { pairs(query: req.url.query ?? "") }

    static func pairs(query: String) -> [(String, String)] {
        guard !query.isEmpty else { return [] }
        return query.split(separator: "&").map { part in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            return (decode(kv[0]), kv.count > 1 ? decode(kv[1]) : "")
        }
    }

    enum Prefix: String, CaseIterable { case eq, ne, lt, gt, le, ge, sa, eb }

    /// A date search value: prefix and the half-open day range [low, high) its precision covers.
    struct DateValue {
        let prefix: Prefix
        let low: LocalDate
        let high: LocalDate
    }

    static func parseDate(_ text: String, param: String) throws -> DateValue {
        var prefix = Prefix.eq
        var rest = Substring(text)
        if let p = Prefix.allCases.first(where: { text.hasPrefix($0.rawValue) }) { prefix = p; rest = rest.dropFirst(2) }
        // A dateTime is taken at its day: registry dates are days. Its time must still be one
        // (a malformed value is refused, not cut to its day).
        let day = rest.count > 10 && rest.dropFirst(10).first == "T" ? rest.prefix(10) : rest
        let parts = day.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        let bad = FHIRError(.badRequest, .value, "\(param)=\(text): a date must be [prefix]YYYY, YYYY-MM or YYYY-MM-DD, optionally with a time Thh:mm[:ss[.fff]][Z|±hh:mm]; prefixes: \(Prefix.allCases.map(\.rawValue).joined(separator: " "))", at: param)
        if day.count < rest.count, !isTime(rest.dropFirst(11)) { throw bad }
        guard (1...3).contains(parts.count), parts[0].count == 4, let year = Int(parts[0]) else { throw bad }
        switch parts.count {
        case 1:
            guard let low = LocalDate(year: year, month: 1, day: 1), let high = LocalDate(year: year + 1, month: 1, day: 1) else { throw bad }
            return DateValue(prefix: prefix, low: low, high: high)
        case 2:
            guard parts[1].count == 2, let month = Int(parts[1]), let low = LocalDate(year: year, month: month, day: 1),
                  let high = month == 12 ? LocalDate(year: year + 1, month: 1, day: 1) : LocalDate(year: year, month: month + 1, day: 1) else { throw bad }
            return DateValue(prefix: prefix, low: low, high: high)
        default:
            guard parts[1].count == 2, parts[2].count == 2, let low = LocalDate(iso: String(day)) else { throw bad }
            return DateValue(prefix: prefix, low: low, high: low.adding(days: 1))
        }
    }

    /// hh:mm[:ss[.fff]] with an optional Z or ±hh:mm (the time of an R4 dateTime search value).
    static func isTime(_ text: Substring) -> Bool {
        func digits(_ s: Substring, max: Int) -> Bool { s.count == 2 && s.allSatisfy { $0.isASCII && $0.isNumber } && Int(s)! <= max }
        var clock = text
        if clock.hasSuffix("Z") {
            clock = clock.dropLast()
        } else if clock.count >= 11 {
            let zoneStart = clock.index(clock.endIndex, offsetBy: -6)
            if clock[zoneStart] == "+" || clock[zoneStart] == "-" {
                let zone = clock[clock.index(after: zoneStart)...].split(separator: ":", omittingEmptySubsequences: false)
                guard zone.count == 2, digits(zone[0], max: 14), digits(zone[1], max: 59) else { return false }
                clock = clock[..<zoneStart]
            }
        }
        let fields = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(fields.count), digits(fields[0], max: 23), digits(fields[1], max: 59) else { return false }
        guard fields.count == 3 else { return true }
        let seconds = fields[2].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard digits(seconds[0], max: 60) else { return false }
        return seconds.count == 1 || (!seconds[1].isEmpty && seconds[1].allSatisfy { $0.isASCII && $0.isNumber })
    }

    /// SQL for a date value against a source's [start, end] (R4 search 3.1.1.4.2: for a target
    /// range, lt/eb: starts before the value's range; gt/sa: ends after it; le/ge: overlaps
    /// below/above; eq: within; ne: not within).
    static func dateSQL(_ value: DateValue, _ columns: FHIRSource.DateColumns) -> SQLQueryString {
        let s = SQLQueryString(columns.start), e = SQLQueryString(columns.end)
        func bind(_ d: LocalDate) -> SQLQueryString {
            columns.timestamp ? "\(bind: Date(timeIntervalSince1970: Double(d.daysSinceEpoch) * 86_400))" : "\(bind: d.description)"
        }
        return rangeSQL(value.prefix, start: s, end: e, low: bind(value.low), high: bind(value.high))
    }

    /// A target [start, end] against a search value's range [low, high) (dates and `_lastUpdated`).
    static func rangeSQL(_ prefix: Prefix, start s: SQLQueryString, end e: SQLQueryString, low L: SQLQueryString, high H: SQLQueryString) -> SQLQueryString {
        switch prefix {
        case .eq: return "(" + s + " >= " + L + " AND " + e + " < " + H + ")"
        case .ne: return "(" + s + " IS NOT NULL AND NOT (" + s + " >= " + L + " AND " + e + " < " + H + "))"
        case .lt, .eb: return "(" + (prefix == .lt ? s : e) + " < " + L + ")"
        case .gt, .sa: return "(" + (prefix == .gt ? e : s) + " >= " + H + ")"
        case .le: return "(" + s + " < " + H + ")"
        case .ge: return "(" + e + " >= " + L + ")"
        }
    }

    static func token(_ text: String) -> FHIRSource.Token {
        guard let bar = text.firstIndex(of: "|") else { return FHIRSource.Token(system: nil, code: text) }
        let system = String(text[..<bar]), code = String(text[text.index(after: bar)...])
        return FHIRSource.Token(system: system, code: code.isEmpty ? nil : code)
    }

    /// The date parameter of each type (R4 names).
    static func dateParam(_ type: FHIRResourceType) -> String? {
        switch type {
        case .Observation, .Procedure, .Encounter: "date"
        case .Condition: "onset-date"
        case .MedicationStatement: "effective"
        case .ImagingStudy: "started"
        case .Patient: "birthdate"
        case .BodyStructure, .Flag: nil
        }
    }

    static func codeParam(_ type: FHIRResourceType) -> String? {
        switch type {
        case .Observation, .Condition, .MedicationStatement, .Procedure: "code"
        case .Encounter: "type"
        case .ImagingStudy: "modality"
        case .Patient, .BodyStructure, .Flag: nil
        }
    }

    static func patientParams(_ type: FHIRResourceType) -> [String] {
        switch type {
        case .Patient: []
        case .BodyStructure: ["patient"]
        default: ["patient", "subject"]
        }
    }

    /// The parsed, checked search.
    struct Query {
        var patients: [[UUID]] = []          // AND of ORs
        var codes: [[FHIRSource.Token]] = []
        var categories: [[String]] = []
        var dates: [[DateValue]] = []
        /// `_lastUpdated` (`LastUpdatedValue`), AND of ORs like the dates.
        var lastUpdated: [[LastUpdatedValue]] = []
        var ids: [[String]] = []
        var identifiers: [[FHIRSource.Token]] = []
        var genders: [[String]] = []
        /// Name prefixes, folded (`NameSearchKey`): `family`, `given`, and `name` (either), AND of ORs.
        var families: [[String]] = []
        var givens: [[String]] = []
        var names: [[String]] = []
        /// `status` / Condition `clinical-status` (`FHIRStatusSearch`), judged on `statusDay`.
        var statuses: [[FHIRSource.Token]] = []
        /// The day day-dependent statuses are judged on: the day the matches are rendered for
        /// (the search's `today`; an export's). Set by the caller before the query runs.
        var statusDay: LocalDate?
        /// Chained `patient.identifier` / `subject:Patient.identifier`: the record's patient has one of these MRNs.
        var patientIdentifiers: [[FHIRSource.Token]] = []
        var count = defaultCount
        var offset = 0
        /// `_page`: the snapshot a next link names (`SearchSnapshots`).
        var page: String?
        var sort: [(key: String, descending: Bool)] = []
        var includes: [(source: String, param: String)] = []
        /// `_revinclude`: resources of another type that point at the matches (`FHIRCapabilities.revincludes`).
        var revincludes: [(source: FHIRResourceType, param: String)] = []
        var passthrough: [(String, String)] = []   // for self/next links
        /// `_elements`: the matches cut down to these elements (and the mandatory ones, `ElementsSubset`).
        var elements: Set<String>?
        /// `_summary=true` or `text`: the elements the summary keeps (cut as `_elements` cuts).
        var summary: Set<String>?
        /// Parameters `Prefer: handling=lenient` made the search ignore (unknown or unsupported), as warnings.
        var ignored: [OperationOutcome.Issue] = []
        /// The records of deleted patients instead of live ones (a `_since` export's deletions,
        /// `BulkExportDeletions`); never set from a request.
        var deletedPatients = false
    }

    /// `lenient` (`Prefer: handling=lenient`, R4 search.html#errors): an unknown or unsupported
    /// parameter is left out (of the search and its self link) and reported as a warning in the
    /// Bundle instead of failing the search; a malformed value of a supported one still fails it.
    static func parse(_ type: FHIRResourceType, _ pairs: [(String, String)], lenient: Bool = false) throws -> Query {
        var q = Query()
        var issues: [OperationOutcome.Issue] = []
        func fail(_ name: String, _ message: String, _ code: OperationOutcome.IssueType = .value) {
            issues.append(OperationOutcome.Issue(.error, code, message, at: [name]))
        }
        let includable = FHIRCapabilities.support(type)?.includes ?? []
        for (name, value) in pairs {
            let values = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if name != "_offset" && name != "_count" && name != "_page" { q.passthrough.append((name, value)) }
            if value.isEmpty && name != "_format" { fail(name, "\(name) has no value"); continue }
            // R4 search.html#reference: the :[type] modifier names the target type (Patient is the
            // only target of these parameters); so does an include's third part.
            var name = name, value = value
            if name.hasSuffix(":Patient"), patientParams(type).contains(String(name.dropLast(8))) { name = String(name.dropLast(8)) }
            if name == "_include", value.hasSuffix(":Patient"), includable.contains(String(value.dropLast(8))) { value = String(value.dropLast(8)) }
            switch name {
            case "_format", "_pretty":
                if let problem = FHIRSearch.formatProblem(name, value) { fail(name, problem) }
            case "_page":
                q.page = value
            case "_count", "_offset":
                let (n, problem) = pageNumber(name, value)
                guard let n else { fail(name, problem); continue }
                if name == "_count" { q.count = n } else { q.offset = n }
            case "_total":
                // Totals are always counted exactly; none/estimate only allow less.
                if !["none", "estimate", "accurate"].contains(value) { fail(name, "_total must be none, estimate or accurate, got \(value)") }
            case "_summary":
                // count: the total only (as _count=0). true and text are subsets as `_elements` makes
                // them (mandatory elements kept, tagged SUBSETTED), so they are not combined with it.
                switch ReadSubset.summary(value, type: type.rawValue) {
                case .count?: q.count = 0
                case .whole?: break
                case .elements(let keep)?: q.summary = keep
                case nil: fail(name, "_summary must be true, text, data, count or false, got \(value)")
                }
            case "_elements":
                for problem in ReadSubset.elementNameProblems(values, type: type.rawValue) { fail(name, problem) }
                q.elements = (q.elements ?? []).union(values)
            case "_sort":
                for v in values {
                    let descending = v.hasPrefix("-")
                    var key = descending ? String(v.dropFirst()) : v
                    // R4 search.html#sort names search parameters: the type's own date parameter
                    // (onset-date, effective, started, birthdate) sorts as "date" does.
                    if let own = dateParam(type), key == own { key = "date" }
                    guard key == "_lastUpdated" || (key == "date" && dateParam(type) != nil) else {
                        let own = dateParam(type).map { [$0, "-" + $0] + ($0 == "date" ? [] : ["date", "-date"]) } ?? []
                        fail(name, "_sort must be one of \((own + ["_lastUpdated", "-_lastUpdated"]).joined(separator: ", "))\(dateParam(type) == nil ? " (\(type.rawValue) has no date: _lastUpdated only)" : ""), got \(v)"); continue
                    }
                    q.sort.append((key, descending))
                }
            case "_include":
                if value == "*" { q.includes.append((type.rawValue, "*")); continue }
                guard includable.contains(value) || value == "\(type.rawValue):*" else {
                    fail(name, "_include=\(value) is not supported for \(type.rawValue); supported: \((includable + ["*"]).joined(separator: ", "))", .notSupported); continue
                }
                let parts = value.split(separator: ":").map(String.init)
                q.includes.append((parts[0], parts[1]))
            case "_revinclude":
                let supported = FHIRCapabilities.revincludes(type)
                guard supported.contains(value) else {
                    fail(name, "_revinclude=\(value) is not supported for \(type.rawValue); supported: \(supported.isEmpty ? "none" : supported.joined(separator: ", "))", .notSupported); continue
                }
                let parts = value.split(separator: ":").map(String.init)
                q.revincludes.append((FHIRResourceType(rawValue: parts[0])!, parts[1]))
            case "_id":
                q.ids.append(values)
            case let p where patientParams(type).contains(p):
                var ids: [UUID] = []
                for v in values {
                    // Patient/<id>, <id>, or an absolute URL [base]/Patient/<id>.
                    let text = v.range(of: "Patient/", options: .backwards).map { String(v[$0.upperBound...]) } ?? v
                    guard let id = UUID.parse(text), v == text || v.hasPrefix("Patient/") || v.hasPrefix("http://") || v.hasPrefix("https://") else {
                        fail(name, "\(name) must be Patient/<id>, <id> or [base]/Patient/<id> (a patient id), got \(v)"); continue
                    }
                    ids.append(id)
                }
                q.patients.append(ids)
            case let p where p == codeParam(type):
                q.codes.append(values.map(token))
            case "category" where type == .Observation || type == .Condition:
                let system = type == .Observation ? CodeSystem.observationCategory : CodeSystem.conditionCategory
                q.categories.append(values.map { v in
                    let t = token(v)
                    if let s = t.system, s != system { return "-" }
                    return t.code ?? "*"
                })
            case LastUpdatedValue.parameter where type != .Flag:
                do { q.lastUpdated.append(try values.map(LastUpdatedValue.parse)) } catch let e as FHIRError { issues += e.outcome.issues }
            case let p where p == dateParam(type):
                do { q.dates.append(try values.map { try parseDate($0, param: name) }) } catch let e as FHIRError { issues += e.outcome.issues }
            case "identifier" where type == .Patient:
                q.identifiers.append(values.map(token))
            case "gender" where type == .Patient:
                for v in values where !["female", "male", "other", "unknown"].contains(v) { fail(name, "gender must be female, male, other or unknown, got \(v)") }
                q.genders.append(values)
            case "family" where type == .Patient:
                q.families.append(values.map(NameSearchKey.fold))
            case "given" where type == .Patient:
                q.givens.append(values.map(NameSearchKey.fold))
            case "name" where type == .Patient:
                q.names.append(values.map(NameSearchKey.fold))
            case let p where p == FHIRStatusSearch.parameter(type):
                q.statuses.append(values.map(token))
            case let p where Self.chainedPatientIdentifier(p, type):
                q.patientIdentifiers.append(values.map(token))
            default:
                let known = (FHIRCapabilities.support(type)?.searchParams.map(\.name) ?? []) + FHIRCapabilities.common + ["_offset"]
                fail(name, "search parameter \(name) is not supported for \(type.rawValue); supported: \(known.joined(separator: ", "))", .notSupported)
            }
        }
        if q.summary != nil && q.elements != nil {
            fail("_summary", ReadSubset.summaryWithElements)
        }
        if let summary = q.summary { q.elements = summary }
        if lenient {
            let unsupported = issues.filter { $0.code == .notSupported }
            issues.removeAll { $0.code == .notSupported }
            let names = Set(unsupported.flatMap(\.expression))
            q.passthrough.removeAll { names.contains($0.0) }
            q.ignored = unsupported.map { OperationOutcome.Issue(.warning, .notSupported, "ignored (Prefer: handling=lenient): " + $0.diagnostics, at: $0.expression) }
        }
        if !issues.isEmpty { throw FHIRError(.badRequest, OperationOutcome(issues)) }
        return q
    }

    /// The SELECT of one source with the query's filters, or nil when the source cannot match.
    static func select(_ source: FHIRSource, _ q: Query, siteIDs: [UUID]?, dialect: String) throws -> SQLQueryString? {
        // deletedPatients: a source read from the patient row itself (Patient, SSc Condition, weight,
        // calcinosis Condition) has the patient as its record.
        let recordLive: SQLQueryString = q.deletedPatients && source.table == "patients" ? "t.deleted_at IS NOT NULL" : "t.deleted_at IS NULL"
        var conditions: [SQLQueryString] = [recordLive, q.deletedPatients ? "p.deleted_at IS NOT NULL" : "p.deleted_at IS NULL"]
        if let siteIDs {
            guard !siteIDs.isEmpty else { return nil }
            conditions.append("p.site_id IN (\(binds: siteIDs))")
        }
        if let c = source.condition { conditions.append(SQLQueryString(c)) }
        for group in q.patients {
            guard !group.isEmpty else { return nil }
            conditions.append(SQLQueryString(source.patientColumn) + " IN (\(binds: group))")
        }
        for group in q.ids {
            let rows = group.compactMap { source.rowID(forResourceID: $0) }
            guard !rows.isEmpty else { return nil }
            conditions.append("t.id IN (\(binds: rows.compactMap(UUID.init(uuidString:))))")
        }
        /// One parameter's values (any of): nothing to add when one matches every row, nil when none can match.
        func anyOf(_ matches: [FHIRSource.CodeMatch], parameter: String?) throws -> SQLQueryString?? {
            var ors: [SQLQueryString] = []
            for match in matches {
                switch match {
                case .all: return .some(nil)
                case .none: break
                case .sql(let s): ors.append(s)
                case .unsupported(let message): throw FHIRError(.badRequest, .notSupported, message, at: parameter)
                }
            }
            return ors.isEmpty ? nil : .some("(" + ors.joined(separator: " OR ") + ")")
        }
        for group in q.codes {
            guard let condition = try anyOf(group.map(source.codeMatch), parameter: codeParam(source.type)) else { return nil }
            if let condition { conditions.append(condition) }
        }
        for group in q.statuses {
            guard let day = q.statusDay else { throw FHIRError(.internalServerError, .exception, "a status search ran without the day it is judged on") }
            guard let condition = try anyOf(group.map { FHIRStatusSearch.match(source, $0, day: day) }, parameter: FHIRStatusSearch.parameter(source.type))
            else { return nil }
            if let condition { conditions.append(condition) }
        }
        for group in q.categories {
            guard let category = source.category, group.contains(where: { $0 == category || $0 == "*" }) else { return nil }
        }
        for group in q.dates {
            guard let columns = source.date else { return nil }
            conditions.append("(" + group.map { dateSQL($0, columns) }.joined(separator: " OR ") + ")")
        }
        for group in q.lastUpdated {
            conditions.append("(" + group.map { $0.sql("t.updated_at") }.joined(separator: " OR ") + ")")
        }
        for group in q.identifiers {
            guard let condition = identifierSQL(group, patient: "t") else { return nil }
            conditions.append(condition)
        }
        // Chained: the record's patient is one with the identifier, found by MRN first (an index),
        // so the record table is read through its patient index, not scanned.
        for group in q.patientIdentifiers {
            guard let condition = identifierSQL(group, patient: "c") else { return nil }
            // The caller's sites in the subquery too: (site_id, mrn) is the patients' unique index.
            let sites: SQLQueryString = siteIDs.map { "c.site_id IN (\(binds: $0)) AND " } ?? ""
            conditions.append(SQLQueryString(source.patientColumn) + " IN (SELECT c.id FROM patients c WHERE " + sites + condition + ")")
        }
        for group in q.genders { conditions.append("t.sex IN (\(binds: group))") }
        // FHIR string search: starts with, case- and accent-insensitive (the folded keys, 012).
        func startsWith(_ column: String, _ prefix: String) -> SQLQueryString {
            let range = NameSearchKey.prefixRange(prefix)
            return "(" + SQLQueryString(column) + " >= \(bind: range.lower) AND " + SQLQueryString(column) + " < \(bind: range.upper))"
        }
        for group in q.families { conditions.append("(" + group.map { startsWith("t.family_key", $0) }.joined(separator: " OR ") + ")") }
        for group in q.givens { conditions.append("(" + group.map { startsWith("t.given_key", $0) }.joined(separator: " OR ") + ")") }
        for group in q.names {
            conditions.append("(" + group.flatMap { [startsWith("t.family_key", $0), startsWith("t.given_key", $0)] }.joined(separator: " OR ") + ")")
        }
        let sql: SQLQueryString = "SELECT \(literal: source.name) AS src, t.id AS rid, " + SQLQueryString(source.patientColumn) + " AS pid, "
            + SQLQueryString(source.sortDate) + " AS sdate, t.updated_at AS upd FROM \(ident: source.table) t "
            // SQLite: CROSS JOIN keeps the record table outermost, so its patient, code or date index
            // drives the query; with a plain JOIN the planner started from the site's patients and
            // read every record of the site (0.7 s for a code search at 20,000 patients).
            + SQLQueryString(dialect == "sqlite" ? "CROSS JOIN" : "JOIN") + " patients p ON p.id = "
            + SQLQueryString(source.patientColumn) + " WHERE " + conditions.joined(separator: " AND ")
        return sql
    }

    /// MRN identifiers (`[https://calcitrack.org/fhir/sid/mrn/<site>|]<MRN>`) against the patient row
    /// named `patient`; nil when none can match (another system).
    static func identifierSQL(_ group: [FHIRSource.Token], patient: String) -> SQLQueryString? {
        let mrn = SQLQueryString(patient + ".mrn"), siteID = SQLQueryString(patient + ".site_id")
        var ors: [SQLQueryString] = []
        for token in group {
            let prefix = CodeSystem.mrnPrefix
            if let system = token.system {
                guard system.hasPrefix(prefix) else { continue }
                let site = String(system.dropFirst(prefix.count))
                let siteMatch: SQLQueryString = siteID + " IN (SELECT id FROM sites WHERE code = \(bind: site))"
                ors.append(token.code.map { "(" + mrn + " = \(bind: $0) AND " + siteMatch + ")" } ?? siteMatch)
            } else if let code = token.code {
                ors.append(mrn + " = \(bind: code)")
            }
        }
        return ors.isEmpty ? nil : "(" + ors.joined(separator: " OR ") + ")"
    }

    /// `patient.identifier`, `subject.identifier`, `patient:Patient.identifier`,
    /// `subject:Patient.identifier` (R4 search.html#chaining) on a type with a patient parameter.
    static func chainedPatientIdentifier(_ name: String, _ type: FHIRResourceType) -> Bool {
        guard type != .Flag, name.hasSuffix(".identifier") else { return false }
        let reference = name.dropLast(".identifier".count)
        let parameter = reference.hasSuffix(":Patient") ? reference.dropLast(":Patient".count) : reference
        return patientParams(type).contains(String(parameter))
    }

    struct Row { let source: String; let rowID: UUID; let patientID: UUID }

    /// The search as one `UNION ALL` of its sources' selects (src, rid, pid, sdate, upd); nil when no source can match.
    static func union(_ type: FHIRResourceType, _ q: Query, siteIDs: [UUID]?, dialect: String) throws -> SQLQueryString? {
        let selects = try FHIRSource.sources(type, dialect: dialect).compactMap { try select($0, q, siteIDs: siteIDs, dialect: dialect) }
        return selects.isEmpty ? nil : selects.joined(separator: " UNION ALL ")
    }

    /// Runs the union: the total and the page's rows.
    static func rows(_ type: FHIRResourceType, _ q: Query, siteIDs: [UUID]?, on db: any Database, page: Bool) async throws -> (total: Int, rows: [Row]) {
        let sql = db as! any SQLDatabase
        guard let union = try union(type, q, siteIDs: siteIDs, dialect: sql.dialect.name) else { return (0, []) }
        var total = 0
        if page {
            let countRow = try await sql.raw("SELECT COUNT(*) AS n FROM (" + union + ") u").first()
            total = try countRow?.decode(column: "n", as: Int.self) ?? 0
            if q.count == 0 { return (total, []) }
        }
        // Without _sort: source and id, a stable order that a single-source search (Patient, ...)
        // reads from the id index without sorting every match.
        var order: [String] = []
        for (key, descending) in q.sort {
            let column = key == "date" ? "sdate" : "upd"
            order.append("(\(column) IS NULL)")
            order.append(column + (descending ? " DESC" : ""))
        }
        order += ["src", "rid"]
        var query: SQLQueryString = "SELECT src, rid, pid FROM (" + union + ") u ORDER BY " + SQLQueryString(order.joined(separator: ", "))
        if page { query += " LIMIT \(literal: q.count) OFFSET \(literal: q.offset)" }
        let rows = try await sql.raw(query).all().map { row in
            Row(source: try row.decode(column: "src", as: String.self), rowID: try row.decode(column: "rid", as: UUID.self),
                patientID: try row.decode(column: "pid", as: UUID.self))
        }
        return (page ? total : rows.count, rows)
    }

    /// Maps rows of sources to resources, in row order.
    static func resources(_ type: FHIRResourceType, _ rows: [Row], on db: any Database, today: LocalDate) async throws -> [JSONValue] {
        let sources = Dictionary(uniqueKeysWithValues: FHIRSource.sources(type, dialect: (db as! any SQLDatabase).dialect.name).map { ($0.name, $0) })
        var byKind: [RecordKind: Set<UUID>] = [:]
        for row in rows { if let s = sources[row.source] { byKind[s.kind, default: []].insert(row.rowID) } }
        var loaded: [RecordKind: [UUID: FHIRRecords.Loaded]] = [:]
        for (kind, ids) in byKind { loaded[kind] = try await FHIRRecords.load(kind, Array(ids), on: db, today: today) }
        let records = loaded.flatMap { kind, rows in rows.values.map { (kind, $0.json) } }
        let context = try await FHIRRecords.context(for: records, on: db, today: today)
        let calcinosisPatients = rows.filter { sources[$0.source].map { if case .calcinosis = $0.derived { true } else { false } } ?? false }.map(\.rowID)
        let lesions = try await FHIRRecords.lesions(ofPatients: calcinosisPatients, on: db)
        return rows.compactMap { row -> JSONValue? in
            guard let source = sources[row.source], let json = loaded[source.kind]?[row.rowID]?.json else { return nil }
            switch source.derived {
            case .record:
                return OutboundMapper.resources(kind: source.kind, record: json, context: context).first { $0["resourceType"]?.stringValue == type.rawValue }
            case .vital(let v): return ObservationOutbound.vital(json, v)
            case .ssc: return ConditionOutbound.ssc(patient: json)
            case .weight: return ObservationOutbound.weight(patient: json)
            case .calcinosis: return ConditionOutbound.calcinosis(patient: json, lesions: lesions[row.rowID] ?? [])
            }
        }
    }

    /// A search as a searchset Bundle; `query` is the query string as sent (for the audit entry).
    static func run(type: FHIRResourceType, pairs: [(String, String)], query: String, lenient: Bool = false, _ context: FHIRReadContext) async throws -> FHIRReadAnswer {
        var q = try parse(type, pairs, lenient: lenient)
        let today = context.today, db = context.db, principal = context.principal
        q.statusDay = today
        let siteIDs = Array(principal.siteIDs)
        let base = context.base
        var matches: [JSONValue]
        var total: Int
        /// The kept matches the next links name (`SearchSnapshots`), if any.
        var snapshot: String?
        if type == .Flag {
            // Flags are computed per patient by the engine: a search names the patient(s), by
            // `patient` or by the Flag ids (`_id`), which carry their patient's id.
            var group = q.patients.first ?? []
            if group.isEmpty, let ids = q.ids.first {
                for id in ids { if let pid = FlagOutbound.patientID(inFlagID: id).flatMap(UUID.parse), !group.contains(pid) { group.append(pid) } }
            }
            guard !group.isEmpty else {
                throw FHIRError(.badRequest, .tooCostly, "Flag search needs patient or _id (alerts are computed per patient on read)", at: "patient")
            }
            var flags: [JSONValue] = []
            for pid in group {
                guard let patient = try await Patient.find(pid, on: db), principal.siteIDs.contains(patient.$site.id) else { continue }
                flags += try await FHIRAlerts.flags(patientID: pid, on: db, today: today)
            }
            if let ids = q.ids.first { flags = flags.filter { ids.contains($0["id"]?.stringValue ?? "") } }
            total = flags.count
            matches = Array(flags.dropFirst(q.offset).prefix(q.count))
        } else {
            let page = try await matchRows(type, q, siteIDs: siteIDs, context)
            total = page.total
            snapshot = page.snapshot
            matches = try await resources(type, page.rows, on: db, today: today)
        }
        // `_elements` cuts the matches down; `_include` below reads the references of the whole ones.
        let shown = q.elements.map { elements in matches.map { ElementsSubset.apply($0, keeping: elements) } } ?? matches
        var entries = shown.map { ($0, "match") }
        if !q.includes.isEmpty {
            var seen = Set(matches.compactMap { r in r["id"]?.stringValue.map { "\(r["resourceType"]?.stringValue ?? "")/\($0)" } })
            let params = Set(q.includes.map(\.param))
            for resource in matches {
                for ref in references(resource, params: params) where !seen.contains(ref) {
                    seen.insert(ref)
                    let parts = ref.split(separator: "/").map(String.init)
                    guard parts.count == 2, let refType = FHIRResourceType(rawValue: parts[0]),
                          let found = try await FHIRResolver.row(refType, parts[1], on: db, today: today), !found.row.deleted,
                          let included = try await FHIRResolver.map(refType, parts[1], kind: found.kind, record: found.row.json, on: db, today: today)
                    else { continue }
                    entries.append((included, "include"))
                }
            }
        }
        if !q.revincludes.isEmpty {
            var seen = Set(entries.compactMap { e in e.0["id"]?.stringValue.map { "\(e.0["resourceType"]?.stringValue ?? "")/\($0)" } })
            for resource in try await revincluded(q.revincludes, of: matches, type: type, siteIDs: siteIDs, on: db, today: today) {
                guard let id = resource["id"]?.stringValue, seen.insert("\(resource["resourceType"]?.stringValue ?? "")/\(id)").inserted else { continue }
                entries.append((resource, "include"))
            }
        }
        func link(offset: Int) -> String {
            var items = q.passthrough.map { "\(encode($0.0))=\(encode($0.1))" }
            items.append("_count=\(q.count)")
            if offset > 0 { items.append("_offset=\(offset)") }
            if let snapshot, offset > 0 { items.append("_page=\(snapshot)") }
            return "\(base)/\(type.rawValue)?" + items.joined(separator: "&")
        }
        let next = q.count > 0 && q.offset + q.count < total ? link(offset: q.offset + q.count) : nil
        let audit = AuditEvent(action: "search", resourceType: "fhir/\(type.rawValue)",
                               patientID: q.patients.first?.count == 1 ? q.patients.first?.first?.lowercasedString : nil,
                               detail: "query \(query); \(total) match(es); returned " + entries.compactMap { e in e.0["id"]?.stringValue.map { "\(e.0["resourceType"]?.stringValue ?? "")/\($0)" } }.joined(separator: " "))
        if !q.ignored.isEmpty { entries.append((OperationOutcome(q.ignored).json, "outcome")) }
        return FHIRReadAnswer(resource: FHIRBundle.searchset(entries, total: total, base: base, selfURL: link(offset: q.offset), nextURL: next), audit: [audit])
    }

    /// A `_type` value (`$export`, `$everything`): its comma-separated types, appended to `types` in
    /// order and each once when in `allowed`; returns the names that are not (`(empty)` for an empty one).
    static func addTypes(_ value: String, allowed: [FHIRResourceType], to types: inout [FHIRResourceType]) -> [String] {
        var refused: [String] = []
        for text in value.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let type = FHIRResourceType(rawValue: text), allowed.contains(type) else { refused.append(text.isEmpty ? "(empty)" : text); continue }
            if !types.contains(type) { types.append(type) }
        }
        return refused
    }

    /// `_count` (0 to `maxCount`) or `_offset` (0 or more) of a search, a history or `$everything`:
    /// the number, or nil and the message naming what is allowed.
    static func pageNumber(_ name: String, _ value: String) -> (Int?, String) {
        let n = Int(value)
        if name == "_count" {
            return n.map { (0...maxCount).contains($0) } == true ? (n, "") : (nil, "_count must be an integer from 0 to \(maxCount), got \(value)")
        }
        return n.map { $0 >= 0 } == true ? (n, "") : (nil, "_offset must be a non-negative integer (as a next link carries it), got \(value)")
    }

    /// The parameters every FHIR interaction takes about its response's format (R4 http.html#parameters).
    static let formatParameters: Set<String> = ["_format", "_pretty"]

    /// `_format` (R4 http.html#mime): only JSON is served; `_pretty` (`FHIRPrettyPrinting`):
    /// true or false. The message for any other value, else nil.
    static func formatProblem(_ name: String, _ value: String) -> String? {
        if name == "_pretty" { return ["true", "false"].contains(value) ? nil : "_pretty must be true or false, got \(value)" }
        return ["json", "application/fhir+json", "application/json"].contains(value) ? nil : "_format must be json (only JSON is served), got \(value)"
    }

    static func encode(_ s: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+|,")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}
