import Fluent
import FluentSQLiteDriver
import Foundation
import SQLKit

/// A multi-row `INSERT` of the bulk writers (`BulkRecordInsert`, `ImportLedger`, `AuditLog`):
/// one statement per slice of rows, each row one value per column.
///
/// On SQLite the statement text is written here and the values are handed to SQLite as they are
/// encoded by the same `SQLiteDataEncoder` SQLKit uses, so the rows stored are the same. SQLKit's
/// serializer walks one expression per value (several existentials each) and was ≈ 4 % of
/// `calcitrack import`'s CPU (BENCHMARKS.md). PostgreSQL, and any row holding a value other than
/// a bind or NULL, go through SQLKit as before.
struct MultiRowInsert {
    var table: String
    var columns: [String]
    /// `ON CONFLICT (key) DO UPDATE SET c = excluded.c` for each of `update` (an upsert).
    var conflictKey: String? = nil
    var update: [String] = []

    func run(_ rows: some Collection<[any SQLExpression]>, on db: any Database) async throws {
        guard !rows.isEmpty else { return }
        if let sqlite = db as? any SQLiteDatabase, let binds = Self.sqliteValues(rows) {
            try await sqlite.query(sqliteText(rows: rows.count), binds, logger: db.logger) { _ in }.get()
            return
        }
        let sql = db as! any SQLDatabase
        var insert = sql.insert(into: table).columns(columns).rows(Array(rows))
        if let conflictKey {
            let update = update
            insert = insert.onConflict(with: [conflictKey]) { conflict in
                var conflict = conflict
                for column in update { conflict = conflict.set(excludedValueOf: column) }
                return conflict
            }
        }
        try await insert.run()
    }

    /// The statement as SQLKit writes it for SQLite (quoted identifiers, `?` placeholders).
    func sqliteText(rows: Int) -> String {
        func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        var text = "INSERT INTO \(quoted(table)) (\(columns.map(quoted).joined(separator: ", "))) VALUES "
        text.reserveCapacity(text.utf8.count + rows * (row.utf8.count + 2) + 200)
        for n in 0..<rows {
            if n > 0 { text += ", " }
            text += row
        }
        if let conflictKey {
            text += " ON CONFLICT (\(quoted(conflictKey))) DO UPDATE SET "
                + update.map { "\(quoted($0)) = \"excluded\".\(quoted($0))" }.joined(separator: ", ")
        }
        return text
    }

    /// Each value as SQLKit's SQLite driver binds it; nil when a value is neither a bind nor NULL.
    static func sqliteValues(_ rows: some Collection<[any SQLExpression]>) -> [SQLiteData]? {
        let encoder = SQLiteDataEncoder()
        var values: [SQLiteData] = []
        values.reserveCapacity(rows.count * (rows.first?.count ?? 0))
        for row in rows {
            for value in row {
                if let bind = value as? SQLBind {
                    // The common types directly (the encoder's casts were ≈ 2 % of an import),
                    // as the encoder binds them: MultiRowInsertTests compares with SQLKit's rows.
                    switch bind.encodable {
                    case let text as String: values.append(.text(text))
                    case let id as UUID: values.append(.text(id.uppercasedString))
                    case let number as Int: values.append(.integer(number))
                    default:
                        guard let data = try? encoder.encode(bind.encodable) else { return nil }
                        values.append(data)
                    }
                } else if let literal = value as? SQLLiteral, case .null = literal {
                    values.append(.null)
                } else {
                    return nil
                }
            }
        }
        return values
    }
}
