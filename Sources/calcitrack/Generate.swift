import ArgumentParser
import CalciTrackCore
import CalciTrackServer
import Foundation

/// `calcitrack generate --patients N`: synthetic patients for the scale benchmark.
struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fill the registry with N synthetic patients (scale benchmark).",
        discussion: """
            Patients go to the site \(SyntheticRegistry.siteCode) (created if missing), each with lesions and measurements, \
            labs, medications, visits and some infection episodes; worklist summaries are computed by the engine. \
            The same --seed, --patients and --as-of give the same data. One transaction, one audit entry.
            """)
    @ArgumentParser.Option(help: "How many patients.") var patients: Int = 100_000
    @ArgumentParser.Option(help: "Seed of the generator (same seed, same patients).") var seed: UInt64 = 1
    @ArgumentParser.Option(name: .customLong("as-of"), help: "The generation's today, YYYY-MM-DD (default: today, UTC).") var asOf: String?
    @ArgumentParser.Option(name: .customLong("batch"), help: "Patients per batch (progress and pipelining unit).") var batch: Int = 2000
    @OptionGroup var db: DatabaseOptions

    func run() async throws {
        guard patients >= 0 else { throw fail("--patients must not be negative") }
        var today: LocalDate?
        if let asOf {
            guard let date = LocalDate(iso: asOf) else { throw fail("--as-of must be a date written YYYY-MM-DD") }
            today = date
        }
        let options = SyntheticRegistry.Options(patients: patients, seed: seed, today: today, batchSize: batch)
        say("generating \(patients) synthetic patient(s) at site \(SyntheticRegistry.siteCode) (seed \(seed), as of \(options.today)) into \(db.location)")
        let step = max(options.batchSize, patients / 20)
        let report = try await RegistryApp.with(db) { app in
            let report = try await SyntheticRegistry.generate(on: app.db, options: options, actor: RegistryApp.cliActor) { p in
                if p.done == p.total || p.done % step < options.batchSize {
                    let rate = p.elapsed > 0 ? Double(p.done) / p.elapsed : 0
                    say(String(format: "  %7d / %d patients  %9d rows  %6.1f s  (%.0f patients/s)", p.done, p.total, p.rows, p.elapsed, rate))
                }
            }
            // Fresh planner statistics, so the worklist filters use their indexes.
            try await SyntheticRegistry.analyze(on: app.db)
            return report
        }
        say("rows: " + report.rows.map { "\($0.table) \($0.count)" }.joined(separator: ", ") + " (total \(report.totalRows))")
        say(String(format: "done: %d patients (MRN from %d) in %.1f s (build+engine %.1f s, overlapping; database %.1f s)",
                     report.patients, report.firstIndex, report.seconds, report.buildSeconds, report.insertSeconds))
    }
}

/// Unbuffered, so progress lines and the summary keep their order in a pipe.
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
