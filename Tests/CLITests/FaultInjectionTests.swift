import Foundation
import Testing
import SegPipeline
import VolumeIO

/// Faults during `run`, through the built binary: SIGKILL at random moments, a full disk, symlink loops in the
/// input tree. After a fault and a rerun: the outputs against an uninterrupted run's
/// (`FaultFixtures.differences`), each study listed done once in the ledger, no `.tmp-` file left.
/// (`watch` under faults: WatchFaultTests; inputs that change or cannot be read: InputFaultTests.)
@Suite(.serialized) struct FaultInjectionTests {
    typealias F = FaultFixtures
    static let names = ["s1", "s2", "s3"]

    func execute(_ arguments: [String], in folder: URL) async throws -> (status: Int32, out: String, err: String) {
        try await EngineCLIFixtures.blocking { try UniverSegBinary.run(arguments, in: folder) }
    }

    /// Three short studies (4 slices of brain2 each, shifted so they differ) and pipeline.yaml writing to `output`.
    static func makeStudies(in folder: URL, names: [String] = names, output: String = "out") throws {
        try F.makeStudies(in: folder, names: names, slices: 4)
        try F.writePipeline(in: folder, output: output)
    }

    /// SIGKILL of `run` at 20 moments drawn (seeded, printed) over what is left of an uninterrupted run's length
    /// (estimated from the moments of the kills before, less the time a start takes before it works). After each
    /// kill a fresh start resumes; when a start ends before its moment, the outputs are checked against the uninterrupted
    /// run's (byte for byte, see `FaultFixtures.differences`; each study done once in the ledger; no temporary
    /// left) and the output folder is emptied for the next round, until 20 kills have landed in a working run.
    /// Three studies of one 128 × 128 slice and a small support set keep a run short. The reference run uses the
    /// same folder (its outputs then moved aside), so the reports' input paths match.
    @Test func killedAtRandomMomentsThenRerunMatchesAnUninterruptedRun() async throws {
        let folder = try EngineCLIFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let names = ["s1", "s2", "s3"]
        try F.makeStudies(in: folder, names: names, slices: 1, step: 2)
        try F.writePipeline(in: folder, support: try F.makeSmallSupport(in: folder))

        let start = Date()
        let clean = try await execute(["run", "pipeline.yaml", "--quiet"], in: folder)
        let duration = Date().timeIntervalSince(start)
        #expect(clean.status == 0, "\(clean.err)")
        // A start with nothing left to do: what every start spends before it works.
        let idleStart = Date()
        _ = try await execute(["run", "pipeline.yaml", "--quiet"], in: folder)
        let idle = Date().timeIntervalSince(idleStart)
        let out = folder.appendingPathComponent("out"), reference = folder.appendingPathComponent("reference")
        try FileManager.default.moveItem(at: out, to: reference)

        let seed: UInt64 = 14, wanted = 20
        let everyStudyOnce = Dictionary(uniqueKeysWithValues: names.map { ($0, 1) })
        /// What is wrong with a finished output folder (empty: nothing).
        let check: @Sendable (String) -> [String] = { when in
            var problems = F.differences(expected: reference, actual: out).map { "\(when): \($0)" }
            if F.doneCounts(out) != everyStudyOnce { problems.append("\(when): ledger \(F.doneCounts(out))") }
            if !F.temporaries(folder).isEmpty { problems.append("\(when): temporaries \(F.temporaries(folder))") }
            return problems
        }
        // Timed on a thread of its own: a sleep on the cooperative pool can wake long after its moment while other
        // suites keep the pool busy, and then every run has ended before its kill.
        let (moments, landed, rounds, problems) = try await EngineCLIFixtures.blocking {
            () throws -> ([Double], Int, Int, [String]) in
            var generator = SeededGenerator(seed: seed)
            var moments: [Double] = [], landed = 0, rounds = 0, problems: [String] = []
            // Drawn over what is left of the work (roughly), so most kills land in a working run. The span is capped:
            // a reference run timed while the parallel suite loads the machine (80 s seen) would otherwise make every
            // later, quicker start sleep far past its end, for up to an hour in all.
            var span = min(duration, 8)
            var remaining = span
            while landed < wanted && moments.count < 4 * wanted {
                let moment = Double(generator.next() % 10_000) / 10_000 * remaining
                moments.append(moment)
                let process = try F.start(["run", "pipeline.yaml", "--quiet"], in: folder)
                let started = Date()
                while process.isRunning && Date().timeIntervalSince(started) < moment { Thread.sleep(forTimeInterval: 0.01) }
                // A whole run (the first start of a round) that ended before its kill shows the runs are quicker now
                // than the timed one (the machine's load fell): later moments are drawn over what it took.
                if !process.isRunning, remaining == span { span = max(idle, min(span, Date().timeIntervalSince(started))) }
                if process.isRunning {
                    landed += 1
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                    // At least one study's worth of work past the start is left (else kills pile up in start-up).
                    remaining = max(min(idle, span) + max(0, span - idle) / Double(names.count), remaining - max(0, moment - idle))
                    continue
                }
                remaining = span
                // This start finished the work the killed ones left: check, then begin a new round from nothing.
                process.waitUntilExit()
                rounds += 1
                if process.terminationStatus != 0 { problems.append("round \(rounds): exit \(process.terminationStatus)") }
                problems += check("round \(rounds)")
                try FileManager.default.removeItem(at: out)
            }
            return (moments, landed, rounds, problems)
        }
        print("kill test: seed \(seed), run length \(String(format: "%.2f", duration)) s (idle start \(String(format: "%.2f", idle)) s), \(landed) kills landed in "
            + "\(moments.count) starts at \(moments.map { String(format: "%.2f", $0) }) s; \(rounds) rounds ended and were checked")
        #expect(landed == wanted, "kills should land while the run works")
        #expect(problems == [])
        let rerun = try await execute(["run", "pipeline.yaml", "--quiet"], in: folder)
        #expect(rerun.status == 0, "\(rerun.err)")
        #expect(check("after the last kill") == [])
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
        let before = F.outputFiles(out)
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
        #expect(F.outputFiles(out).subtracting(["filler"]).isSuperset(of: before))
        #expect(F.temporaries(out) == [])

        try FileManager.default.removeItem(at: filler)
        let rerun = try await execute(["run", "pipeline.yaml", "--quiet"], in: folder)
        #expect(rerun.status == 0, "\(rerun.err)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("s2/s2_seg.nii.gz").path))
        #expect(F.doneCounts(out) == ["s1": 1, "s2": 1])
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
        #expect(F.doneCounts(folder.appendingPathComponent("out"))["s1"] == 1, "\(run.out)\(run.err)")
        let inspect = try await execute(["inspect", studies.path], in: folder)
        #expect(inspect.status == 0, "\(inspect.err)")
    }
}
