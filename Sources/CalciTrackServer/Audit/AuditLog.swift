import Fluent
import SQLKit
import Vapor

/// Who is acting, for audit entries.
struct AuditActor: Sendable {
    let username: String
    let role: String
    let ip: String?

    static func system(_ name: String) -> AuditActor { AuditActor(username: name, role: "system", ip: nil) }
}

/// What to record.
struct AuditEvent: Sendable {
    var action: String          // read, search, create, update, delete, assess, login, ...
    var resourceType: String    // patients, labs, users, ...
    var resourceID: String? = nil
    var patientID: String? = nil
    var detail: String = ""
}

/// The append-only, hash-chained audit log (issue 3, item 5).
enum AuditLog {
    static let genesisHash = String(repeating: "0", count: 64)

    /// Runs `work` in one transaction that also appends the audit entries it returns. The audit
    /// head is locked first, so concurrent writers queue here instead of failing later (SQLite:
    /// the transaction holds the write lock from its first statement; PostgreSQL: a row lock).
    static func write<T: Sendable>(
        on db: any Database, actor: AuditActor,
        _ work: @escaping @Sendable (any Database) async throws -> (T, [AuditEvent])
    ) async throws -> T {
        try await db.transaction { tx in
            let head = try await lockHead(tx, dataChange: true)
            let (result, events) = try await work(tx)
            try await append(events, actor: actor, after: head, on: tx)
            return result
        }
    }

    /// Records reads (and other events without their own data change) in one transaction;
    /// `AuditBatcher` groups the entries of concurrent requests here.
    static func record(_ groups: [([AuditEvent], AuditActor)], on db: any Database) async throws {
        guard groups.contains(where: { !$0.0.isEmpty }) else { return }
        try await db.transaction { tx in
            var head = try await lockHead(tx, dataChange: false)
            for (events, actor) in groups { head = try await append(events, actor: actor, after: head, on: tx) }
        }
    }

    typealias Head = (seq: Int, hash: String)

    /// Locks the head row and reads it in one statement; a write transaction also counts itself
    /// in `data_version` (008), which tells caches of derived answers that the data changed. The
    /// lock is held to the end of the transaction (SQLite: the write lock; PostgreSQL: the row
    /// lock), so the head read here is still the head when the entries are appended.
    private static func lockHead(_ tx: any Database, dataChange: Bool) async throws -> Head {
        let sql = tx as! any SQLDatabase
        let row = dataChange
            ? try await sql.raw("UPDATE audit_head SET data_version = data_version + 1 WHERE id = 1 RETURNING seq, hash").first()
            : try await sql.raw("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash").first()
        guard let row else { throw APIError(.internalServerError, "audit head missing") }
        return (try row.decode(column: "seq", as: Int.self), try row.decode(column: "hash", as: String.self))
    }

    /// The number of committed write transactions so far (see `lockHead`).
    static func dataVersion(on db: any Database) async throws -> Int {
        guard let row = try await (db as! any SQLDatabase).raw("SELECT data_version FROM audit_head WHERE id = 1").first() else {
            throw APIError(.internalServerError, "audit head missing")
        }
        return try row.decode(column: "data_version", as: Int.self)
    }

    static let entryColumns = ["seq", "at", "actor", "role", "action", "resource_type", "resource_id", "patient_id", "ip", "detail", "prev_hash", "hash"]

