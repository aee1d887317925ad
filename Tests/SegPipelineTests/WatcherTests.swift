import Foundation
import Synchronization
import Testing
import VolumeIO
@testable import SegPipeline

@Suite struct WatcherTests {
    actor Seen {
        var outcomes: [StudyOutcome] = []
        func add(_ outcome: StudyOutcome) { outcomes.append(outcome) }
        var count: Int { outcomes.count }
    }

    /// Runs a watcher until `count` studies finished (or 120 s passed: a generous cap for a loaded machine), doing
    /// `arrive` meanwhile.
    func watch(_ spec: PipelineSpec, segmenter: FakeSegmenter = FakeSegmenter(), until count: Int,
               arrive: @escaping @Sendable () async throws -> Void = {}) async throws -> [StudyOutcome] {
        let seen = Seen()
        let deadline = Date().addingTimeInterval(120)
        let watcher = Watcher(graph: JobGraph(spec: spec, segmenter: segmenter))
        async let watching: Void = watcher.run(until: { await seen.count >= count || Date() > deadline },
                                               onOutcome: { await seen.add($0) })
        try await arrive()
        try await watching
        return await seen.outcomes
    }

    @Test func aStudyArrivingInPiecesStartsOnlyOnceItSettled() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try writeFakeSupport(root.appendingPathComponent("support"), name: "a")
        let inbox = root.appendingPathComponent("inputs")
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        var spec = fakeSpec(root: root)  // poll 0.05 s
        // Pieces arrive 0.15 s apart; the settle time is far longer, because on a loaded machine the task writing
        // them can wait seconds for a thread while other suites run (0.3 s and then 2 s let a study be taken
        // mid-arrival under a full parallel test run).
        spec.watch.settleSeconds = 6
        let file = inbox.appendingPathComponent("slow/slow_image.nii.gz")

