import ArgumentParser
import CalciTrackCore
import CalciTrackServer
import Foundation

/// `calcitrack import FILE|DIR`: FHIR Bundles and NDJSON into the registry (no HTTP).
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import FHIR R4 resources: transaction/batch/collection Bundles (.json) or NDJSON (.ndjson, one type per file).",
        discussion: """
            A directory is imported file by file, Patient files first; its other entries (other extensions, \
            subdirectories, a Bulk Data manifest.json) are not read and are listed as ignored. A .json file must be a Bundle: another \
            resource, an array or an empty file is rejected. Resources are written in chunks, each one \
            transaction with its audit entries; a transaction Bundle is one transaction (all or nothing). \
            Reruns are idempotent (what a resource became is remembered) and resume after the last committed chunk. \
            A rerun skips a file only when it was imported without a rejection and has not changed since \
            (same path, size, modification time and first 64 KiB); a file with rejections is read again, \
            so what was rejected is retried. Progress goes to standard error, the summary to standard output. \
            Exit status 0 when nothing was rejected, 2 when some resources were rejected, 1 on failure.
            """)
    @Argument(help: "Files or directories to import.") var paths: [String]
    @ArgumentParser.Option(help: "Site code for patients without a CalciTrack MRN identifier (https://calcitrack.org/fhir/sid/mrn/<site>).")
    var site: String?
    @ArgumentParser.Option(help: "Resources per transaction, written 2,000 at a time (default: 10,000 on SQLite, 2,000 on PostgreSQL); a rerun after a kill redoes at most this many.")
    var chunk: Int?
    @ArgumentParser.Option(name: .customLong("as-of"), help: "Today for validation and summaries, YYYY-MM-DD (default: today, UTC).") var asOf: String?
    @ArgumentParser.Option(help: "How many rejected resources to list (all are counted).") var show: Int = 50
    @ArgumentParser.Option(name: .customLong("progress"), help: "bar, lines or none, on standard error (default: bar when it is a terminal, else lines).") var progressStyle: String?
    @ArgumentParser.Option(help: "Also write the summary as JSON to this file (every rejected resource with its issues).") var report: String?
    @OptionGroup var db: DatabaseOptions

    func run() async throws {
        var today: LocalDate?
        if let asOf {
            guard let date = LocalDate(iso: asOf) else { throw fail("--as-of must be a date written YYYY-MM-DD") }
            today = date
        }
        let style = progressStyle ?? (isatty(2) != 0 ? "bar" : "lines")
        guard ["bar", "lines", "none"].contains(style) else { throw fail("--progress must be bar, lines or none") }
        if let chunk, chunk < 1 { throw fail("--chunk must be at least 1") }
        let meter = ProgressMeter(style: style)
        let options = FHIRImport.Options(siteCode: site, chunkSize: chunk, today: today, actor: RegistryApp.cliActor)
        let summary: FHIRImport.Summary
        do {
            summary = try await RegistryApp.with(db) { app in
                try await FHIRImport.run(paths: paths, on: app.db, options: options) { meter.update($0) }
            }
        } catch let error as ImportError {
            meter.finish()
            throw fail(error.description)
        }
        meter.finish()
        print(Self.render(summary, show: show))
        if let report {
            do { try FHIRImport.json(summary).write(toFile: report, atomically: true, encoding: .utf8) }
            catch { throw fail("cannot write \(report): \(error)") }
        }
        if summary.hasRejections { throw ExitCode(2) }
    }

    static func render(_ s: FHIRImport.Summary, show: Int) -> String {
        var lines: [String] = []
        // The rate counts what this run read and wrote, not what a resume skipped.
        lines.append(String(format: "imported %d resource(s) from %d file(s) in %.1f s (%.0f resources/s)", s.resources, s.files, s.seconds, s.perSecond))
        lines.append("  memory allocator: \(MemoryAllocator.name)")
        if s.resumedAfter > 0 { lines.append("  resumed: \(s.resumedAfter) resource(s) committed by an earlier run were skipped (not counted above)") }
        if !s.skippedFiles.isEmpty { lines.append("  already imported (skipped): " + s.skippedFiles.joined(separator: ", ")) }
        if !s.ignored.isEmpty { lines.append("  ignored (not .ndjson/.jsonl/.json, or a Bulk Data manifest): " + s.ignored.joined(separator: ", ")) }
        lines.append("  created   \(s.created)")
        lines.append("  updated   \(s.updated)")
        lines.append("  unchanged \(s.unchanged)")
        if s.matched > 0 { lines.append("  matched   \(s.matched) (ifNoneExist found an existing resource)") }
        let notStored = s.notStored.values.reduce(0, +)
        lines.append("  not stored \(notStored) (no registry home)")
        for (reason, n) in s.notStored.sorted(by: { $0.value > $1.value }) { lines.append("    \(n) × \(reason)") }
        lines.append("  rejected  \(s.rejected.count)")
        if s.rejectedEarlier > 0 {
            lines.append("    and \(s.rejectedEarlier) rejected by the earlier run in the chunks this resume skipped (not retried now; the next run reads those files again)")
        }
        for r in s.rejected.prefix(show) {
            lines.append("    \(r.file) \(r.position) \(r.resourceType)\(r.id.map { "/" + $0 } ?? ""):")
            for issue in r.issues { lines.append("      \(issue)") }
        }
        if s.rejected.count > show { lines.append("    ... and \(s.rejected.count - show) more (--show N lists more)") }
        if !s.warnings.isEmpty {
            lines.append("  warnings (elements not stored from accepted resources):")
            for (w, n) in s.warnings.sorted(by: { $0.value > $1.value }) { lines.append("    \(n) × \(w)") }
        }
        return lines.joined(separator: "\n")
    }
}

/// A progress bar on a terminal (resources/s, ETA), plain lines otherwise; on standard error, so
/// standard output holds the summary alone.
final class ProgressMeter: @unchecked Sendable {
    let style: String
    private let lock = NSLock()
    private var lastLine = Date.distantPast
    private var drewBar = false

    init(style: String) { self.style = style }

    func update(_ p: FHIRImport.Progress) {
        lock.lock(); defer { lock.unlock() }
        let rate = p.elapsed > 0 ? Double(p.resources) / p.elapsed : 0
        let fraction = p.bytesTotal > 0 ? min(1, Double(p.bytesDone) / Double(p.bytesTotal)) : 1
        let name = (p.file as NSString).lastPathComponent
        switch style {
        case "bar":
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: max(0, width - filled - 1))
            let byteRate = p.elapsed > 0 ? Double(p.bytesDone) / p.elapsed : 0
            let eta = byteRate > 0 ? Double(p.bytesTotal - p.bytesDone) / byteRate : 0
            let text = String(format: "\r%@ [%@] %3.0f%%  %d resources  %.0f/s  ETA %@ ", name, bar, fraction * 100, p.resources, rate, Self.duration(eta))
            FileHandle.standardError.write(Data(text.utf8))
            drewBar = true
        case "lines":
            if Date().timeIntervalSince(lastLine) >= 1 || fraction >= 1 {
                lastLine = Date()
                FileHandle.standardError.write(Data(String(format: "%@: %d resources, %.0f%% of file, %.0f resources/s, %.1f s\n",
                                                            name, p.resources, fraction * 100, rate, p.elapsed).utf8))
            }
        default: break
        }
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        if drewBar { FileHandle.standardError.write(Data("\n".utf8)); drewBar = false }
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}
