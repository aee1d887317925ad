import Foundation
import Testing
import VolumeIO

/// Faults during runs, through the built binary: SIGKILL at random moments, a full disk, symlink loops in the
/// input tree. What is compared after a fault and a rerun: the set of output files (reports, QC images, label
/// maps; not the ledger, lock or summary page, which hold times) and the label maps' voxels, shapes and affines
/// against an uninterrupted run; each study listed done once in the ledger; no `.tmp-` file left.
@Suite(.serialized) struct FaultInjectionTests {
    static let repo = UniverSegBinary.repository
    static let weights = repo.appendingPathComponent("Tests/UniverSegTests/Fixtures/mixed.safetensors")
    static let brain2 = repo.appendingPathComponent("SampleData/nifti-study/brain2/brain2_image.nii.gz")
    static let names = ["s1", "s2", "s3"]

    func execute(_ arguments: [String], in folder: URL) async throws -> (status: Int32, out: String, err: String) {
        try await EngineCLIFixtures.blocking { try UniverSegBinary.run(arguments, in: folder) }
    }

    /// Three short studies (4 slices of brain2 each, shifted so they differ) and pipeline.yaml writing to `out`.
    static func makeStudies(in folder: URL, names: [String] = names, output: String = "out", slices count: Int = 4,
                            watch: String = "") throws {
        let image = try NiftiReader.readImage(brain2)
        let plane = image.shape[0] * image.shape[1]
        for (n, name) in names.enumerated() {
            let file = folder.appendingPathComponent("studies/\(name)/\(name)_image.nii.gz")
            if FileManager.default.fileExists(atPath: file.path) { continue }   // a study already there stays as it is
            let first = 6 + (3 * n) % 14
            var affine = image.affine
            for r in 0..<3 { affine[r, 3] += Double(first) * image.affine[r, 2] }
            let cropped = Volume(shape: [image.shape[0], image.shape[1], count], affine: affine,
                                 voxels: Array(image.voxels[(first * plane)..<((first + count) * plane)]))
            try NiftiWriter.write(cropped, to: file)
        }
        try """
            name: faults
            inputs: {folder: studies, format: nifti, image: "*_image.nii.gz"}
            support: {library: \(repo.appendingPathComponent("SampleData/support/from-brain1").path), strategy: random}
            targets: [{name: lesion, value: 1, labels: [1]}]
            model: {weights: \(weights.path), support_size: 2, ensemble: 1, seed: 3}
            outputs: {folder: \(output), writers: [nifti, report, qc]}
            concurrency: {threads: 1}
            \(watch)
            """.write(to: folder.appendingPathComponent("pipeline.yaml"), atomically: true, encoding: .utf8)
    }

    /// Relative paths of every file under `folder`, without the files that record times or hold the lock.
    static func outputFiles(_ folder: URL) -> Set<String> {
        let all = FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? []
        return Set(all.filter { path in
            var isFolder: ObjCBool = false
            FileManager.default.fileExists(atPath: folder.appendingPathComponent(path).path, isDirectory: &isFolder)
            return !isFolder.boolValue && !["ledger.jsonl", ".universeg.lock", "index.html"].contains(path)
        })
    }

