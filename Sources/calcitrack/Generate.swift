import ArgumentParser
import CalciTrackServer
import Foundation

/// `calcitrack generate --patients N`: synthetic patients for the scale benchmark.
struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Fill the registry with N synthetic patients (scale benchmark).")
    @ArgumentParser.Option(help: "How many patients.") var patients: Int = 100_000
    @OptionGroup var db: DatabaseOptions

    func run() async throws {
        throw fail("not implemented yet")
    }
}
