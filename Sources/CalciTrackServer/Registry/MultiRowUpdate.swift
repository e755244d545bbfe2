import SQLKit

/// `WITH v(id, c1, ...) AS (VALUES (...), (...)) UPDATE table SET c1 = v.c1, ..., updated_at = ? FROM v
/// WHERE table.id = v.id`: one statement that gives many rows their own values (SQLite 3.33+ and
/// PostgreSQL both run it). `rows`: the id, then the values of `columns` in order. Without
/// `updatedAt`, `updated_at` is set only if `columns` names it.
struct MultiRowUpdate: SQLExpression {
    let table: String
    let columns: [String]
    let rows: [[any SQLExpression]]
    let updatedAt: (any Encodable & Sendable)?

    func serialize(to serializer: inout SQLSerializer) {
        let v = SQLIdentifier("v")
        serializer.write("WITH ")
        v.serialize(to: &serializer)
        SQLGroupExpression(SQLList((["id"] + columns).map { SQLIdentifier($0) })).serialize(to: &serializer)
        serializer.write(" AS (VALUES ")
        SQLList(rows.map { SQLGroupExpression(SQLList($0)) }).serialize(to: &serializer)
        serializer.write(") UPDATE ")
        SQLIdentifier(table).serialize(to: &serializer)
        serializer.write(" SET ")
        SQLList(columns.map { SQLBinaryExpression(SQLIdentifier($0), .equal, SQLColumn(SQLIdentifier($0), table: v)) }
                + (updatedAt.map { [SQLBinaryExpression(SQLIdentifier("updated_at"), .equal, SQLBind($0))] } ?? [])).serialize(to: &serializer)
        serializer.write(" FROM ")
        v.serialize(to: &serializer)
        serializer.write(" WHERE ")
        SQLBinaryExpression(SQLColumn(SQLIdentifier("id"), table: SQLIdentifier(table)), .equal, SQLColumn(SQLIdentifier("id"), table: v)).serialize(to: &serializer)
    }
}
