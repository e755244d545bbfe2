import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation
import SQLKit
import Vapor

/// Runs `$export` jobs in the background of this process (one `Task` each) and owns their
/// files under `directory` (`<data directory>/exports/<job id>/<Type>.ndjson`). A job's state
/// lives in `bulk_export_jobs` (013); this actor only knows which jobs this process is running.
/// While a job runs, its row's heartbeat (015) is renewed every `heartbeatInterval`: a job the
/// table says is running, that no task of this process runs and whose heartbeat is older than
/// `heartbeatTimeout`, was cut off by a restart (`status`); with a recent one, another server
/// process runs it. A running job whose row is gone was cancelled through another process: its
/// heartbeat stops it and deletes its files.
actor BulkExportRunner {
    /// Files (and their job) are deleted this long after the export's transaction time.
    static let lifetime: TimeInterval = 24 * 3600
    /// How often the process running a job renews its heartbeat.
    static let heartbeatInterval: TimeInterval = 10
    /// A running job without a heartbeat for this long is cut off: six missed beats.
    static let heartbeatTimeout: TimeInterval = 60

    nonisolated let directory: String
    private var running: [UUID: Task<Void, Never>] = [:]

    init(directory: String) { self.directory = directory }

    nonisolated func jobDirectory(_ id: UUID) -> String { "\(directory)/\(id.lowercasedString)" }
    nonisolated func file(_ id: UUID, _ type: FHIRResourceType) -> String { "\(jobDirectory(id))/\(type.rawValue).ndjson" }

    func isRunning(_ id: UUID) -> Bool { running[id] != nil }

    /// Starts the export of `job` for a clinician of `siteIDs`, with the kick-off's `_typeFilter`
    /// searches and `patient` list (kept in memory only: a job a restart cuts off is failed, never resumed).
    func start(_ job: BulkExportJob, siteIDs: Set<UUID>, filters: [FHIRResourceType: [FHIRSearch.Query]] = [:], patients: [UUID]? = nil,
               elements: [FHIRResourceType: Set<String>] = [:], db: any Database, today: LocalDate, logger: Logger) {
        guard let id = job.id else { return }
        let types = job.types, since = job.since, transactionTime = job.transactionTime
        let directory = jobDirectory(id)
        running[id] = Task.detached { [self] in
            let export = Task {
                await Self.execute(id, types: types, since: since, transactionTime: transactionTime, filters: filters, patients: patients, elements: elements, siteIDs: siteIDs,
                                   directory: directory, db: db, today: today, logger: logger)
            }
            let beat = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(Self.heartbeatInterval))
                    if Task.isCancelled { break }
                    do {
                        if try await !Self.heartbeat(id, on: db) {
                            // Cancelled (DELETE) through another server process: stop, and delete what was written.
                            export.cancel()
                            await export.value
                            try? FileManager.default.removeItem(atPath: directory)
                            break
                        }
                    } catch {
                        logger.warning("bulk export \(id.lowercasedString) heartbeat: \(String(describing: error))")
                    }
                }
            }
            // Cancelling this task (`cancel`) cancels the export too.
            await withTaskCancellationHandler { await export.value } onCancel: { export.cancel() }
            beat.cancel()
            await self.finished(id)
        }
    }

    /// Renews a running job's heartbeat; false when its row is gone (the job was cancelled).
    static func heartbeat(_ id: UUID, on db: any Database, now: Date = Date()) async throws -> Bool {
        try await BulkExportJob.query(on: db).filter(\.$id == id).filter(\.$stateText == BulkExportJob.State.running.rawValue)
            .set(\.$heartbeatAt, to: now).update()
        return try await BulkExportJob.query(on: db).filter(\.$id == id).count() > 0
    }

    private func finished(_ id: UUID) { running[id] = nil }

    /// Cancels a running job and waits until its task has stopped writing.
    func cancel(_ id: UUID) async {
        guard let task = running[id] else { return }
        task.cancel()
        await task.value
    }

    /// Cancels and removes a job: its task, files and row.
    func remove(_ id: UUID, on db: any Database) async throws {
        await cancel(id)
        try? FileManager.default.removeItem(atPath: jobDirectory(id))
        try await BulkExportJob.query(on: db).filter(\.$id == id).delete()
    }

    /// Deletes the jobs (and files) whose transaction time is over `lifetime` ago. Called on
    /// every `$export` request and hourly (`BulkExportCleanup`).
    func purgeExpired(on db: any Database, now: Date = Date()) async throws {
        let expired = try await BulkExportJob.query(on: db).filter(\.$transactionTime < now.addingTimeInterval(-Self.lifetime)).all()
        for job in expired { if let id = job.id { try await remove(id, on: db) } }
    }

    /// The export itself: the same resources `calcitrack export` writes (`FHIRExport.run`),
    /// limited to the clinician's sites, the requested types and patients, the `_typeFilter`
    /// searches and, with `_since`, to resources whose `meta.lastUpdated` is at or after it, plus
    /// the `deleted` file of what was deleted since (`BulkExportDeletions`). Progress is stored
    /// after each batch of patients.
    static func execute(_ id: UUID, types: [FHIRResourceType], since: Date?, transactionTime: Date, filters: [FHIRResourceType: [FHIRSearch.Query]], patients: [UUID]?,
                        elements: [FHIRResourceType: Set<String>] = [:],
                        siteIDs: Set<UUID>, directory: String, db: any Database, today: LocalDate, logger: Logger) async {
        var handles: [FHIRResourceType: FileHandle] = [:]
        defer { for handle in handles.values { try? handle.close() } }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            var counts: [FHIRResourceType: Int] = [:]
            var written = 0
            let summary = try await FHIRExport.run(on: db, patients: patients, siteIDs: siteIDs, types: types, filters: filters, since: since, today: today) { batch in
                try Task.checkCancellation()
                for (type, kept) in batch {
                    guard !kept.isEmpty else { continue }
                    let handle: FileHandle
                    if let open = handles[type] { handle = open } else {
                        let path = "\(directory)/\(type.rawValue).ndjson"
                        guard FileManager.default.createFile(atPath: path, contents: nil), let created = FileHandle(forWritingAtPath: path) else {
                            throw APIError(.internalServerError, "cannot write \(path)")
                        }
                        handles[type] = created
                        handle = created
                    }
                    var text = ""
                    let subset = elements[type]
                    for resource in kept { text += JSONWriter.write(subset.map { ElementsSubset.apply(resource, keeping: $0) } ?? resource, pretty: false) + "\n" }
                    try handle.write(contentsOf: Data(text.utf8))
                    counts[type, default: 0] += kept.count
                    written += kept.count
                }
                try await BulkExportJob.query(on: db).filter(\.$id == id).set(\.$progress, to: "\(written) resource(s) written").update()
            }
            try Task.checkCancellation()
            let outputs = types.compactMap { type in counts[type].map { BulkExportJob.Output(type: type, count: $0) } }
            var deleted: Int?
            if let since {
                let references = try await BulkExportDeletions.references(types: types, since: since, until: transactionTime, siteIDs: siteIDs,
                                                                          patients: patients, on: db, today: today)
                let bundles = BulkExportDeletions.bundles(references)
                if !bundles.isEmpty {
                    let path = "\(directory)/\(BulkExportJob.deletedFile)"
                    let text = bundles.map { JSONWriter.write($0, pretty: false) + "\n" }.joined()
                    guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else { throw APIError(.internalServerError, "cannot write \(path)") }
                }
                deleted = bundles.count
            }
            try Task.checkCancellation()
            try await BulkExportJob.query(on: db).filter(\.$id == id)
                .set(\.$stateText, to: BulkExportJob.State.complete.rawValue)
                .set(\.$outputsText, to: BulkExportJob.outputsJSON(outputs, deletedBundles: deleted))
                .set(\.$progress, to: "complete: \(written) resource(s) of \(summary.patients) patient(s)")
                .set(\.$finishedAt, to: Date())
                .update()
        } catch is CancellationError {
            // Cancelled by DELETE on the status URL, which removes the files and the job.
        } catch {
            logger.error("bulk export \(id.lowercasedString) failed: \(String(describing: error))")
            try? await BulkExportJob.query(on: db).filter(\.$id == id)
                .set(\.$stateText, to: BulkExportJob.State.failed.rawValue)
                .set(\.$error, to: "the export failed: \(String(describing: error))")
                .set(\.$finishedAt, to: Date())
                .update()
        }
    }
}