        let outcomes = try await watch(spec, until: 1) {
            // Bytes trickle in with pauses shorter than the settle time; a read of any prefix would fail.
            // On a thread of its own, so the pieces keep their pace however busy the cooperative pool is.
            try await blocking {
                let content = Array(try TestStudy.niftiBytes())
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                for end in stride(from: content.count / 6, through: content.count, by: content.count / 6) + [content.count] {
                    try Data(content[0..<end]).write(to: file)
                    Thread.sleep(forTimeInterval: 0.15)
                }
            }
        }
        #expect(outcomes.map(\.status) == [.done])
        #expect(FileManager.default.fileExists(atPath: spec.watch.doneFolder.appendingPathComponent("slow/slow_image.nii.gz").path))
        #expect(!FileManager.default.fileExists(atPath: inbox.appendingPathComponent("slow").path))
        #expect(FileManager.default.fileExists(atPath: spec.outputs.folder.appendingPathComponent("slow/slow_seg.nii.gz").path))
    }

    @Test func aFailedStudyMovesToFailedWithItsReason() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try writeFakeSupport(root.appendingPathComponent("support"), name: "a")
        let inbox = root.appendingPathComponent("inputs")
        try writeFakeVolume(inbox.appendingPathComponent("good.nii.gz"))
        try FileManager.default.createDirectory(at: inbox.appendingPathComponent("bad"), withIntermediateDirectories: true)
        try Data("not a volume".utf8).write(to: inbox.appendingPathComponent("bad/bad_image.nii.gz"))
        let spec = fakeSpec(root: root)

        let outcomes = try await watch(spec, until: 2)
        #expect(outcomes.map(\.status).sorted { $0.rawValue < $1.rawValue } == [.done, .failed])
        #expect(FileManager.default.fileExists(atPath: spec.watch.doneFolder.appendingPathComponent("good.nii.gz").path))
        let reason = try String(contentsOf: spec.watch.failedFolder.appendingPathComponent("bad.reason.txt"), encoding: .utf8)
        #expect(reason.hasPrefix("bad failed in read: "))
        #expect(reason.contains("bad_image.nii.gz: error: unreadable NIfTI header"))
        #expect(FileManager.default.fileExists(atPath: spec.watch.failedFolder.appendingPathComponent("bad/bad_image.nii.gz").path))
        let html = try String(contentsOf: spec.outputs.folder.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("good") && html.contains("bad"))
    }

    /// A restarted watch reads each earlier study's report once, when it starts, not at every rewrite of the
    /// summary: here the report is deleted after that, and the summary still shows the study's numbers.
    @Test func earlierStudiesAreSummarisedFromReportsReadOnce() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try writeFakeSupport(root.appendingPathComponent("support"), name: "a")
        try writeFakeVolume(root.appendingPathComponent("inputs/first.nii.gz"))
        let spec = fakeSpec(root: root)
        let done = try await watch(spec, until: 1)
        let voxels = try #require(done.first?.report?.targets.first?.voxels)

        let earlier = Watcher.earlierStudies(spec)
        #expect(earlier.map(\.row.study) == ["first"])
        #expect(earlier.first?.row.html.contains("mL (\(voxels))") == true)
        #expect(earlier.first?.row.html.contains("first_qc.png") == true)
        #expect(earlier.first?.statistics?.lines.count == 1)
        let report = "first/first_report.json"
        #expect(earlier.first?.row.html.contains(report) == true)
        try FileManager.default.removeItem(at: spec.outputs.folder.appendingPathComponent(report))
        try SummaryWriter.write(spec: spec, entries: earlier)
        let html = try String(contentsOf: spec.outputs.folder.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("mL (\(voxels))"), "the row lost its numbers: the report was read again")
        // And a report that is gone when the watch starts is neither summarised nor linked.
        let restarted = Watcher.earlierStudies(spec)
        #expect(restarted.first?.row.html.contains(" mL (") == false)
        #expect(restarted.first?.statistics == nil)
        #expect(restarted.first?.row.html.contains(report) == false)
    }

    /// "dup/" and "dup.nii.gz" in the inbox at once are both study "dup": both go to failed/ with the reason
    /// (before, the watcher saw one study whose files kept changing and never started either).
    @Test func twoEntriesWithOneStudyNameFailTogether() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try writeFakeSupport(root.appendingPathComponent("support"), name: "a")
        let inbox = root.appendingPathComponent("inputs")
        try writeFakeVolume(inbox.appendingPathComponent("dup.nii.gz"))
        try writeFakeVolume(inbox.appendingPathComponent("dup/dup_image.nii.gz"), shape: [12, 10, 8])
        try writeFakeVolume(inbox.appendingPathComponent("fine.nii.gz"))
        let spec = fakeSpec(root: root)

        let outcomes = try await watch(spec, until: 3)
        #expect(outcomes.filter { $0.study.name == "dup" }.map(\.status) == [.failed, .failed])
        #expect(outcomes.first { $0.study.name == "fine" }?.status == .done)
        let reason = try String(contentsOf: spec.watch.failedFolder.appendingPathComponent("dup.nii.gz.reason.txt"), encoding: .utf8)
        #expect(reason.contains("'dup' and 'dup.nii.gz' are both study 'dup'"))
        #expect(FileManager.default.fileExists(atPath: spec.watch.failedFolder.appendingPathComponent("dup/dup_image.nii.gz").path))
        #expect(!FileManager.default.fileExists(atPath: spec.outputs.folder.appendingPathComponent("dup").path))
    }

    /// A second study arriving under the name of one already done (a follow-up exported to the same folder name)
    /// is segmented as "name-2": the first study's outputs stay as they were.
    @Test func aNewArrivalUnderADoneNameKeepsTheEarlierOutputs() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try writeFakeSupport(root.appendingPathComponent("support"), name: "a")
        let inbox = root.appendingPathComponent("inputs")
        try writeFakeVolume(inbox.appendingPathComponent("visit/visit_image.nii.gz"))
        let spec = fakeSpec(root: root)
        let first = try await watch(spec, until: 1)
        #expect(first.map(\.status) == [.done])
        let earlier = try Data(contentsOf: spec.outputs.folder.appendingPathComponent("visit/visit_seg.nii.gz"))

        try writeFakeVolume(inbox.appendingPathComponent("visit/visit_image.nii.gz"), shape: [12, 10, 8])
        let second = try await watch(spec, until: 1)
        #expect(second.map(\.study.name) == ["visit-2"] && second.map(\.status) == [.done])
        #expect(try Data(contentsOf: spec.outputs.folder.appendingPathComponent("visit/visit_seg.nii.gz")) == earlier)
        let labels = try NiftiReader.readLabels(spec.outputs.folder.appendingPathComponent("visit-2/visit-2_seg.nii.gz"))
        #expect(labels.shape == [12, 10, 8])
        for moved in ["visit", "visit-2"] {
            #expect(FileManager.default.fileExists(atPath: spec.watch.doneFolder.appendingPathComponent(moved).path), "\(moved)")
        }
    }

    /// Stopping while studies queue for the engine: those being inferred are finished and moved, the others stay
    /// in the inbox untouched (no outputs, no ledger line) for the next start.
    @Test func aStoppedWatchLeavesStudiesNotYetInferredInTheInbox() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try writeFakeSupport(root.appendingPathComponent("support"), name: "a")
        let inbox = root.appendingPathComponent("inputs")
        for name in ["q1", "q2", "q3"] { try writeFakeVolume(inbox.appendingPathComponent("\(name).nii.gz")) }
        let spec = fakeSpec(root: root)
        // The first study passes the engine; the second is held there until 2 s after the stop, so the third waits.
        let gate = DispatchSemaphore(value: 0)
        let seen = Seen()
        try await Watcher(graph: JobGraph(spec: spec, segmenter: FakeSegmenter(gate: gate))).run(until: {
            guard await seen.count >= 1 else { return false }
            DispatchQueue.global().asyncAfter(deadline: .now() + 2) { gate.signal(); gate.signal() }
            return true
        }, onOutcome: { await seen.add($0) })

        // q1 is done; q2 usually reached the engine before the stop (then it is finished too); q3 cannot have.
        let outcomes = await seen.outcomes
        #expect(outcomes.allSatisfy { $0.status == .done })
        let left = try FileManager.default.contentsOfDirectory(atPath: inbox.path).filter { $0.hasSuffix(".nii.gz") }
        #expect(!left.isEmpty && outcomes.count + left.count == 3, "\(left)")
        #expect(Ledger(outputFolder: spec.outputs.folder).entries().count == outcomes.count)
    }

    @Test func afterARestartAStudyFinishedButNotMovedIsOnlyMoved() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try writeFakeSupport(root.appendingPathComponent("support"), name: "a")
        let inbox = root.appendingPathComponent("inputs")
        try writeFakeVolume(inbox.appendingPathComponent("s1/s1_image.nii.gz"))
        let spec = fakeSpec(root: root)
        // A batch run writes the outputs and the ledger; the study stays in the inbox, as after a kill before moving.
        _ = try await BatchRun(graph: JobGraph(spec: spec, segmenter: FakeSegmenter())).run()
        let summary = spec.outputs.folder.appendingPathComponent(OutputSuffixes.statisticsTable)
        let statistics = try Data(contentsOf: summary)
        try FileManager.default.removeItem(at: summary)

        let segmenter = FakeSegmenter()
        let outcomes = try await watch(spec, segmenter: segmenter, until: 1)
        #expect(outcomes.map(\.status) == [.done])
        #expect(segmenter.calls.withLock { $0 } == 0)
        #expect(FileManager.default.fileExists(atPath: spec.watch.doneFolder.appendingPathComponent("s1").path))
        // Listed with its numbers, as the run listed it (the summary once lost the rows of studies only moved).
        #expect(outcomes.first?.report != nil)
        #expect(try Data(contentsOf: summary) == statistics)
    }

    /// `outputs.summary: false` holds for a watch as for a run: no index.html or summary.csv, before or after a study.
    @Test func aWatchWithTheSummaryOffWritesNone() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try writeFakeSupport(root.appendingPathComponent("support"), name: "a")
        try writeFakeVolume(root.appendingPathComponent("inputs/s1/s1_image.nii.gz"))
        var spec = fakeSpec(root: root)
        spec.outputs.summary = false
        _ = try await BatchRun(graph: JobGraph(spec: spec, segmenter: FakeSegmenter())).run()   // an earlier study
        try writeFakeVolume(root.appendingPathComponent("inputs/s2/s2_image.nii.gz"))
        #expect(try await watch(spec, until: 2).map(\.status) == [.done, .done])
        for name in ["index.html", OutputSuffixes.statisticsTable] {
            #expect(!FileManager.default.fileExists(atPath: spec.outputs.folder.appendingPathComponent(name).path), "\(name)")
        }
    }

    /// Killed after moving a study and before rewriting the summary: the next start rewrites it, even with nothing
    /// left to do.
    @Test func aRestartWithAnEmptyInboxRewritesASummaryAKillLeftBehind() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try writeFakeSupport(root.appendingPathComponent("support"), name: "a")
        try writeFakeVolume(root.appendingPathComponent("inputs/s1/s1_image.nii.gz"))
        let spec = fakeSpec(root: root)
        _ = try await BatchRun(graph: JobGraph(spec: spec, segmenter: FakeSegmenter())).run()
        try FileManager.default.createDirectory(at: spec.watch.doneFolder, withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: root.appendingPathComponent("inputs/s1"),
                                         to: spec.watch.doneFolder.appendingPathComponent("s1"))
        let summary = spec.outputs.folder.appendingPathComponent(OutputSuffixes.statisticsTable)
        let statistics = try Data(contentsOf: summary)
        try FileManager.default.removeItem(at: summary)

        #expect(try await watch(spec, until: 0).isEmpty)
        #expect(try Data(contentsOf: summary) == statistics)
    }
}
