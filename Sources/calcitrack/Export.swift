import ArgumentParser
import CalciTrackCore
import CalciTrackFHIR
import CalciTrackServer
import Foundation

/// `calcitrack export [--patient ID] [--site CODE] [--type T] [--since INSTANT] --format ndjson|bundle DIR`:
/// the registry (or a part of it) as FHIR R4.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export the registry (or one patient) as FHIR R4 resources.",
        discussion: """
            ndjson: one file per resource type (Patient.ndjson, Observation.ndjson, ...), one resource a line \
            (FHIR Bulk Data format). bundle: transaction Bundles (bundle-00001.json, ...) whose entries PUT each \
            resource at its id, so importing them again changes nothing. Patients are read \(FHIRExportDefaults.batch) at a \
            time, so memory does not grow with the registry. Computed alert Flags are not exported. \
            --site, --type and --since narrow it as $export's Group, _type and _since do (an incremental export: \
            --since the time the previous one started). A directory that already holds .ndjson, .jsonl or .json \
            files is refused (a later import of it would read the old files too), unless --replace asks to delete \
            those files first. The database must exist.
            """)
    enum Format: String, ExpressibleByArgument { case ndjson, bundle }

    @ArgumentParser.Option(help: "Export this patient only (patient id).") var patient: String?
    @ArgumentParser.Option(help: "Export this site's patients only (site code; repeat for several).") var site: [String] = []
    @ArgumentParser.Option(help: "Export these resource types only (comma-separated and/or repeated; e.g. Patient,Observation).") var type: [String] = []
    @ArgumentParser.Option(help: "Export only resources changed at or after this instant (e.g. 2026-12-01T00:00:00Z).") var since: String?
    @ArgumentParser.Option(help: "ndjson or bundle.") var format: Format
    @ArgumentParser.Option(help: "Patients per batch (and per Bundle).") var batch: Int = FHIRExportDefaults.batch
    @ArgumentParser.Flag(help: "Delete the .ndjson, .jsonl and .json files the directory holds (an earlier export) before writing.") var replace = false
    @ArgumentParser.Argument(help: "Directory to write into (created if missing).") var directory: String
    @OptionGroup var db: DatabaseOptions

    func run() async throws {
        var patientID: UUID?
        if let patient {
            guard let id = UUID(uuidString: patient) else { throw fail("--patient must be a patient id (UUID), got \(patient)") }
            patientID = id
        }
        guard batch >= 1 else { throw fail("--batch must be at least 1") }
        var types: [FHIRResourceType]?
        if !type.isEmpty {
            let names = type.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            types = try names.map { name in
                guard let t = FHIRResourceType(rawValue: name), FHIRExport.types.contains(t) else {
                    throw fail("--type \(name) is not a type calcitrack exports; exported: \(FHIRExport.types.map(\.rawValue).joined(separator: ", "))")
                }
                return t
            }
        }
        var sinceDate: Date?
        if let since {
            let plain = ISO8601DateFormatter(), fractional = ISO8601DateFormatter()
            fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            guard since.count > 10, let date = plain.date(from: since) ?? fractional.date(from: since) else { throw fail("--since must be an instant with a time zone such as 2026-12-01T00:00:00Z, got \(since)") }
            sinceDate = date
        }
        let fm = FileManager.default
        let earlier = try ExportDirectory.importableFiles(in: directory)
        if !earlier.isEmpty && !replace {
            throw fail("\(directory) already holds \(earlier.count) file(s) an import would read (\(earlier.prefix(5).joined(separator: ", "))\(earlier.count > 5 ? ", ..." : "")): "
                       + "choose an empty directory, or --replace to delete them first")
        }
        // The directory is made ready when the export has passed its checks (an unknown patient
        // or site changes nothing).
        var ready = false
        func prepare() throws {
            guard !ready else { return }
            ready = true
            for name in earlier { try fm.removeItem(atPath: (directory as NSString).appendingPathComponent(name)) }
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var handles: [String: FileHandle] = [:]
        var bundles = 0
        let format = self.format, directory = self.directory
        let summary = try await RegistryApp.with(db, existing: true) { app in
            let summary = try await FHIRExport.run(on: app.db, patient: patientID, siteCodes: site.isEmpty ? nil : site, types: types, since: sinceDate, batchSize: batch) { batch in
                try prepare()
                switch format {
                case .ndjson:
                    for (type, resources) in batch where !resources.isEmpty {
                        let handle: FileHandle
                        if let h = handles[type.rawValue] { handle = h } else {
                            let path = "\(directory)/\(type.rawValue).ndjson"
                            _ = fm.createFile(atPath: path, contents: nil)
                            guard let h = FileHandle(forWritingAtPath: path) else { throw fail("cannot write \(path)") }
                            handles[type.rawValue] = h
                            handle = h
                        }
                        var text = ""
                        for r in resources { text += JSONWriter.write(r, pretty: false) + "\n" }
                        handle.write(Data(text.utf8))
                    }
                case .bundle:
                    let resources = batch.flatMap(\.1)
                    guard !resources.isEmpty else { return }
                    bundles += 1
                    let path = "\(directory)/bundle-\(String(format: "%05d", bundles)).json"
                    guard fm.createFile(atPath: path, contents: Data(JSONWriter.write(FHIRExport.transactionBundle(resources), pretty: false).utf8)) else {
                        throw fail("cannot write \(path)")
                    }
                }
            }
            try prepare()
            return summary
        }
        for handle in handles.values { try handle.close() }
        let counts = summary.resources.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("exported \(summary.patients) patient(s): \(counts)" + (format == .bundle ? " in \(bundles) bundle(s)" : "") + " to \(directory)")
    }
}

enum FHIRExportDefaults { static let batch = 200 }

/// What an earlier export left in a directory.
enum ExportDirectory {
    /// The names of the files `calcitrack import` would read there (sorted); none when the
    /// directory does not exist.
    static func importableFiles(in directory: String) throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) else { return [] }
        guard isDir.boolValue else { throw fail("\(directory) is not a directory") }
        return try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { name in ImportInputs.extensions.contains { name.hasSuffix($0) } }.sorted()
    }
}
