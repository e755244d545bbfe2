import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Vapor

/// Carries out a posted transaction or batch Bundle (FHIR R4 http.html#transaction) and builds
/// its response Bundle, entries in the request's order.
///
/// - transaction: one database transaction; the writes in the writer's order (deletes, then
///   creates and updates, parents first), then the GET entries, on the transaction, so they see
///   its writes (R4 processing rules: GET after DELETE, POST, PUT). Any failed entry, a read
///   included, fails the whole Bundle and nothing is written.
/// - batch: each entry on its own, in entry order; a write is its own transaction, a read is
///   answered and audited as the plain GET route would. A failed entry is its status and an
///   OperationOutcome in `response.outcome`.
enum BundleProcessing {
    static func run(_ request: BundleRequest, req: Request) async throws -> Response {
        // Clinicians only, for reads and writes alike: the others are refused as GET /fhir/... refuses them.
        let context = FHIRReadContext(req, principal: try await FHIRReadController.reader(req))
        let (authority, actor) = try await FHIRWriteController.authority(req)
        let writer = FHIRWriter(authority: authority, today: req.today, mode: request.kind == .transaction ? .transaction : .batch)
        let includeResources = FHIRWriteResponse.preferred(req) != .minimal
        let entries = switch request.kind {
        case .transaction: try await transaction(request, writer: writer, actor: actor, context: context, includeResources: includeResources, req: req)
        case .batch: try await batch(request, writer: writer, actor: actor, context: context, includeResources: includeResources, req: req)
        }
        return FHIRWriteResponse.json(BundleRequest.responseBundle(request.kind, entries), status: .ok)
    }

    static func transaction(_ request: BundleRequest, writer: FHIRWriter, actor: AuditActor, context: FHIRReadContext,
                            includeResources: Bool, req: Request) async throws -> [JSONValue] {
        var writes: [FHIRWriter.Prepared] = []
        var reads: [BundleReadEntry] = []
        for item in request.entries {
            switch item {
            case .success(.write(let entry)): writes.append(FHIRWriter.prepare(entry))
            case .success(.read(let entry)): reads.append(entry)
            case .failure(let failure): throw TransactionFailure(status: failure.status, issues: failure.issues)
            }
        }
        let allWrites = writes, allReads = reads
        let (results, answers) = try await AuditLog.write(on: req.db, actor: actor) { tx in
            var results: [EntryResult] = [], events: [AuditEvent] = []
            if !allWrites.isEmpty { (results, events) = try await writer.write(allWrites, on: tx) }
            let inTransaction = FHIRReadContext(principal: context.principal, db: tx, today: context.today, base: context.base)
            var answers: [Int: FHIRReadAnswer] = [:]
            var audit = events
            for read in allReads {
                do {
                    let answer = try await read.answer(inTransaction)
                    answers[read.index] = answer
                    audit += answer.audit
                } catch let failure as EntryFailure {
                    throw TransactionFailure(status: failure.status, issues: failure.issues.map { issue in
                        var issue = issue
                        issue.diagnostics = "\(read.location) (GET \(read.url)): " + issue.diagnostics
                        return issue
                    })
                }
            }
            return ((results, answers), audit)
        }
        var byIndex: [Int: JSONValue] = [:]
        for (prepared, result) in zip(allWrites, results) {
            var result = result
            if includeResources { result.resource = try await FHIRWriteRendering.resource(for: result, on: req.db, today: req.today) }
            byIndex[prepared.entry.index] = BundleRequest.responseEntry(result, includeResource: includeResources, base: context.base)
        }
        for (index, answer) in answers { byIndex[index] = BundleReadEntry.responseEntry(answer, base: context.base) }
        return request.entries.indices.map { byIndex[$0]! }
    }

    static func batch(_ request: BundleRequest, writer: FHIRWriter, actor: AuditActor, context: FHIRReadContext,
                      includeResources: Bool, req: Request) async throws -> [JSONValue] {
        var entries: [JSONValue] = []
        func rejected(_ failure: EntryFailure, _ type: String) -> JSONValue {
            BundleRequest.responseEntry(EntryResult(action: .rejected, status: failure.status, resourceType: type, issues: failure.issues), includeResource: false, base: context.base)
        }
        for item in request.entries {
            switch item {
            case .failure(let failure):
                entries.append(rejected(failure, ""))
            case .success(.read(let entry)):
                do {
                    let answer = try await entry.answer(context)
                    try await req.recordAudit(answer.audit, actor: actor)
                    entries.append(BundleReadEntry.responseEntry(answer, base: context.base))
                } catch let failure as EntryFailure {
                    entries.append(rejected(failure, ""))
                }
            case .success(.write(let entry)):
                let prepared = FHIRWriter.prepare(entry)
                do {
                    var result = try await AuditLog.write(on: req.db, actor: actor) { tx in
                        let (r, events) = try await writer.write([prepared], on: tx)
                        // A rejected entry writes nothing; its audit entries are dropped with the rollback.
                        if r[0].failed { throw EntryFailure(r[0].status, r[0].issues) }
                        return (r[0], events)
                    }
                    if includeResources { result.resource = try await FHIRWriteRendering.resource(for: result, on: req.db, today: req.today) }
                    entries.append(BundleRequest.responseEntry(result, includeResource: includeResources, base: context.base))
                } catch let failure as EntryFailure {
                    entries.append(rejected(failure, entry.resourceType))
                }
            }
        }
        return entries
    }
}
