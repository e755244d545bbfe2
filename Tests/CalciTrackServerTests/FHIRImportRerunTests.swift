@testable import CalciTrackServer
import CalciTrackCore
import Fluent
import Foundation
import SQLKit
import Testing

/// What a rerun of `calcitrack import` reads again: a file with rejections (so they are
/// retried), a changed file (its key holds the modification time), never a completed unchanged
/// one; and what an import says about the files it did not import (not a Bundle, not read).
/// Runs on SQLite, and on PostgreSQL when DATABASE_URL is set.
@Suite(.serialized) struct FHIRImportRerunTests {
    static func directory() throws -> String {
        let dir = NSTemporaryDirectory() + "fhir-import-rerun-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func ndjson(_ resources: [String]) -> String {
        resources.map { $0.replacingOccurrences(of: "\n", with: " ") }.joined(separator: "\n") + "\n"
    }

    static let options = FHIRImport.Options(chunkSize: 10, today: TestRegistry.today, actor: "test-import")

    @Test func rejectedResourcesAreRetriedByTheNextRun() async throws {
        try await TestRegistry.run { r in
            let dir = try Self.directory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            // Two patients of site A, two of a site that does not exist yet.
            let lines = [FHIRWriteTests.patient("R-1", id: "r1"), FHIRWriteTests.patient("R-2", site: "SYNTH", id: "r2"),
                         FHIRWriteTests.patient("R-3", id: "r3"), FHIRWriteTests.patient("R-4", site: "SYNTH", id: "r4")]
            try Self.ndjson(lines).write(toFile: dir + "/Patient.ndjson", atomically: true, encoding: .utf8)
            let first = try await FHIRImport.run(paths: [dir], on: r.app.db, options: Self.options)
            #expect(first.created == 2)
            #expect(first.rejected.map(\.position) == ["line 2", "line 4"], "\(first.rejected)")
            #expect(first.hasRejections)
            try await Accounts.addSite(code: "SYNTH", name: "Synthetic", actor: "test", on: r.app.db)
            let second = try await FHIRImport.run(paths: [dir], on: r.app.db, options: Self.options)
            #expect(second.skippedFiles.isEmpty, "a file with rejections was skipped")
            #expect(second.created == 2 && second.unchanged == 2, "\(second)")
            #expect(!second.hasRejections, "\(second.rejected)")
            #expect(try await Patient.query(on: r.app.db).count() == 4)
            // Completed without a rejection now: the third run skips it.
            let third = try await FHIRImport.run(paths: [dir], on: r.app.db, options: Self.options)
            #expect(third.skippedFiles.count == 1)
            #expect(third.resources == 0)
        }
    }

    /// A chunk's progress row counts its rejections in its transaction: a run that stops after
    /// it (here: the rest of the file is truncated) leaves the count for the resume.
    @Test func aCommittedChunkRecordsItsRejections() async throws {
        try await TestRegistry.run { r in
            let dir = try Self.directory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let file = dir + "/collection.json"
            let entries = [FHIRWriteTests.patient("K-1", site: "SYNTH", id: "k1"), FHIRWriteTests.patient("K-2", id: "k2")]
                .map { #"{"fullUrl": "urn:uuid:\#(UUID().uuidString.lowercased())", "resource": \#($0)}"# }
            let text = #"{"resourceType": "Bundle", "type": "collection", "entry": ["# + entries.joined(separator: ",") + #", {"resource": {"resourceType": "Pat"#
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            var options = Self.options
            options.chunkSize = 2
            await #expect(throws: ImportError.self) { try await FHIRImport.run(paths: [file], on: r.app.db, options: options) }
            let progress = try await ImportLedger.progress(of: try ImportInputs.fileKey(file), on: r.app.db)
            #expect(progress == ImportLedger.Progress(chunksDone: 0, resourcesDone: 2, rejected: 1, completed: false))
            #expect(try await Patient.query(on: r.app.db).count() == 1)
        }
    }

    /// A resume after a kill skips the committed chunks, but not their rejections: it reports
    /// them (exit status 2) and resets the file's progress, so the next run reads it whole.
    /// Its counts and rate are of what it read, not of what it skipped.
    @Test func aResumeReportsTheRejectionsOfSkippedChunksAndCountsOnlyWhatItReads() async throws {
        try await TestRegistry.run { r in
            let dir = try Self.directory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let file = dir + "/Patient.ndjson"
            try Self.ndjson((1...25).map { FHIRWriteTests.patient("S-\($0)", id: "s\($0)") }).write(toFile: file, atomically: true, encoding: .utf8)
            _ = try await FHIRImport.run(paths: [file], on: r.app.db, options: Self.options)
            let key = try ImportInputs.fileKey(file)
            #expect(try await ImportLedger.progress(of: key, on: r.app.db)?.completed == true)
            // As a run killed after its second chunk, one of whose resources was rejected, leaves it.
            try await ImportLedger.record(ImportLedger.Progress(chunksDone: 0, resourcesDone: 20, rejected: 1, completed: false), of: key, path: file, on: r.app.db)
            let resumed = try await FHIRImport.run(paths: [file], on: r.app.db, options: Self.options)
            #expect(resumed.resumedAfter == 20)
            #expect(resumed.resources == 5, "the resumed run counted \(resumed.resources) resources")
            #expect(resumed.unchanged == 5)
            #expect(resumed.rejectedEarlier == 1)
            #expect(resumed.hasRejections)
            #expect(try await ImportLedger.progress(of: key, on: r.app.db) == nil)
            let next = try await FHIRImport.run(paths: [file], on: r.app.db, options: Self.options)
            #expect(next.resumedAfter == 0 && next.resources == 25 && next.unchanged == 25, "\(next)")
            #expect(!next.hasRejections)
            #expect(try await ImportLedger.progress(of: key, on: r.app.db)?.completed == true)
        }
    }

    /// The first 64 KiB and the size are the same, the modification time is not (whole seconds
    /// apart: the key has nanoseconds, but a file system or `setAttributes` may keep less).
    @Test func aFileChangedPast64KiBWithTheSameSizeIsReadAgain() async throws {
        try await TestRegistry.run { r in
            let dir = try Self.directory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let file = dir + "/Patient.ndjson"
            // JSON white space pads the first resource past 64 KiB.
            let padded = FHIRWriteTests.patient("M-1", id: "m1").replacingOccurrences(of: "\"gender\"", with: String(repeating: " ", count: 70_000) + "\"gender\"")
            let before = Self.ndjson([padded, FHIRWriteTests.patient("M-2", family: "Moe", id: "m2")])
            let after = before.replacingOccurrences(of: "Moe", with: "Roe")
            #expect(before.utf8.count == after.utf8.count && before.utf8.count > 70_000)
            try before.write(toFile: file, atomically: false, encoding: .utf8)
            let fm = FileManager.default
            try fm.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_700_000_000)], ofItemAtPath: file)
            let first = try await FHIRImport.run(paths: [file], on: r.app.db, options: Self.options)
            #expect(first.created == 2)

