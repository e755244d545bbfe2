import CalciTrackCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `calcitrack import` reads from its paths, and how it tells a file it already imported.
public struct ImportInputs: Sendable {
    /// Files to import: a named file itself, a directory's `.ndjson`/`.jsonl`/`.json` files in
    /// dependency order (Patient first), then by name.
    public var files: [String] = []
    /// Entries of a directory the import does not read (other extensions, subdirectories with a
    /// trailing `/`): listed in the summary rather than skipped in silence. A directory is not
    /// descended into: Bulk Data output (and `calcitrack export`) is flat.
    public var ignored: [String] = []

    /// The file names an import reads (`calcitrack export` refuses a directory holding such files).
    public static let extensions = [".ndjson", ".jsonl", ".json"]

    public static func scan(_ path: String) throws -> ImportInputs {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw ImportError("\(path) does not exist") }
        guard isDir.boolValue else { return ImportInputs(files: [path]) }
        var inputs = ImportInputs()
        var names: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: path).sorted() {
            let full = (path as NSString).appendingPathComponent(name)
            var entryIsDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: full, isDirectory: &entryIsDir)
            if entryIsDir.boolValue { inputs.ignored.append(full + "/") }
            else if extensions.contains(where: name.hasSuffix) { names.append(name) }
            else { inputs.ignored.append(full) }
        }
        func rank(_ name: String) -> Int {
            RegistryRecordKind.fileOrder(ofResourceType: String(name.prefix { $0.isLetter }))
        }
        inputs.files = names.sorted { rank($0) != rank($1) ? rank($0) < rank($1) : $0 < $1 }.map { (path as NSString).appendingPathComponent($0) }
        return inputs
    }

    /// A file's identity for resuming and skipping (rsync's "quick check" plus a look at the
    /// start): absolute path, size, modification time to the nanosecond and a hash of the first
    /// 64 KiB. An edit anywhere changes the modification time, so a changed file is read again
    /// even when its size and start stay; a file only touched is read again too, which the
    /// ledger makes harmless (every resource answers "unchanged").
    static func fileKey(_ path: String) throws -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ImportError("cannot open \(path)") }
        defer { try? handle.close() }
        var info = stat()
        guard fstat(handle.fileDescriptor, &info) == 0 else { throw ImportError("cannot stat \(path)") }
        #if canImport(Darwin)
        let mtime = info.st_mtimespec
        #else
        let mtime = info.st_mtim
        #endif
        let head = handle.readData(ofLength: 65_536)
        return "\(absolute)|\(info.st_size)|\(mtime.tv_sec).\(String(format: "%09ld", mtime.tv_nsec))|"
            + AuditLog.digest(String(decoding: head, as: UTF8.self)).prefix(16)
    }
}
