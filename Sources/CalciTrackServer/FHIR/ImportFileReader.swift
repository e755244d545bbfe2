import CalciTrackCore
import Foundation

/// Reads an import file piece by piece, never the whole file at once: NDJSON one line per
/// resource, a Bundle one `entry` element at a time (a byte scanner that tracks strings and
/// nesting, so a 100,000-entry collection Bundle costs one entry of memory).
/// One task reads at a time (the import awaits each chunk before asking for the next).
final class ImportFileReader: @unchecked Sendable {
    enum Format: String, Sendable { case ndjson, bundle }

    let path: String
    let format: Format
    let size: Int
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    /// Bytes before `position` are consumed and may be dropped by the next fill.
    private var position = 0
    private var eof = false
    private var dropped = 0
    /// Bytes consumed so far (for progress).
    var bytesRead: Int { dropped + position }

    init(path: String) throws {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ImportError("cannot open \(path)") }
        self.handle = handle
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        format = path.hasSuffix(".ndjson") || path.hasSuffix(".jsonl") ? .ndjson : .bundle
    }

    deinit { try? handle.close() }

    /// Reads the next megabyte; drops consumed bytes first. Returns how many bytes indices moved
    /// down by, or nil at the end of the file.
    private func fill() -> Int? {
        if eof { return nil }
        let data = handle.readData(ofLength: 1 << 20)
        if data.isEmpty { eof = true; return nil }
        let shift = position
        if shift > 0 { buffer.removeFirst(shift); dropped += shift; position = 0 }
        buffer.append(contentsOf: data)
        return shift
    }

    private static func blank(_ bytes: ArraySlice<UInt8>) -> Bool { bytes.allSatisfy { $0 == 0x20 || $0 == 0x0D || $0 == 0x09 || $0 == 0x0A } }

    private(set) var lineNumber = 0

    /// The next NDJSON line that is not blank (without its newline).
    func nextLine() -> [UInt8]? {
        var scan = position
        while true {
            if let nl = buffer[scan...].firstIndex(of: 0x0A) {
                let line = buffer[position..<nl]
                position = nl + 1
                scan = position
                lineNumber += 1
                if Self.blank(line) { continue }
                return Array(line)
            }
            let scanned = buffer.count
            guard let shift = fill() else {
                guard position < buffer.count else { return nil }
                let line = buffer[position...]
                position = buffer.count
                lineNumber += 1
                return Self.blank(line) ? nil : Array(line)
            }
            scan = scanned - shift
        }
    }

    // MARK: Bundle scanning (state kept between calls)

    private var depth = 0
    private var inString = false
    private var escaped = false
    private var stringBytes: [UInt8] = []
    private var lastKey: [UInt8] = []
    private var expectingType = false
    private var expectingResourceType = false
    private var inEntryArray = false
    private(set) var bundleType: String?
    /// The root object's `resourceType`, once the scanner has passed it.
    private(set) var rootResourceType: String?
    /// Short strings (keys and values) of the root object seen so far, at most 64 of them.
    private(set) var rootStrings: Set<String> = []
    private(set) var entryIndex = -1
    private static let typeKey = Array("type".utf8), entryKey = Array("entry".utf8), resourceTypeKey = Array("resourceType".utf8)

    /// The next element of the root's `entry` array, or nil at the end; reads the root's
    /// `type` on the way (`bundleType`).
    func nextEntry() throws -> [UInt8]? {
        var elementStart: Int?
        var i = position
        while true {
            if i >= buffer.count {
                guard let shift = fill() else {
                    if elementStart != nil || depth != 0 { throw ImportError("\(path): the JSON ends inside a value (truncated file?)") }
                    return nil
                }
                i -= shift
                if let s = elementStart { elementStart = s - shift }
            }
            let c = buffer[i]
            i += 1
            if inString {
                if escaped { escaped = false; continue }
                if c == 0x5C { escaped = true; continue }
                if c == 0x22 {
                    inString = false
                    if depth == 1 {
                        if expectingType { bundleType = String(decoding: stringBytes, as: UTF8.self); expectingType = false }
                        else if expectingResourceType { rootResourceType = String(decoding: stringBytes, as: UTF8.self); expectingResourceType = false }
                        else { lastKey = stringBytes }
                        if rootStrings.count < 64 { rootStrings.insert(String(decoding: stringBytes, as: UTF8.self)) }
                    }
                } else if depth == 1 && stringBytes.count < 64 {
                    stringBytes.append(c)
                }
                continue
            }
            switch c {
            case 0x22:
                inString = true
                stringBytes.removeAll(keepingCapacity: true)
            case 0x3A:
                if depth == 1 && lastKey == Self.typeKey { expectingType = true }
                if depth == 1 && lastKey == Self.resourceTypeKey { expectingResourceType = true }
            case 0x7B, 0x5B:
                if depth == 1 && c == 0x5B && lastKey == Self.entryKey { inEntryArray = true }
                if depth == 2 && inEntryArray && elementStart == nil { elementStart = i - 1 }
                depth += 1
            case 0x7D, 0x5D:
                depth -= 1
                if depth == 1 && inEntryArray && c == 0x5D { inEntryArray = false }
                if depth == 2 && inEntryArray, let start = elementStart {
                    let element = Array(buffer[start..<i])
                    position = i
                    entryIndex += 1
                    return element
                }
            case 0x2C:
                if depth == 1 { lastKey = []; expectingType = false; expectingResourceType = false }
            default: break
            }
            if elementStart == nil { position = i }
        }
    }

    /// What a `.json` file's root is, found by a first pass over the file (`type` may come after
    /// the entries): a Bundle and its type, or why it cannot be imported.
    struct BundleRoot: Sendable {
        var resourceType: String?
        var type: String?
        /// Why the file is not a Bundle to import (nil: it is one).
        var problem: String?
        /// A Bulk Data manifest (`transactionTime`, `output`, no `resourceType`): not FHIR data,
        /// found beside the NDJSON files of a downloaded export; not imported, not a rejection.
        var isBulkDataManifest = false
    }

    static func bundleRoot(of path: String) throws -> BundleRoot {
        let reader = try ImportFileReader(path: path)
        guard let first = reader.firstSignificantByte() else { return BundleRoot(problem: "empty file") }
        guard first == 0x7B else {
            return BundleRoot(problem: "not a FHIR Bundle: the file is " + (first == 0x5B ? "a JSON array" : "not a JSON object"))
        }
        do {
            while try reader.nextEntry() != nil { if reader.bundleType != nil && reader.rootResourceType != nil { break } }
        } catch let error as ImportError {
            return BundleRoot(resourceType: reader.rootResourceType, type: reader.bundleType, problem: error.description)
        }
        var root = BundleRoot(resourceType: reader.rootResourceType, type: reader.bundleType)
        switch root.resourceType {
        case "Bundle": break
        case nil:
            root.problem = "not a FHIR Bundle: the object has no resourceType"
            root.isBulkDataManifest = reader.rootStrings.isSuperset(of: ["transactionTime", "output"])
        case let other?: root.problem = "not a FHIR Bundle: resourceType \(other) (a single resource goes in a Bundle or an .ndjson file)"
        }
        return root
    }

    /// The first byte that is not white space or a UTF-8 byte order mark, without consuming it.
    private func firstSignificantByte() -> UInt8? {
        var i = position
        while true {
            if i >= buffer.count {
                guard let shift = fill() else { return nil }
                i -= shift
            }
            let c = buffer[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 || c == 0xEF || c == 0xBB || c == 0xBF { i += 1; continue }
            return c
        }
    }
}

public struct ImportError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
