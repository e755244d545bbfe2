import ArgumentParser
import CalciTrackServer
import Foundation

/// `calcitrack audit verify`: recomputes the hash chain; exit 1 and the first broken entry if
/// it does not hold.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "The audit log.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the audit log's hash chain.")
        @OptionGroup var db: DatabaseOptions
        func run() async throws {
            let result = try await RegistryApp.with(db, existing: true) { app in try await AuditVerification.run(on: app.db) }
            if let broken = result.firstBroken {
                print("audit log BROKEN at entry \(broken.seq): \(broken.reason) (\(result.entries) entries before it verified)")
                throw ExitCode(1)
            }
            print("audit log intact: \(result.entries) entries verified")
        }
    }
}

/// `calcitrack backup FILE`.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup", abstract: "Consistent online copy of the registry (SQLite), or the pg_dump command (PostgreSQL).")
    @Argument var file: String
    @OptionGroup var db: DatabaseOptions
    func run() async throws {
        do {
            let message = try await RegistryApp.with(db, existing: true) { app in try await Backup.backup(db.location, to: file, db: app.db) }
            print(message)
        } catch let error as Backup.Failure {
            throw fail(error.description)
        }
    }
}

/// `calcitrack restore FILE` (stop the server first).
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restore", abstract: "Replace the registry by a backup (stop the server first); PostgreSQL: prints the pg_restore command.")
    @Argument var file: String
    @OptionGroup var db: DatabaseOptions
    func run() async throws {
        do {
            print(try Backup.restore(db.location, from: file))
            if !db.location.isPostgres {
                let result = try await RegistryApp.with(db) { app in try await AuditVerification.run(on: app.db) }
                print(result.firstBroken.map { "audit log of the restored database BROKEN at entry \($0.seq): \($0.reason)" }
                      ?? "audit log of the restored database intact: \(result.entries) entries")
            }
        } catch let error as Backup.Failure {
            throw fail(error.description)
        }
    }
}
