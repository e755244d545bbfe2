@testable import CalciTrackServer
import Fluent
import Foundation
import SQLKit
import Testing

/// `MultiRowInsert` writes SQLite's statement text itself (not through SQLKit's serializer, for
/// `calcitrack import`'s speed): the rows it stores must be the rows SQLKit's insert stores, value
/// for value and type for type, and its upsert must replace exactly the columns it names.
@Suite struct MultiRowInsertTests {
    static let columns = ["key", "id", "n", "x", "flag", "at", "note"]

    static func rows(_ ids: [UUID], _ at: Date) -> [[any SQLExpression]] {
        [[SQLBind("a"), SQLBind(ids[0]), SQLBind(3), SQLBind(61.5), SQLBind(true), SQLBind(at), SQLBind("first \"quoted\" 'text'")],
         [SQLBind("b"), SQLBind(ids[1]), SQLBind(-7), SQLBind(0.25), SQLBind(false), SQLBind(at), SQLLiteral.null]]
    }

    static func dump(_ table: String, _ sql: any SQLDatabase) async throws -> [String] {
        let select = columns.map { "typeof(\"\($0)\") || ':' || coalesce(CAST(\"\($0)\" AS TEXT), 'NULL')" }.joined(separator: " || '|' || ")
        return try await sql.raw("SELECT \(unsafeRaw: select) AS r FROM \(unsafeRaw: table) ORDER BY \"key\"").all().map { try $0.decode(column: "r", as: String.self) }
    }

    /// SQLite only: on PostgreSQL `MultiRowInsert` is SQLKit's insert itself.
    @Test(.enabled(if: !TestRegistry.location.isPostgres))
    func storesWhatSQLKitStores() async throws {
        try await TestRegistry.run { t in
            let sql = t.app.db as! any SQLDatabase
            for table in ["via_sqlkit", "via_multirow"] {
                // Columns without a declared type: typeof() shows the type each value was bound as.
                try await sql.raw("CREATE TABLE \(unsafeRaw: table) (\"key\" TEXT PRIMARY KEY, id, n, x, flag, at, note)").run()
            }
            let ids = [UUID(), UUID()], at = Date(timeIntervalSince1970: 1_790_000_000.125)
            try await sql.insert(into: "via_sqlkit").columns(Self.columns).rows(Self.rows(ids, at)).run()
            try await MultiRowInsert(table: "via_multirow", columns: Self.columns).run(Self.rows(ids, at), on: t.app.db)
            let expected = try await Self.dump("via_sqlkit", sql)
            #expect(expected.count == 2)
            let written = try await Self.dump("via_multirow", sql)
            #expect(written == expected, "\(written) vs \(expected)")

            // Upsert: the conflicting row's named columns are replaced, the others kept.
            let upsert = MultiRowInsert(table: "via_multirow", columns: ["key", "n", "note"], conflictKey: "key", update: ["n"])
            try await upsert.run([[SQLBind("a"), SQLBind(99), SQLBind("ignored")], [SQLBind("c"), SQLBind(1), SQLBind("new")]], on: t.app.db)
            let rows = try await sql.raw("SELECT \"key\", n, note FROM via_multirow ORDER BY \"key\"").all()
            let seen = try rows.map { "\(try $0.decode(column: "key", as: String.self))|\(try $0.decode(column: "n", as: Int.self))|\(try $0.decode(column: "note", as: String?.self) ?? "NULL")" }
            #expect(seen == ["a|99|first \"quoted\" 'text'", "b|-7|NULL", "c|1|new"])
        }
    }
}
