import Foundation
import Testing

/// `universeg watch` under faults, through the built binary: killed while studies arrive, and an inbox filled by
/// many writers at once. After each: every study moved to done/ and listed done once in the ledger, none failed,
/// lost or left in the inbox, no temporary left.
@Suite(.serialized) struct WatchFaultTests {
    typealias F = FaultFixtures
    static let watchSection = "watch: {settle: 300ms, poll: 100ms, done: done, failed: failed}"

    /// Copies each study of `names` from `staging` into `inbox` on `writers` threads of their own, `pause` seconds
    /// after the previous one on that thread; returns when all are in.
    static func drop(_ names: [String], from staging: URL, into inbox: URL, writers: Int, pause: @escaping @Sendable (Int) -> Double) {
        let threads = (0..<writers).map { lane in
            Thread {
                for (n, name) in names.enumerated() where n % writers == lane {
                    Thread.sleep(forTimeInterval: pause(n))
                    try? FileManager.default.copyItem(at: staging.appendingPathComponent(name),
                                                      to: inbox.appendingPathComponent(name))
                }
            }
        }
        threads.forEach { $0.start() }
        while threads.contains(where: { !$0.isFinished }) { usleep(10_000) }
    }

    /// Waits (on this thread) until `done` holds `count` entries or `seconds` pass.
    static func waitForDone(_ done: URL, count: Int, seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, F.contents(done).count < count { usleep(100_000) }
    }

    /// Stops a watcher as a user would (SIGTERM) and waits for it.
    static func stop(_ watcher: Process) {
        kill(watcher.processIdentifier, SIGTERM)
        watcher.waitUntilExit()
    }

    /// The end state every watch test checks.
    static func expectAllDoneOnce(_ names: [String], in folder: URL) {
        let out = folder.appendingPathComponent("out")
        #expect(F.contents(folder.appendingPathComponent("done")) == Set(names))
        #expect(F.contents(folder.appendingPathComponent("studies")).isEmpty)
        #expect(F.contents(folder.appendingPathComponent("failed")).isEmpty)
        #expect(F.doneCounts(out) == Dictionary(uniqueKeysWithValues: names.map { ($0, 1) }))
        #expect(F.ledgerCounts(out, status: "failed") == [:])
        #expect(F.temporaries(folder) == [])
    }

    /// The watcher is killed (SIGKILL) at 20 seeded moments and started again each time, while 8 studies are
    /// dropped into its inbox one after another (seeded gaps); a last watcher runs until all are done. End state:
    /// each study done once, moved once, and the outputs byte for byte those of `run` over the same studies in the
    /// same folder (`FaultFixtures.differences`; the summary lists the studies of earlier watchers too). Arrival
    /// gaps and kill moments scale with the reference run's length, up to caps. Half the studies are blank (no inference: the moves, writes and
    /// ledger lines are what a kill can cut), half are real single slices.
    @Test func watchKilledWhileStudiesArriveEndsAsARunOverThem() async throws {
        let folder = try EngineCLIFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let names = (1...8).map { "a\($0)" }
        try F.makeStudies(in: folder, names: names, slices: 1, step: 2) { ["a2", "a4", "a6", "a8"].contains($0) }
        try F.writePipeline(in: folder, support: try F.makeSmallSupport(in: folder), watch: Self.watchSection)
        let inbox = folder.appendingPathComponent("studies"), staging = folder.appendingPathComponent("staging")
        let out = folder.appendingPathComponent("out"), reference = folder.appendingPathComponent("reference")

        // The reference: `run` over the studies where the watcher will find them, its outputs then moved aside.
        let started = Date()
        let clean = try await EngineCLIFixtures.blocking { try UniverSegBinary.run(["run", "pipeline.yaml", "--quiet"], in: folder) }
        let duration = Date().timeIntervalSince(started)
        #expect(clean.status == 0, "\(clean.err)")
        try FileManager.default.moveItem(at: out, to: reference)
        try FileManager.default.moveItem(at: inbox, to: staging)
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)