    /// Studies the ledger lists as done, with how many times each.
    static func doneCounts(_ out: URL) -> [String: Int] {
        let text = (try? String(contentsOf: out.appendingPathComponent("ledger.jsonl"), encoding: .utf8)) ?? ""
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            guard let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  entry["status"] as? String == "done", let study = entry["study"] as? String else { continue }
            counts[study, default: 0] += 1
        }
        return counts
    }

    static func temporaries(_ folder: URL) -> [String] {
        (FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? [])
            .filter { ($0 as NSString).lastPathComponent.hasPrefix(".tmp-") }
    }

    /// SIGKILL at 6 moments drawn (seeded) over the first 60% of an uninterrupted run's length, each kill followed
    /// by a fresh start that resumes (so later starts have less left to do and some end before their kill), then a
    /// run to the end: the outputs are those of the uninterrupted run.
    @Test func killedAtRandomMomentsThenRerunMatchesAnUninterruptedRun() async throws {
        let reference = try EngineCLIFixtures.temporaryFolder(), faulted = try EngineCLIFixtures.temporaryFolder()
        defer { for folder in [reference, faulted] { try? FileManager.default.removeItem(at: folder) } }
        try Self.makeStudies(in: reference)
        try Self.makeStudies(in: faulted)

        let start = Date()
        let clean = try await execute(["run", "pipeline.yaml", "--quiet"], in: reference)
        let duration = Date().timeIntervalSince(start)
        #expect(clean.status == 0, "\(clean.err)")

        // Timed on a thread of its own: a sleep on the cooperative pool can wake long after its moment while other
        // suites keep the pool busy, and then every run has ended before its kill.
        let killedWhileRunning = try await EngineCLIFixtures.blocking { () throws -> Int in
            var generator = SplitMix(seed: 14)
            var landed = 0
            for _ in 0..<6 {
                let moment = Double(generator.next() % 1000) / 1000 * duration * 0.6
                let process = Process()
                process.executableURL = UniverSegBinary.url
                process.arguments = ["run", "pipeline.yaml", "--quiet"]
                process.currentDirectoryURL = faulted
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                Thread.sleep(forTimeInterval: moment)
                if process.isRunning { landed += 1 }
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            return landed
        }
        #expect(killedWhileRunning >= 2, "kills should land while the run works")
        print("kill test: \(killedWhileRunning) of 6 kills landed while the run was working (run length \(duration) s)")
        let rerun = try await execute(["run", "pipeline.yaml", "--quiet"], in: faulted)
        #expect(rerun.status == 0, "\(rerun.err)")

        let out = reference.appendingPathComponent("out"), faultedOut = faulted.appendingPathComponent("out")
        #expect(Self.outputFiles(faultedOut) == Self.outputFiles(out))
        #expect(Self.doneCounts(faultedOut) == Dictionary(uniqueKeysWithValues: Self.names.map { ($0, 1) }))
        #expect(Self.temporaries(faulted) == [])
        for name in Self.names {
            let path = "out/\(name)/\(name)_seg.nii.gz"
            let expected = try NiftiReader.readLabels(reference.appendingPathComponent(path))
            let actual = try NiftiReader.readLabels(faulted.appendingPathComponent(path))
            #expect(actual.voxels == expected.voxels && actual.shape == expected.shape && actual.affine == expected.affine, "\(name)")
        }
    }

    /// The output folder on a 1 MiB tmpfs: a first run fills part of it; with the rest taken by another file the
    /// next study fails with a clear line naming it and the device error, the earlier outputs are intact and no
    /// temporary is left; once space is freed, a rerun does that study.
    @Test func aFullDiskFailsTheStudyCleanlyAndTheRerunDoesIt() async throws {
        let folder = try EngineCLIFixtures.temporaryFolder()
        let out = folder.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        guard BadOptionTests.Scratch.command("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", out.path]) == 0 else {
            try? FileManager.default.removeItem(at: folder)
            print("skipped: cannot mount a tmpfs here (needs root): full-disk test not run")
            return
        }
        defer {
            _ = BadOptionTests.Scratch.command("/bin/umount", [out.path])
            try? FileManager.default.removeItem(at: folder)
        }
        try Self.makeStudies(in: folder, names: ["s1"], output: "out")
        let first = try await execute(["run", "pipeline.yaml", "--quiet"], in: folder)
        #expect(first.status == 0, "\(first.err)")
        let before = Self.outputFiles(out)
        let seg = out.appendingPathComponent("s1/s1_seg.nii.gz")
        let bytesBefore = try Data(contentsOf: seg)

        // Fill what is left, then add a study.
        let filler = out.appendingPathComponent("filler")
        FileManager.default.createFile(atPath: filler.path, contents: nil)
        let handle = try FileHandle(forWritingTo: filler)
        while (try? handle.write(contentsOf: Data(count: 16 << 10))) != nil {}
        try? handle.close()
        try Self.makeStudies(in: folder, names: ["s1", "s2"], output: "out")
        let full = try await execute(["run", "pipeline.yaml", "--quiet"], in: folder)
        #expect(full.status == 1 || full.status == 3, "\(full.err)")
        #expect(full.err.contains("No space left on device"), "\(full.err)")
        #expect(!full.err.contains("Fatal error"))
        #expect(try Data(contentsOf: seg) == bytesBefore)
        #expect(Self.outputFiles(out).subtracting(["filler"]).isSuperset(of: before))
        #expect(Self.temporaries(out) == [])

        try FileManager.default.removeItem(at: filler)
        let rerun = try await execute(["run", "pipeline.yaml", "--quiet"], in: folder)
        #expect(rerun.status == 0, "\(rerun.err)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("s2/s2_seg.nii.gz").path))
        #expect(Self.doneCounts(out) == ["s1": 1, "s2": 1])
    }

    /// Symbolic-link loops in the input tree (a link to itself, a folder linking to its parent) neither hang nor
    /// stop the run: the real studies are done. (Unreadable files cannot be made for root, which these tests run
    /// as; a FIFO stands in for a file that cannot be read normally.)
    @Test func symlinkLoopsAndAFifoInTheInputTreeDoNotHangTheRun() async throws {
        let folder = try EngineCLIFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.makeStudies(in: folder, names: ["s1"])
        let studies = folder.appendingPathComponent("studies")
        try FileManager.default.createSymbolicLink(atPath: studies.appendingPathComponent("s1/self-loop.nii.gz").path,
                                                   withDestinationPath: "self-loop.nii.gz")
        try FileManager.default.createDirectory(at: studies.appendingPathComponent("s2"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: studies.appendingPathComponent("s2/up").path, withDestinationPath: "..")
        #expect(mkfifo(studies.appendingPathComponent("s1/pipe.nii.gz").path, 0o600) == 0)

        let start = Date()
        let run = try await execute(["run", "pipeline.yaml", "--quiet"], in: folder)
        #expect(Date().timeIntervalSince(start) < 120)
        #expect(run.status == 0 || run.status == 1, "\(run.err)")
        #expect(!run.err.contains("Fatal error"))
        #expect(Self.doneCounts(folder.appendingPathComponent("out"))["s1"] == 1, "\(run.out)\(run.err)")
        let inspect = try await execute(["inspect", studies.path], in: folder)
        #expect(inspect.status == 0, "\(inspect.err)")
    }
}

