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
            try await lockHead(tx, dataChange: true)
            let (result, events) = try await work(tx)
            try await append(events, actor: actor, on: tx)
            return result
        }
    }

    /// Records reads (and other events without their own data change) in one transaction;
    /// `AuditBatcher` groups the entries of concurrent requests here.
    static func record(_ groups: [([AuditEvent], AuditActor)], on db: any Database) async throws {
        guard groups.contains(where: { !$0.0.isEmpty }) else { return }
        try await db.transaction { tx in
            try await lockHead(tx, dataChange: false)
            for (events, actor) in groups { try await append(events, actor: actor, on: tx) }
        }
    }

    /// Locks the head row; a write transaction also counts itself in `data_version` (008), which
    /// tells caches of derived answers that the data changed.
    private static func lockHead(_ tx: any Database, dataChange: Bool) async throws {
        let sql = tx as! any SQLDatabase
        if dataChange {
            try await sql.raw("UPDATE audit_head SET data_version = data_version + 1 WHERE id = 1").run()
        } else {
            try await sql.raw("UPDATE audit_head SET seq = seq WHERE id = 1").run()
        }
    }

    /// The number of committed write transactions so far (see `lockHead`).
    static func dataVersion(on db: any Database) async throws -> Int {
        guard let row = try await (db as! any SQLDatabase).raw("SELECT data_version FROM audit_head WHERE id = 1").first() else {
            throw APIError(.internalServerError, "audit head missing")
        }
        return try row.decode(column: "data_version", as: Int.self)
    }

    private static func append(_ events: [AuditEvent], actor: AuditActor, on tx: any Database) async throws {
        guard let head = try await AuditHead.find(1, on: tx) else { throw APIError(.internalServerError, "audit head missing") }
        var seq = head.seq, hash = head.hash
        let at = ISOTimestamp.isoMillis(Date())
        for event in events {
            let entry = AuditEntry()
            seq += 1
            entry.id = seq
            entry.at = at
            entry.actor = actor.username
            entry.role = actor.role
            entry.action = event.action
            entry.resourceType = event.resourceType
            entry.resourceID = event.resourceID
            entry.patientID = event.patientID
            entry.ip = actor.ip
            entry.detail = sanitize(event.detail)
            entry.prevHash = hash
            entry.hash = digest(entry.hashedText)
            hash = entry.hash
            try await entry.create(on: tx)
        }
        head.seq = seq
        head.hash = hash
        try await head.update(on: tx)
    }

    static func digest(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The separator of `hashedText` must not occur inside a field.
    private static func sanitize(_ s: String) -> String { s.replacingOccurrences(of: "\u{1F}", with: " ") }

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
