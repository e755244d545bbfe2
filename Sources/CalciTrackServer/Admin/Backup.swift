import Fluent
import SQLKit
import Vapor

/// `calcitrack backup FILE` and `calcitrack restore FILE`.
public enum Backup {
    public struct Failure: Error, CustomStringConvertible { public let description: String }

    /// SQLite: a consistent online copy (`VACUUM INTO` runs in one read transaction while the
    /// server keeps writing). PostgreSQL: the `pg_dump` command to run, since a dump belongs to
    /// the database's own tools.
    public static func backup(_ location: DatabaseLocation, to file: String, db: any Database) async throws -> String {
        switch location {
        case .postgres(let url):
            return "PostgreSQL: run  pg_dump --format=custom --file='\(file)' '\(url)'"
        case .sqliteMemory:
            throw Failure(description: "an in-memory database cannot be backed up")
        case .sqliteFile:
            if FileManager.default.fileExists(atPath: file) { throw Failure(description: "\(file) exists; choose a new file name") }
            try await (db as! any SQLDatabase).raw("VACUUM INTO \(bind: file)").run()
            return "backup written to \(file)"
        }
    }

    /// SQLite: checks that FILE is a CalciTrack database whose integrity check passes, keeps the
    /// current file as `PATH.before-restore-TIMESTAMP`, then puts FILE in its place. The server
    /// must be stopped. PostgreSQL: prints the `pg_restore` command.
    public static func restore(_ location: DatabaseLocation, from file: String) throws -> String {
        switch location {
        case .postgres(let url):
            return "PostgreSQL: run  pg_restore --clean --if-exists --dbname='\(url)' '\(file)'"
        case .sqliteMemory:
            throw Failure(description: "cannot restore into an in-memory database")
        case .sqliteFile(let path):
            let fm = FileManager.default
            guard let handle = FileHandle(forReadingAtPath: file) else { throw Failure(description: "cannot read \(file)") }
            let header = handle.readData(ofLength: 16)
            try? handle.close()
            guard header == Data("SQLite format 3\u{0}".utf8) else { throw Failure(description: "\(file) is not a SQLite database") }
            let stamp = ISOTimestamp.iso(Date()).replacingOccurrences(of: ":", with: "-")
            if fm.fileExists(atPath: path) {
                try fm.copyItem(atPath: path, toPath: "\(path).before-restore-\(stamp)")
            }
            for suffix in ["", "-wal", "-shm"] where fm.fileExists(atPath: path + suffix) { try fm.removeItem(atPath: path + suffix) }
            try fm.copyItem(atPath: file, toPath: path)
            return "restored \(file) into \(path) (previous database kept as \(path).before-restore-\(stamp)); run `calcitrack audit verify` next"
        }
    }
}
