@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import SQLKit
import Testing

/// `BulkInsertRow` writes each model's INSERT row by hand (no reflection, for `calcitrack import`):
/// its columns must be the model's Fluent fields, and its values must land in the right columns.
@Suite struct BulkInsertRowTests {
    static let types: [any BulkInsertRowModel.Type] = [
        LesionRecord.self, MeasurementRecord.self, VisitRecord.self, LabRecord.self, VitalsRecord.self, MedicationRecord.self,
        HoldRecord.self, ProcedureRecord.self, InfectionEpisodeRecord.self, ImagingRecord.self, CalciTrackServer.Patient.self,
    ]

    @Test("Every model's bulk columns are its Fluent fields, each once", arguments: types)
    func columnsAreTheFields(_ type: any BulkInsertRowModel.Type) {
        let columns = type.bulkColumns
        #expect(Set(columns).count == columns.count, "a column is named twice")
        #expect(Set(columns) == Set(ModelPropertyListTests.reflected(type.init())))
    }

    /// `BulkBindComparison.differ` decides which columns a patient section update sets: equal
    /// values are not changed, any change is, and NULL is a value of its own.
    @Test func bindComparisonFindsExactlyTheChangedValues() {
        let id = UUID()
        let same: [(any SQLExpression, any SQLExpression)] = [(SQLBind("a"), SQLBind("a")), (SQLBind(3), SQLBind(3)), (SQLBind(61.5), SQLBind(61.5)),
                                                             (SQLBind(true), SQLBind(true)), (SQLBind(id), SQLBind(id)), (SQLLiteral.null, SQLLiteral.null),
                                                             (SQLBind(Date(timeIntervalSince1970: 5)), SQLBind(Date(timeIntervalSince1970: 5)))]
        for (a, b) in same { #expect(!BulkBindComparison.differ(a, b), "\(a) vs \(b)") }
        let changed: [(any SQLExpression, any SQLExpression)] = [(SQLBind("a"), SQLBind("b")), (SQLBind(3), SQLBind(4)), (SQLBind(61.5), SQLBind(62.0)),
                                                                (SQLBind(true), SQLBind(false)), (SQLBind(id), SQLBind(UUID())), (SQLBind("a"), SQLLiteral.null),
                                                                (SQLLiteral.null, SQLBind(0)), (SQLBind(Date(timeIntervalSince1970: 5)), SQLBind(Date(timeIntervalSince1970: 6)))]
        for (a, b) in changed { #expect(BulkBindComparison.differ(a, b), "\(a) vs \(b)") }
    }

    /// A stored record of each kind (the demo patients have every kind) copied under a new id with
    /// `BulkRecordInsert` reads back through Fluent as the same record: a value bound to the wrong
    /// column, or of the wrong type, changes the API JSON or fails the read.
    @Test("A bulk-inserted copy of each kind reads back through Fluent unchanged")
    func roundTrip() async throws {
        try await TestRegistry.run(demo: true) { t in
            for type in Self.types { try await Self.copyAndCompare(type, on: t.app.db) }
        }
    }

    static func copyAndCompare<M: BulkInsertRowModel>(_ type: M.Type, on db: any Database) async throws {
        let originals = try await M.query(on: db).all()
        try #require(!originals.isEmpty, "the demo data has no \(M.schema) row to copy")
        // The original with the most fields set, so that most columns carry a value.
        let original = originals.max { $0.bulkValues.filter { !($0 is SQLLiteral) }.count < $1.bulkValues.filter { !($0 is SQLLiteral) }.count }!
        #expect(original.bulkValues.count == M.bulkColumns.count, "\(M.schema): one value per column")
        let before = M.comparable(original)
        let newID = UUID()
        original.id = newID
        if let patient = original as? CalciTrackServer.Patient { patient.mrn += "-copy" }
        try await BulkRecordInsert.insert([original], maxBinds: 32_766, on: db)
        let copy = try #require(try await M.find(newID, on: db))
        var expected = before, actual = M.comparable(copy)
        if M.self == CalciTrackServer.Patient.self { expected["mrn"] = nil; actual["mrn"] = nil }
        #expect(actual == expected, "\(M.schema): the bulk-inserted copy differs")
    }
}

/// The models `BulkRecordInsert` writes, with their API JSON minus the id to compare copies.
protocol BulkInsertRowModel: Model, BulkInsertRow where IDValue == UUID {
    static func comparable(_ model: Self) -> JSONObject
}

extension BulkInsertRowModel where Self: PatientRecord {
    static func comparable(_ model: Self) -> JSONObject {
        guard case .object(var json) = model.apiJSON(.none, includeAuthors: true) else { return JSONObject() }
        json["id"] = nil
        return json
    }
}

extension LesionRecord: BulkInsertRowModel {}
extension MeasurementRecord: BulkInsertRowModel {}
extension VisitRecord: BulkInsertRowModel {}
extension LabRecord: BulkInsertRowModel {}
extension VitalsRecord: BulkInsertRowModel {}
extension MedicationRecord: BulkInsertRowModel {}
extension HoldRecord: BulkInsertRowModel {}
extension ProcedureRecord: BulkInsertRowModel {}
extension InfectionEpisodeRecord: BulkInsertRowModel {}
extension ImagingRecord: BulkInsertRowModel {}
extension CalciTrackServer.Patient: BulkInsertRowModel {
    static func comparable(_ model: CalciTrackServer.Patient) -> JSONObject {
        guard case .object(var json) = model.apiJSON(.none, today: TestRegistry.today, siteCode: nil) else { return JSONObject() }
        json["id"] = nil
        // The stored summary columns too (apiJSON shows only some of them).
        json["summaryColumns"] = .string("\(model.lastContact ?? "-")|\(model.nextDue ?? "-")|\(model.hasUnhealedLesion)|\(model.activeInfection)|"
            + "\(model.infectionSeverity ?? "-")|\(model.worseningLesion)|\(model.bodySites ?? "-")|\(model.infectionOnset ?? "-")|"
            + "\(model.onsetSeverity ?? "-")|\(model.onsetSepsisScreen ?? "-")|\(model.sepsisScreenPositive)|\(model.sepsisScreen ?? "-")|"
            + "\(model.highAlert)|\(model.highAlerts ?? "-")|\(model.followUpStatus)|\(model.worklistTier)|\(model.standingDay)|"
            + "\(model.standingUntil ?? "-")|\(model.familyKey)|\(model.givenKey)|\(model.dateShiftDays)|\(model.$site.id)")
        return json
    }
}
