import Fluent
import Vapor

/// Group commit for audit entries of reads: every request waits until its entries are
/// committed (nothing is served unaudited), but the entries of requests that arrive while a
/// commit runs share the next transaction, so concurrent reads do not queue one transaction
/// each behind the single audit-chain lock.
actor AuditBatcher {
    private struct Waiting {
        let events: [AuditEvent]
        let actor: AuditActor
        let done: CheckedContinuation<Void, any Error>
    }

    private var pending: [Waiting] = []
    private var flushing = false
    private let database: @Sendable () -> any Database

    init(database: @escaping @Sendable () -> any Database) { self.database = database }

    func record(_ events: [AuditEvent], actor: AuditActor) async throws {
        guard !events.isEmpty else { return }
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            pending.append(Waiting(events: events, actor: actor, done: done))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
    }

    private func flush() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            do {
                try await AuditLog.record(batch.map { ($0.events, $0.actor) }, on: database())
                for waiting in batch { waiting.done.resume() }
            } catch {
                for waiting in batch { waiting.done.resume(throwing: error) }
            }
        }
        flushing = false
    }
}

extension Application {
    private struct AuditBatcherKey: StorageKey { typealias Value = AuditBatcher }

    var auditBatcher: AuditBatcher {
        if let batcher = storage[AuditBatcherKey.self] { return batcher }
        let batcher = AuditBatcher(database: { [unowned self] in self.db })
        storage[AuditBatcherKey.self] = batcher
        return batcher
    }
}

extension Request {
    /// Appends audit entries for this request (as its principal, or `actor`) and waits until
    /// they are committed.
    func recordAudit(_ events: [AuditEvent], actor: AuditActor) async throws {
        try await application.auditBatcher.record(events, actor: actor)
    }
}