extension Application {
    private struct BulkExportRunnerKey: StorageKey { typealias Value = BulkExportRunner }

    var bulkExports: BulkExportRunner {
        get {
            guard let runner = storage[BulkExportRunnerKey.self] else { fatalError("configure() sets the bulk export directory") }
            return runner
        }
        set { storage[BulkExportRunnerKey.self] = newValue }
    }

    /// `<data directory>/exports`: the data directory is `ServerSettings.dataDirectory`, else
    /// `CALCITRACK_DATA_DIR`, else the SQLite file's directory (where its backups go), else (PostgreSQL,
    /// in-memory SQLite) the working directory or, in memory, a temporary one.
    static func exportsDirectory(_ settings: ServerSettings) -> String {
        if let dir = settings.dataDirectory ?? Environment.get("CALCITRACK_DATA_DIR"), !dir.isEmpty { return dir + "/exports" }
        switch settings.database {
        case .sqliteFile(let path): return URL(fileURLWithPath: path).deletingLastPathComponent().path + "/exports"
        case .postgres: return FileManager.default.currentDirectoryPath + "/exports"
        case .sqliteMemory: return NSTemporaryDirectory() + "calcitrack-memory-\(UUID().lowercasedString)/exports"
        }
    }
}

/// Deletes expired exports hourly while the server runs (besides on every `$export` request).
struct BulkExportCleanup: LifecycleHandler {
    final class Loop: @unchecked Sendable { var task: Task<Void, Never>? }
    let loop = Loop()

    func didBootAsync(_ app: Application) async throws {
        let runner = app.bulkExports, db = app.db, logger = app.logger
        loop.task = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(3600))
                if Task.isCancelled { break }
                do { try await runner.purgeExpired(on: db) } catch { logger.warning("bulk export cleanup: \(String(describing: error))") }
            }
        }
    }

    func shutdownAsync(_ app: Application) async { loop.task?.cancel() }
}
