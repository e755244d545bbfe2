import CalciTrackCore
import CalciTrackFHIR
import Foundation
import SQLKit

/// Where the resources of a FHIR type come from in the registry's tables. A search is one
/// UNION ALL of one SELECT per source, each filtered in SQL (patient, code, date, _id) on
/// indexed columns (003 patient_id, 009 (patient_id, date) and (date)), so a page reads only
/// the rows it returns plus the index ranges that count them.
struct FHIRSource: Sendable {
    enum Derived: Sendable { case record, vital(ResourceID.Vital), ssc, weight, calcinosis }
    enum CodeMatch { case all, none, sql(SQLQueryString), unsupported(String) }
    /// SQL for a source's clinical date: start and end (a point has end == start).
    struct DateColumns: Sendable {
        let start: String
        let end: String
        let timestamp: Bool
    }
    /// A token search value: `system|code`, `code`, `system|`, `|code`.
    struct Token: Sendable {
        let system: String?
        let code: String?
        func matches(_ s: String, _ c: String) -> Bool {
            if let system, system != s { return false }
            if let code, code != c { return false }
            return true
        }
    }

    let name: String
    let type: FHIRResourceType
    let kind: RecordKind
    let table: String
    let derived: Derived
    var condition: String? = nil
    var date: DateColumns? = nil
    /// Text of the sort date (NULL when none).
    var sortDate: String = "CAST(NULL AS TEXT)"
    /// The category code its resources are served with (Observation: observation-category;
    /// Condition: condition-category, as `ConditionOutbound` writes it).
    var category: String? = nil
    /// Codings every resource of the source has (for static code matching).
    var codings: [(String, String)] = []
    /// Code matching that depends on the row; nil: `codings` decide.
    var dynamicCode: (@Sendable (Token) -> CodeMatch)? = nil

    var patientColumn: String { kind == .patients ? "t.id" : "t.patient_id" }

    func codeMatch(_ token: Token) -> CodeMatch {
        if let dynamicCode { return dynamicCode(token) }
        return codings.contains { token.matches($0.0, $0.1) } ? .all : .none
    }

    /// The row id behind a resource id of this source, or nil if the id is not one of its ids.
    func rowID(forResourceID id: String) -> String? {
        func uuid(_ s: Substring) -> String? { UUID.parse(s) != nil ? String(s).lowercased() : nil }
        switch derived {
        case .record: return uuid(id[...])
        case .vital(let v):
            guard let parsed = ResourceID.parseVital(id), parsed.vital == v else { return nil }
            return uuid(parsed.vitalsID[...])
        case .ssc: return id.hasPrefix("ssc-") ? uuid(id.dropFirst(4)) : nil
        case .weight: return id.hasPrefix("weight-") ? uuid(id.dropFirst(7)) : nil
        case .calcinosis: return id.hasPrefix("calcinosis-") ? uuid(id.dropFirst(11)) : nil
        }
    }
}

extension FHIRSource {
    static func point(_ column: String) -> DateColumns { DateColumns(start: column, end: column, timestamp: false) }

    static let loinc = CodeSystem.loinc, snomed = CodeSystem.snomed, icd = CodeSystem.icd10cm, local = CodeSystem.local

