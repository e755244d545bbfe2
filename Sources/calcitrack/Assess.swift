import ArgumentParser
import CalciTrackCore
import Foundation

/// `calcitrack assess FILE|-`: case JSON in, assessment out. Exit 0 on success, 2 on invalid
/// input (errors JSON on stdout with --format json, readable errors on stderr otherwise), 1 otherwise.
struct Assess: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Assess one case (case format v1) and print the assessment.",
        discussion: "Exit status: 0 assessed, 2 invalid case (every error is listed), 1 other failure."
    )

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Argument(help: "Case file (JSON), or - for standard input.")
    var file: String

    @ArgumentParser.Option(help: "Output format: text (a report for clinicians) or json (the assessment contract).")
    var format: OutputFormat = .text

    @ArgumentParser.Option(name: .customLong("as-of"), help: "Assess as of this date (YYYY-MM-DD), overriding the case's asOf.")
    var asOf: String?

    @ArgumentParser.Option(name: .customLong("threshold"), help: "Override a threshold, KEY=VALUE (see `calcitrack thresholds`). Repeatable.")
    var thresholdOverrides: [String] = []

    @ArgumentParser.Flag(help: "Text format: show each item's basis and sources.")
    var verbose = false

    @ArgumentParser.Flag(help: "JSON format: one line instead of indented.")
    var compact = false

    func run() throws {
        var asOfDate: LocalDate?
        if let asOf {
            guard let date = LocalDate(iso: asOf) else {
                try reject([FieldIssue(field: "--as-of", value: .string(asOf), message: "--as-of must be a calendar date written YYYY-MM-DD")])
            }
            asOfDate = date
        }
        let thresholds: Thresholds
        do {
            thresholds = try Thresholds(overrides: try parseOverrides())
        } catch {
            try reject([FieldIssue(field: "--threshold", value: nil, message: error.message)])
        }

        let bytes: [UInt8]
        do {
            bytes = try readInput()
        } catch {
            FileHandle.standardError.write(Data("calcitrack: cannot read \(file): \(error.localizedDescription)\n".utf8))
            throw ExitCode(1)
        }
        let decoded: DecodedCase
        do {
            decoded = try CaseDecoder.decode(bytes, asOfOverride: asOfDate, today: Clock.today())
        } catch {
            try reject(error.errors)
        }
        let assessment = Assessor(thresholds: thresholds).assess(decoded)
        switch format {
        case .json: print(JSONWriter.write(AssessmentJSON.encode(assessment), pretty: !compact))
        case .text: print(TextReport.render(assessment, verbose: verbose), terminator: "")
        }
    }

    func parseOverrides() throws(ThresholdError) -> [String: Double] {
        var result: [String: Double] = [:]
        for item in thresholdOverrides {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let value = Double(parts[1]) else {
                throw ThresholdError(message: "--threshold takes KEY=NUMBER, got \"\(item)\"")
            }
            result[parts[0]] = value
        }
        return result
    }

    func readInput() throws -> [UInt8] {
        if file == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
        return Array(try Data(contentsOf: URL(fileURLWithPath: file)))
    }

    /// Invalid input: exit 2, errors as JSON on stdout (json) or as lines on stderr (text).
    func reject(_ errors: [FieldIssue]) throws -> Never {
        switch format {
        case .json:
            print(JSONWriter.write(CaseRejection(errors: errors).json))
        case .text:
            var text = "calcitrack: the case was rejected (\(errors.count) error\(errors.count == 1 ? "" : "s")); nothing was assessed:\n"
            for e in errors {
                let value = e.value.map { " (got \(JSONWriter.write($0, pretty: false)))" } ?? ""
                text += "  \(e.field.isEmpty ? "(document)" : e.field): \(e.message)\(value)\n"
            }
            FileHandle.standardError.write(Data(text.utf8))
        }
        throw ExitCode(2)
    }
}