        let seed: UInt64 = 1414
        // Scaled by the run's length, so that on a slow machine too the watchers get some studies done; capped, so
        // that a machine loaded by the parallel suite (a reference run of 80 s was seen) does not stretch it to minutes.
        let arrivals = F.moments(names.count, seed: seed, span: min(duration, 8))
        let kills = F.moments(20, seed: seed + 1, span: min(duration / 2, 4))
        print("watch kill test: seed \(seed), arrival gaps \(arrivals.map { String(format: "%.2f", $0) }) s, "
            + "watcher killed after \(kills.map { String(format: "%.2f", $0) }) s")
        let (landed, doneBeforeLast) = try await EngineCLIFixtures.blocking { () throws -> (Int, Int) in
            let writer = Thread { Self.drop(names, from: staging, into: inbox, writers: 1) { arrivals[$0] } }
            writer.start()
            var landed = 0
            let done = folder.appendingPathComponent("done")
            for (n, moment) in kills.enumerated() {
                let watcher = try F.start(["watch", "pipeline.yaml", "--quiet"], in: folder)
                // Every fifth watcher is killed just after it finishes a study (on a loaded machine the capped
                // moments alone can all fall before any study is done), so kills cut work in progress too.
                if n % 5 == 4 {
                    let before = F.contents(done).count
                    Self.waitForDone(done, count: min(before + 1, names.count), seconds: 120)
                }
                Thread.sleep(forTimeInterval: moment)
                if watcher.isRunning { landed += 1 }
                kill(watcher.processIdentifier, SIGKILL)
                watcher.waitUntilExit()
            }
            while !writer.isFinished { usleep(10_000) }
            let doneBeforeLast = F.contents(folder.appendingPathComponent("done")).count
            let last = try F.start(["watch", "pipeline.yaml", "--quiet"], in: folder)
            Self.waitForDone(folder.appendingPathComponent("done"), count: names.count, seconds: min(600, max(120, 20 * duration)))
            Self.stop(last)
            return (landed, doneBeforeLast)
        }
        print("watch kill test: \(landed) of \(kills.count) kills landed while the watcher ran; \(doneBeforeLast) of "
            + "\(names.count) studies were done by the killed watchers, the rest by the last one")
        #expect(landed == kills.count)
        #expect(doneBeforeLast >= 1, "the killed watchers should get some studies done")

        Self.expectAllDoneOnce(names, in: folder)
        #expect(F.differences(expected: reference, actual: out) == [])
    }

    /// 200 studies copied into a watched inbox at once by 8 writer threads: none lost, none processed twice, none
    /// failed. Studies of one 64 × 64 slice, 190 of them blank (read, written and recorded, but not inferred: one
    /// slice costs about 0.5 s of inference in a debug build) and 10 real, keep it inside the suite's time.
    @Test func aWatchedInboxReceiving200StudiesAtOnceDoesEachOnce() async throws {
        let folder = try EngineCLIFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let names = (1...200).map { String(format: "w%03d", $0) }
        let real = Set(stride(from: 0, to: names.count, by: 20).map { names[$0] })
        try F.makeStudies(in: folder, names: names, slices: 1, step: 4, under: "staging") { !real.contains($0) }
        try F.writePipeline(in: folder, support: try F.makeSmallSupport(in: folder), watch: Self.watchSection)
        let inbox = folder.appendingPathComponent("studies"), staging = folder.appendingPathComponent("staging")
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)

        let start = Date()
        try await EngineCLIFixtures.blocking {
            let watcher = try F.start(["watch", "pipeline.yaml", "--quiet"], in: folder)
            Self.drop(names, from: staging, into: inbox, writers: 8) { _ in 0 }
            Self.waitForDone(folder.appendingPathComponent("done"), count: names.count, seconds: 900)
            Self.stop(watcher)
        }
        print("200-study inbox: all moved to done/ in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        Self.expectAllDoneOnce(names, in: folder)
        for name in names {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/\(name)/\(name)_seg.nii.gz").path), "\(name)")
        }
    }
}