    /// Every source, by FHIR type. `dialect` picks the JSON function for the SSc diagnosis date.
    static func sources(_ type: FHIRResourceType, dialect: String) -> [FHIRSource] {
        switch type {
        case .Patient:
            return [FHIRSource(name: "patient", type: .Patient, kind: .patients, table: "patients", derived: .record,
                               date: point("t.birth_date"), sortDate: "t.birth_date")]
        case .Observation:
            var list = [FHIRSource(name: "lab", type: .Observation, kind: .labs, table: "lab_results", derived: .record,
                                   date: point("t.date"), sortDate: "t.date", category: "laboratory", dynamicCode: { token in
                switch (token.system, token.code) {
                case (nil, let code?), (loinc?, let code?):
                    if token.system == nil, code.hasPrefix("lab-") { return .sql("t.test = \(bind: String(code.dropFirst(4)))") }
                    return .sql("t.loinc = \(bind: code)")
                case (local?, let code?): return code.hasPrefix("lab-") ? .sql("t.test = \(bind: String(code.dropFirst(4)))") : .none
                case (loinc?, nil): return .sql("t.loinc IS NOT NULL")
                case (local?, nil): return .all
                default: return .none
                }
            })]
            let vitals: [(ResourceID.Vital, String, [(String, String)])] = [
                (.temperature, "temperature_c", [(loinc, "8310-5")]), (.heartRate, "heart_rate", [(loinc, "8867-4")]),
                (.respiratoryRate, "respiratory_rate", [(loinc, "9279-1")]), (.systolic, "systolic_bp", [(loinc, "85354-9")]),
            ]
            for (vital, column, codes) in vitals {
                list.append(FHIRSource(name: "vitals-\(vital.rawValue)", type: .Observation, kind: .vitals, table: "vital_signs", derived: .vital(vital),
                                       condition: "t.\(column) IS NOT NULL", date: point("t.date"), sortDate: "t.date", category: "vital-signs", codings: codes))
            }
            list.append(FHIRSource(name: "weight", type: .Observation, kind: .patients, table: "patients", derived: .weight, condition: "t.weight_kg IS NOT NULL",
                                   date: DateColumns(start: "t.updated_at", end: "t.updated_at", timestamp: true), category: "vital-signs", codings: [(loinc, "29463-7")]))
            list.append(FHIRSource(name: "measurement", type: .Observation, kind: .measurements, table: "lesion_measurements", derived: .record,
                                   date: point("t.date"), sortDate: "t.date", category: "exam", codings: [(loinc, "72287-6")]))
            return list
        case .Condition:
            let diagnosis = dialect == "postgresql" ? "(t.ssc::json ->> 'diagnosisDate')" : "json_extract(t.ssc, '$.diagnosisDate')"
            let start = "CASE WHEN length(\(diagnosis)) = 4 THEN \(diagnosis) || '-01-01' ELSE \(diagnosis) END"
            let end = "CASE WHEN length(\(diagnosis)) = 4 THEN \(diagnosis) || '-12-31' ELSE \(diagnosis) END"
            let limited = "t.ssc LIKE '%\"subtype\":\"limited\"%'", diffuse = "t.ssc LIKE '%\"subtype\":\"diffuse\"%'"
            let ssc = FHIRSource(name: "ssc", type: .Condition, kind: .patients, table: "patients", derived: .ssc,
                                 condition: "t.ssc IS NOT NULL AND t.ssc NOT LIKE '%\"subtype\":\"none\"%'",
                                 date: DateColumns(start: start, end: end, timestamp: false), sortDate: start, category: "problem-list-item", dynamicCode: { token in
                if token.code == nil { return token.system == snomed || token.system == icd ? .all : .none }
                let code = token.code!
                if token.system == nil || token.system == snomed {
                    if code == "89155008" { return .all }
                    if code == "128459005" { return .sql(SQLQueryString(limited)) }
                    if code == "128460000" { return .sql(SQLQueryString(diffuse)) }
                }
                if token.system == nil || token.system == icd {
                    if code == "M34.1" { return .sql(SQLQueryString(limited)) }
                    if code == "M34.0" { return .sql(SQLQueryString(diffuse)) }
                    if code == "M34.9" { return .sql(SQLQueryString("NOT (\(limited)) AND NOT (\(diffuse))")) }
                }
                return .none
            })
            let calcinosis = FHIRSource(name: "calcinosis", type: .Condition, kind: .patients, table: "patients", derived: .calcinosis,
                                        condition: "EXISTS (SELECT 1 FROM lesions l WHERE l.patient_id = t.id AND l.deleted_at IS NULL)",
                                        category: "problem-list-item", codings: [(icd, "L94.2"), (local, "calcinosis-cutis")])
            let cellulitisICD: Set<String> = ["L03.90", "L03.113", "L03.114", "L03.115", "L03.116", "L03.119"]
            let septicICD: Set<String> = ["M00.9", "M00.061", "M00.062", "M00.261", "M00.262", "M00.269"]
            let infection = FHIRSource(name: "infection", type: .Condition, kind: .infectionEpisodes, table: "infection_episodes", derived: .record,
                                       date: point("t.onset"), sortDate: "t.onset", category: "encounter-diagnosis", dynamicCode: { token in
                let cellulitis: SQLQueryString = "(t.culture_source IS NULL OR t.culture_source <> 'joint-fluid')"
                let septic: SQLQueryString = "t.culture_source = 'joint-fluid'"
                guard let code = token.code else { return token.system == snomed || token.system == icd ? .all : .none }
                if token.system == nil || token.system == snomed {
                    if code == "128045006" { return .sql(cellulitis) }
                    if code == "372939007" { return .sql(septic) }
                }
                if token.system == nil || token.system == icd, cellulitisICD.contains(code) || septicICD.contains(code) {
                    return .unsupported("infection episodes are searched by SNOMED CT code (cellulitis 128045006, septic arthritis 372939007), not by their site-specific ICD-10-CM code \(code)")
                }
                return .none
            })
            return [ssc, calcinosis, infection]
        case .BodyStructure:
            return [FHIRSource(name: "lesion", type: .BodyStructure, kind: .lesions, table: "lesions", derived: .record, sortDate: "CAST(NULL AS TEXT)")]
        case .MedicationStatement:
            return [FHIRSource(name: "medication", type: .MedicationStatement, kind: .medications, table: "medications", derived: .record,
                               date: DateColumns(start: "t.start", end: "COALESCE(t.stop, '9999-12-31')", timestamp: false), sortDate: "t.start",
                               dynamicCode: { token in
                switch (token.system, token.code) {
                case (nil, let code?), (CodeSystem.rxnorm?, let code?): return .sql("t.rxnorm = \(bind: code)")
                case (CodeSystem.rxnorm?, nil): return .sql("t.rxnorm IS NOT NULL")
                default: return .none
                }
            })]
        case .Procedure:
            return [FHIRSource(name: "procedure", type: .Procedure, kind: .procedures, table: "procedures", derived: .record,
                               date: point("t.date"), sortDate: "t.date", dynamicCode: { token in
                guard token.system == nil || token.system == local else { return .none }
                guard let code = token.code else { return .all }
                return code.hasPrefix("procedure-") ? .sql("t.kind = \(bind: String(code.dropFirst(10)))") : .none
            })]
        case .Encounter:
            return [FHIRSource(name: "visit", type: .Encounter, kind: .visits, table: "visits", derived: .record,
                               date: point("t.date"), sortDate: "t.date", dynamicCode: { token in
                guard token.system == nil || token.system == local else { return .none }
                guard let code = token.code else { return .all }
                return code.hasPrefix("visit-") ? .sql("t.kind = \(bind: String(code.dropFirst(6)))") : .none
            })]
        case .ImagingStudy:
            return [FHIRSource(name: "imaging", type: .ImagingStudy, kind: .imagingStudies, table: "imaging_studies", derived: .record,
                               date: point("t.date"), sortDate: "t.date", dynamicCode: { token in
                let dicom = ["CR": "radiograph", "US": "ultrasound", "CT": "ct", "MR": "mri"]
                guard token.system == nil || token.system == "http://dicom.nema.org/resources/ontology/DCM" else { return .none }
                guard let code = token.code else { return .all }
                return dicom[code].map { .sql("t.modality = \(bind: $0)") } ?? .none
            })]
        case .Flag:
            return []
        }
    }
}