            try after.write(toFile: file, atomically: false, encoding: .utf8)
            try fm.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_700_000_100)], ofItemAtPath: file)
            let second = try await FHIRImport.run(paths: [file], on: r.app.db, options: Self.options)
            #expect(second.skippedFiles.isEmpty, "the changed file was skipped as already imported")
            #expect(second.updated == 1 && second.unchanged == 1, "\(second)")
            #expect(try await Patient.query(on: r.app.db).filter(\.$mrn == "M-2").first()?.familyName == "Roe")

            // Unchanged and not touched: skipped. Touched only: read again, nothing changes.
            let third = try await FHIRImport.run(paths: [file], on: r.app.db, options: Self.options)
            #expect(third.skippedFiles.count == 1)
            try fm.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_700_000_200)], ofItemAtPath: file)
            let touched = try await FHIRImport.run(paths: [file], on: r.app.db, options: Self.options)
            #expect(touched.skippedFiles.isEmpty && touched.unchanged == 2 && touched.updated == 0, "\(touched)")
        }
    }

    @Test func aJSONFileThatIsNotABundleIsRejectedNamingWhy() async throws {
        try await TestRegistry.run { r in
            let dir = try Self.directory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let files: [(String, String, String)] = [
                ("Patient.json", FHIRWriteTests.patient("J-1", id: "j1"), "not a FHIR Bundle: resourceType Patient"),
                ("array.json", "[1,2]", "not a FHIR Bundle: the file is a JSON array"),
                ("empty.json", "", "empty file"),
                ("blank.json", " \n\n", "empty file"),
                ("untyped.json", #"{"entry": []}"#, "not a FHIR Bundle: the object has no resourceType"),
                ("bundle.json", #"{"resourceType": "Bundle", "type": "collection", "entry": []}"#, ""),
            ]
            for (name, text, _) in files { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
            let summary = try await FHIRImport.run(paths: [dir], on: r.app.db, options: Self.options)
            for (name, _, why) in files where !why.isEmpty {
                let rejection = summary.rejected.first { $0.file == dir + "/" + name }
                #expect(rejection?.issues.first?.hasPrefix(why) == true, "\(name): \(String(describing: rejection))")
            }
            #expect(summary.rejected.count == 5, "\(summary.rejected)")
            #expect(summary.hasRejections)
            #expect(try await Patient.query(on: r.app.db).count() == 0)
        }
    }

    @Test func aDirectoryListsTheEntriesItDoesNotRead() async throws {
        try await TestRegistry.run { r in
            let dir = try Self.directory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try Self.ndjson([FHIRWriteTests.patient("D-1", id: "d1")]).write(toFile: dir + "/Patient.ndjson", atomically: true, encoding: .utf8)
            try "notes".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
            try "<x/>".write(toFile: dir + "/other.xml", atomically: true, encoding: .utf8)
            let manifest = #"{"transactionTime": "2026-11-24T10:00:00Z", "request": "x", "requiresAccessToken": false, "output": [{"type": "Patient", "url": "Patient.ndjson"}], "error": []}"#
            try manifest.write(toFile: dir + "/manifest.json", atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: dir + "/more", withIntermediateDirectories: true)
            try Self.ndjson([FHIRWriteTests.patient("D-2", id: "d2")]).write(toFile: dir + "/more/Patient.ndjson", atomically: true, encoding: .utf8)
            let summary = try await FHIRImport.run(paths: [dir], on: r.app.db, options: Self.options)
            #expect(summary.files == 1)
            #expect(summary.ignored == [dir + "/more/", dir + "/notes.txt", dir + "/other.xml", dir + "/manifest.json (a Bulk Data manifest)"],
                    "\(summary.ignored)")
            #expect(summary.created == 1)
            #expect(!summary.hasRejections, "\(summary.rejected)")
        }
    }
}
