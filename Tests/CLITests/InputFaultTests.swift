import Foundation
import Testing

/// Input files that change or cannot be read under a running `run`: the study fails with one line naming the
/// file, the other studies are done, nothing of the failed study is written, and a rerun once the file is back
/// does it.
@Suite(.serialized) struct InputFaultTests {
    typealias F = FaultFixtures

    /// Lines of the child's stderr, read as they come; `onLine` may act on the child while it runs.
    static func runReadingStderr(_ arguments: [String], in folder: URL,
                                 onLine: (String, Process) -> Void) throws -> (status: Int32, err: [String]) {
        let process = Process()
        process.executableURL = UniverSegBinary.url
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardError = pipe
        try process.run()
        var lines: [String] = [], pending = Data()
        while true {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending = Data(pending[(newline + 1)...])
                lines.append(line)
                onLine(line, process)
            }
        }
        process.waitUntilExit()
        return (process.terminationStatus, lines)
    }

    /// Discovery has listed four studies when the run starts; while the first is inferred (the run is paused with
    /// SIGSTOP, so the moment is not a race: `--max-in-flight 1` reads the next study only after the first is
    /// written), s2's image is cut to half its length and s3's is deleted. s2 and s3 fail with one line naming
    /// their file; s1 and s4 are done; nothing of s2 or s3 is in the output folder; after the files are put back,
    /// a rerun does exactly those two, and the outputs are those of an undisturbed run.
    @Test func anInputTruncatedOrDeletedAfterDiscoveryFailsThatStudyOnly() async throws {
        let folder = try EngineCLIFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let names = ["s1", "s2", "s3", "s4"]
        try F.makeStudies(in: folder, names: names, slices: 1, step: 2)
        try F.writePipeline(in: folder, support: try F.makeSmallSupport(in: folder))
        let out = folder.appendingPathComponent("out"), reference = folder.appendingPathComponent("reference")
        let clean = try await EngineCLIFixtures.blocking { try UniverSegBinary.run(["run", "pipeline.yaml", "--quiet"], in: folder) }
        #expect(clean.status == 0, "\(clean.err)")
        try FileManager.default.moveItem(at: out, to: reference)

        let truncated = folder.appendingPathComponent("studies/s2/s2_image.nii.gz")
        let deleted = folder.appendingPathComponent("studies/s3/s3_image.nii.gz")
        let originals = (try Data(contentsOf: truncated), try Data(contentsOf: deleted))
        let faulted = try await EngineCLIFixtures.blocking {
            try Self.runReadingStderr(["run", "pipeline.yaml", "--max-in-flight", "1"], in: folder) { line, process in
                guard line.hasSuffix(" s1: infer") else { return }
                kill(process.processIdentifier, SIGSTOP)
                try? originals.0.prefix(originals.0.count / 2).write(to: truncated)
                try? FileManager.default.removeItem(at: deleted)
                kill(process.processIdentifier, SIGCONT)
            }
        }
        let failures = faulted.err.filter { $0.contains("FAILED") }
        #expect(faulted.status == 1, "\(faulted.err)")
        #expect(failures.count == 2, "\(faulted.err)")
        let s2 = failures.first { $0.contains(" s2: FAILED in read: \(truncated.path): error: ") }
        let s3 = failures.first { $0.contains(" s3: FAILED in read: \(deleted.path): error: ") }
        #expect(s2 != nil && s3 != nil, "\(failures)")
        print("truncated input: \(s2 ?? "-")\ndeleted input: \(s3 ?? "-")")
        #expect(!faulted.err.contains { $0.contains("Fatal error") })
        #expect(F.doneCounts(out) == ["s1": 1, "s4": 1])
        #expect(F.ledgerCounts(out, status: "failed") == ["s2": 1, "s3": 1])
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("s2").path))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("s3").path))
        #expect(F.temporaries(folder) == [])

        try originals.0.write(to: truncated)
        try originals.1.write(to: deleted)
        let rerun = try await EngineCLIFixtures.blocking { try UniverSegBinary.run(["run", "pipeline.yaml"], in: folder) }
        #expect(rerun.status == 0, "\(rerun.err)")
        #expect(rerun.err.contains("4 studies, 2 already done"), "\(rerun.err)")
        #expect(F.doneCounts(out) == ["s1": 1, "s2": 1, "s3": 1, "s4": 1])
        #expect(F.differences(expected: reference, actual: out) == [])
    }

    /// The CLI run as an unprivileged user (nobody, through util-linux's setpriv: root, which the tests run as,
    /// reads every file whatever its mode) over an input tree with an image file nobody may read and a study
    /// folder nobody may list: each of those studies fails with one line naming the file or folder, the readable
    /// study is done.
    @Test func unreadableFilesInTheInputTreeFailTheirStudyOnly() async throws {
        let setpriv = "/usr/bin/setpriv"
        guard FileManager.default.isExecutableFile(atPath: setpriv), getuid() == 0 else {
            print("skipped: needs root and \(setpriv) (util-linux) to run the CLI as an unprivileged user")
            return
        }
        let folder = try EngineCLIFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let names = ["s1", "s2", "s3"]
        try F.makeStudies(in: folder, names: names, slices: 1, step: 2)
        try F.writePipeline(in: folder, support: try F.makeSmallSupport(in: folder))
        let files = FileManager.default
        // Everything readable by all but the two faults; the output folder writable by nobody.
        for path in (files.enumerator(atPath: folder.path)?.allObjects as? [String] ?? []) + [""] {
            var isFolder: ObjCBool = false
            let url = folder.appendingPathComponent(path)
            files.fileExists(atPath: url.path, isDirectory: &isFolder)
            try files.setAttributes([.posixPermissions: isFolder.boolValue ? 0o755 : 0o644], ofItemAtPath: url.path)
        }
        let out = folder.appendingPathComponent("out")
        try files.createDirectory(at: out, withIntermediateDirectories: true)
        try files.setAttributes([.ownerAccountID: 65534, .groupOwnerAccountID: 65534], ofItemAtPath: out.path)
        let unreadableFile = folder.appendingPathComponent("studies/s2/s2_image.nii.gz")
        let unlistableFolder = folder.appendingPathComponent("studies/s3")
        try files.setAttributes([.posixPermissions: 0o000], ofItemAtPath: unreadableFile.path)
        try files.setAttributes([.posixPermissions: 0o000], ofItemAtPath: unlistableFolder.path)
        defer { try? files.setAttributes([.posixPermissions: 0o755], ofItemAtPath: unlistableFolder.path) }

        let arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", UniverSegBinary.url.path,
                         "run", "pipeline.yaml"]
        let result = try await EngineCLIFixtures.blocking { () throws -> (status: Int32, err: [String]) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: setpriv)
            process.arguments = arguments
            process.currentDirectoryURL = folder
            process.environment = ["HOME": folder.path, "PATH": "/usr/bin:/bin"]
            process.standardOutput = FileHandle.nullDevice
            let errFile = folder.appendingPathComponent("stderr.txt")
            files.createFile(atPath: errFile.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: errFile)
            try process.run()
            process.waitUntilExit()
            let text = try String(contentsOf: errFile, encoding: .utf8)
            return (process.terminationStatus, text.split(separator: "\n").map(String.init))
        }
        let failures = result.err.filter { $0.contains("FAILED") }
        print("unreadable inputs:\n" + failures.joined(separator: "\n"))
        #expect(result.status == 1, "\(result.err)")
        #expect(failures.count == 2, "\(result.err)")
        #expect(failures.contains { $0.hasSuffix(" s2: FAILED in read: \(unreadableFile.path): error: permission denied: this user may not read the file") }, "\(failures)")
        #expect(failures.contains { $0.hasSuffix(" s3: FAILED in read: \(unlistableFolder.path): error: cannot list the study folder: Permission denied") }, "\(failures)")
        #expect(!result.err.contains { $0.contains("Fatal error") })
        #expect(F.doneCounts(out) == ["s1": 1])
        #expect(F.temporaries(out) == [])
    }
}