    /// Chains the events after `head`, inserts them in one statement and moves the head on.
    @discardableResult
    private static func append(_ events: [AuditEvent], actor: AuditActor, after head: Head, on tx: any Database) async throws -> Head {
        guard !events.isEmpty else { return head }
        var seq = head.seq, hash = head.hash
        let at = ISOTimestamp.isoMillis(Date())
        var rows: [[any SQLExpression]] = []
        func text(_ value: String?) -> any SQLExpression { value.map { SQLBind($0) } ?? SQLLiteral.null }
        for event in events {
            seq += 1
            let detail = sanitize(event.detail)
            let entryHash = digest(AuditEntry.hashedText(seq: seq, at: at, actor: actor.username, role: actor.role, action: event.action,
                                                         resourceType: event.resourceType, resourceID: event.resourceID, patientID: event.patientID,
                                                         ip: actor.ip, detail: detail, prevHash: hash))
            rows.append([SQLBind(seq), SQLBind(at), SQLBind(actor.username), SQLBind(actor.role), SQLBind(event.action),
                         SQLBind(event.resourceType), text(event.resourceID), text(event.patientID), text(actor.ip),
                         SQLBind(detail), SQLBind(hash), SQLBind(entryHash)])
            hash = entryHash
        }
        let sql = tx as! any SQLDatabase
        // 1,000 rows of 12 binds stay under SQLite's and PostgreSQL's limits on binds per statement.
        let insert = MultiRowInsert(table: AuditEntry.schema, columns: entryColumns)
        for start in stride(from: 0, to: rows.count, by: 1000) {
            try await insert.run(rows[start..<min(start + 1000, rows.count)], on: tx)
        }
        try await sql.raw("UPDATE audit_head SET seq = \(bind: seq), hash = \(bind: hash) WHERE id = 1").run()
        return (seq, hash)
    }

    /// SHA-256 as lowercase hex. Hex by table, not `String(format:)`: the import hashes every
    /// resource and every audit entry, and formatting was 8% of its time (BENCHMARKS.md).
    static func digest(_ text: String) -> String {
        var text = text
        return text.withUTF8 { hex(SHA256.hash(data: UnsafeRawBufferPointer($0))) }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in bytes { out.append(hexDigits[Int(b >> 4)]); out.append(hexDigits[Int(b & 0x0f)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The separator of `hashedText` must not occur inside a field.
    private static func sanitize(_ s: String) -> String {
        s.utf8.contains(0x1F) ? s.replacingOccurrences(of: "\u{1F}", with: " ") : s
    }

    struct Verification: Sendable {
        var entries: Int
        /// The first entry whose hash, link or sequence is wrong, and why.
        var firstBroken: (seq: Int, reason: String)?
    }

    /// Recomputes the chain from the first entry; stops at the first broken one.
    static func verify(on db: any Database) async throws -> Verification {
        var expectedPrev = genesisHash, expectedSeq = 1, count = 0
        let batch = 5000
        while true {
            let entries = try await AuditEntry.query(on: db).filter(\.$id >= expectedSeq).sort(\.$id).limit(batch).all()
            for entry in entries {
                let seq = entry.id ?? -1
                if seq != expectedSeq {
                    return Verification(entries: count, firstBroken: (expectedSeq, "entry \(expectedSeq) is missing (next entry is \(seq))"))
                }
                if entry.prevHash != expectedPrev {
                    return Verification(entries: count, firstBroken: (seq, "prev_hash does not match the hash of entry \(seq - 1)"))
                }
                if digest(entry.hashedText) != entry.hash {
                    return Verification(entries: count, firstBroken: (seq, "content does not match its hash (the entry was edited)"))
                }
                expectedPrev = entry.hash
                expectedSeq += 1
                count += 1
            }
            if entries.count < batch { break }
        }
        if let head = try await AuditHead.find(1, on: db), head.seq != count || head.hash != expectedPrev {
            return Verification(entries: count, firstBroken: (count + 1, "the log ends at entry \(count) but the head records entry \(head.seq) (entries were removed)"))
        }
        return Verification(entries: count, firstBroken: nil)
    }
}

/// Public entry point for `calcitrack audit verify`.
public enum AuditVerification {
    public struct Result: Sendable {
        public let entries: Int
        public let firstBroken: (seq: Int, reason: String)?
    }

    public static func run(on db: any Database) async throws -> Result {
        let v = try await AuditLog.verify(on: db)
        return Result(entries: v.entries, firstBroken: v.firstBroken)
    }
}