extension FaultInjectionTests {
    /// `watch` with 10 studies copied into its inbox at once by 5 threads: every study is done once (ledger),
    /// moved to watch.done, none is lost, failed or left in the inbox.
    @Test func aWatchedInboxReceivingManyStudiesAtOnceDoesEachOnce() async throws {
        let folder = try EngineCLIFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let names = (1...10).map { "w\($0)" }
        try Self.makeStudies(in: folder, names: names, slices: 2,
                             watch: "watch: {settle: 1s, poll: 200ms, done: done, failed: failed}")
        // The studies wait in staging; the inbox starts empty.
        let inbox = folder.appendingPathComponent("studies"), staging = folder.appendingPathComponent("staging")
        try FileManager.default.moveItem(at: inbox, to: staging)
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)

        let watch = Process()
        watch.executableURL = UniverSegBinary.url
        watch.arguments = ["watch", "pipeline.yaml", "--quiet"]
        watch.currentDirectoryURL = folder
        watch.standardOutput = FileHandle.nullDevice
        watch.standardError = FileHandle.nullDevice
        try watch.run()
        defer { if watch.isRunning { kill(watch.processIdentifier, SIGKILL) } }

        try await EngineCLIFixtures.blocking {
            let threads = (0..<5).map { lane in
                Thread {
                    for (n, name) in names.enumerated() where n % 5 == lane {
                        try? FileManager.default.copyItem(at: staging.appendingPathComponent(name),
                                                          to: inbox.appendingPathComponent(name))
                    }
                }
            }
            threads.forEach { $0.start() }
            while threads.contains(where: { !$0.isFinished }) { usleep(10_000) }
        }

        let done = folder.appendingPathComponent("done"), out = folder.appendingPathComponent("out")
        let deadline = Date().addingTimeInterval(240)
        while Date() < deadline,
              ((try? FileManager.default.contentsOfDirectory(atPath: done.path)) ?? []).count < names.count {
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        kill(watch.processIdentifier, SIGTERM)
        while watch.isRunning { try await Task.sleep(nanoseconds: 20_000_000) }

        #expect(Set((try? FileManager.default.contentsOfDirectory(atPath: done.path)) ?? []) == Set(names))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: inbox.path)) ?? []).isEmpty)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("failed").path)) ?? []).isEmpty)
        #expect(Self.doneCounts(out) == Dictionary(uniqueKeysWithValues: names.map { ($0, 1) }))
        for name in names {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(name)/\(name)_seg.nii.gz").path), "\(name)")
        }
        #expect(Self.temporaries(folder) == [])
    }
}

/// A small seeded generator (SplitMix64), so the kill moments are the same on every run.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
