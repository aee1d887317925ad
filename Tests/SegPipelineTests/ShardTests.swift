import Foundation
import Synchronization
import Testing
import VolumeIO
@testable import SegPipeline

/// Sharded runs: the assignment rule, `--shard` parsing, locks per shard and per split, per-shard ledgers, and
/// the merged summary.
@Suite struct ShardTests {
    /// The rule is FNV-1a-64 of the name's UTF-8 bytes mod N; these values were computed independently (Python).
    @Test func aStudyBelongsToTheShardItsNameHashesTo() {
        #expect(Shard.index(of: "study1", count: 3) == 2)
        #expect(Shard.index(of: "study3", count: 3) == 0)
        #expect(Shard.index(of: "study5", count: 3) == 1)
        #expect(Shard.index(of: "patient-042", count: 5) == 1)
        #expect(Shard.index(of: "Ünïcode", count: 7) == 2)
    }

    @Test func everyStudyIsInExactlyOneShard() throws {
        let names = (0..<500).map { "case-\($0)" }
        for count in 1...7 {
            let shards = try (0..<count).map { try Shard(index: $0, count: count) }
            for name in names { #expect(shards.filter { $0.owns(name) }.count == 1, "\(name) in \(count)") }
            // Not all in one shard: the rule spreads studies.
            let sizes = shards.map { shard in names.filter(shard.owns).count }
            #expect(sizes.allSatisfy { $0 > names.count / count / 2 }, "\(sizes)")
        }
    }

    @Test func shardsAreParsedFromTheCommandLineAndTheScheduler() throws {
        #expect(try Shard.parse("2/3", environment: [:]) == Shard(index: 2, count: 3))
        for bad in ["3/3", "-1/3", "a/3", "1/0", "1", "1/2/3", "", "auto/x"] {
            #expect(throws: ShardError.self, "\(bad)") { try Shard.parse(bad, environment: [:]) }
        }
        let array = ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "0",
                     "SLURM_ARRAY_TASK_MAX": "2"]
        #expect(try Shard.parse("auto", environment: array) == Shard(index: 1, count: 3))
        #expect(try Shard.parse("auto/4", environment: array) == Shard(index: 1, count: 4))
        // A resubmitted element is an array of one: its count must be given.
        let resubmitted = ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "1", "SLURM_ARRAY_TASK_MIN": "2",
                           "SLURM_ARRAY_TASK_MAX": "2"]
        #expect(throws: ShardError.self) { try Shard.parse("auto", environment: resubmitted) }
        #expect(try Shard.parse("auto/3", environment: resubmitted) == Shard(index: 2, count: 3))
        #expect(try Shard.parse("auto/4", environment: ["JOB_COMPLETION_INDEX": "3"]) == Shard(index: 3, count: 4))
        #expect(throws: ShardError.self) { try Shard.parse("auto", environment: ["JOB_COMPLETION_INDEX": "3"]) }
        #expect(throws: ShardError.self) { try Shard.parse("auto/4", environment: ["JOB_COMPLETION_INDEX": "4"]) }
        #expect(throws: ShardError.self) { try Shard.parse("auto/4", environment: [:]) }
    }

    @Test func aShardIsHeldOnceAndSplitsAndWholeRunsExcludeEachOther() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        func take(_ scope: OutputFolderLock.Scope) -> Result<OutputFolderLock, PipelineError> {
            Result { try OutputFolderLock(folder, scope: scope) }.mapError { $0 as! PipelineError }
        }
        func problem(_ result: Result<OutputFolderLock, PipelineError>) -> String {
            if case .failure(let error) = result { return error.problem }
            return "taken"
        }
        var zero: OutputFolderLock? = try take(.shard(Shard(index: 0, count: 3))).get()
        var one: OutputFolderLock? = try take(.shard(Shard(index: 1, count: 3))).get()
        #expect(problem(take(.shard(try Shard(index: 0, count: 3)))).hasPrefix("shard 0/3 is already running (pid \(getpid())"))
        #expect(problem(take(.whole)) == "in use by the shards of a 3-way split")
        #expect(problem(take(.shard(try Shard(index: 0, count: 2)))) == "in use by the shards of a 3-way split")
        zero = nil
        #expect(problem(take(.whole)) == "in use by the shards of a 3-way split")
        one = nil
        var whole: OutputFolderLock? = try take(.whole).get()
        #expect(problem(take(.shard(try Shard(index: 2, count: 3)))).hasPrefix("in use by another universeg run (pid \(getpid())"))
        whole = nil
        #expect(throws: Never.self) { try take(.shard(Shard(index: 0, count: 2))).get() }
        withExtendedLifetime((zero, one, whole)) {}
    }

    /// A shard removes what killed runs left only when no other process holds the folder.
    @Test func leftoversAreClearedOnlyByAShardThatIsAlone() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var cleared: [Int] = []
        let first = try OutputFolderLock(folder, scope: .shard(Shard(index: 0, count: 2))) { cleared.append(0) }
        let second = try OutputFolderLock(folder, scope: .shard(Shard(index: 1, count: 2))) { cleared.append(1) }
        #expect(cleared == [0])
        withExtendedLifetime((first, second)) {}
    }

    /// Shards of one array start together: one clears leftovers while the others wait for it instead of failing.
    @Test func aShardStartingWhileAnotherClearsLeftoversWaitsForIt() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let second = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        let first = try OutputFolderLock(folder, scope: .shard(Shard(index: 0, count: 2))) {
            Thread {
                var outcome = "taken"
                do {
                    _ = try OutputFolderLock(folder, scope: .shard(Shard(index: 1, count: 2)))
                } catch {
                    outcome = "\(error)"
                }
                second.withLock { $0 = outcome }
                done.signal()
            }.start()
            Thread.sleep(forTimeInterval: 0.5)
            #expect(second.withLock { $0 } == nil, "the second shard did not wait")
        }
        done.wait()
        #expect(second.withLock { $0 } == "taken")
        withExtendedLifetime(first) {}
    }

    /// A split of one shard holds byte 1 (where a clearing shard's lock starts) and keeps it.
    @Test func aSplitOfOneHoldsTheFolder() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let lone = try OutputFolderLock(folder, scope: .shard(Shard(index: 0, count: 1)))
        #expect(throws: PipelineError.self) { try OutputFolderLock(folder, scope: .whole) }
        #expect(throws: PipelineError.self) { try OutputFolderLock(folder, scope: .shard(Shard(index: 0, count: 2))) }
        withExtendedLifetime(lone) {}
    }

    @Test func shardsShareAFolderAndDoEveryStudyOnce() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let names = (1...7).map { "p\($0)" }
        try BatchRunTests().makeStudies(root, names: names)
        let spec = fakeSpec(root: root)
        let shards = try (0..<3).map { try Shard(index: $0, count: 3) }
        func run(_ shard: Shard) async throws -> BatchRun.Result {
            var graph = JobGraph(spec: spec, segmenter: FakeSegmenter())
            graph.shard = shard
            return try await BatchRun(graph: graph).run()
        }
        // Concurrently, as on a cluster.
        let results = try await withThrowingTaskGroup(of: BatchRun.Result.self) { group in
            for shard in shards { group.addTask { try await run(shard) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.map(\.done).reduce(0, +) == 7 && results.allSatisfy { $0.failed == 0 })
        let out = spec.outputs.folder
        for shard in shards {
            let lines = try String(contentsOf: out.appendingPathComponent("ledger-\(shard.fileTag).jsonl"), encoding: .utf8)
                .split(separator: "\n").compactMap { try? JSONDecoder().decode(LedgerEntry.self, from: Data($0.utf8)) }
            #expect(lines.map(\.study).sorted() == names.filter(shard.owns), "\(shard)")
        }
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("ledger.jsonl").path))
        // A resubmitted shard skips what it finished.
        let again = try await run(shards[1])
        #expect(again.done == 0 && again.skipped == names.filter(shards[1].owns).count)
        // The last shard to end wrote the whole run's summary.
        let summary = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: out.appendingPathComponent("summary.json")))
        #expect(summary.done == 7 && summary.complete && summary.shards.map(\.done) == shards.map { names.filter($0.owns).count })
        #expect(summary.studiesPerHour != nil && summary.medianSecondsPerStudy != nil)
        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(names.allSatisfy { html.contains("\($0)/\($0)_qc.png") })
        // summary.csv too: one row per study (one target), over every shard's studies.
        let csv = try String(contentsOf: out.appendingPathComponent("summary.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").dropFirst().map { String($0.prefix { $0 != "," }) } == names)
        // A whole run after the shards finds everything done, from every shard's ledger.
        #expect(try await BatchRun(graph: JobGraph(spec: spec, segmenter: FakeSegmenter())).run().skipped == 7)
    }

    /// The merge names a failed study, one whose shard never ran, and the counts per shard.
    @Test func theSummaryNamesFailedAndMissingStudies() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let names = ["m1", "m2", "m3", "m4", "m5", "m6"]
        try BatchRunTests().makeStudies(root, names: names)
        let spec = fakeSpec(root: root)
        let ran = try Shard(index: 0, count: 2), never = try Shard(index: 1, count: 2)
        let owned = names.filter(ran.owns), missing = names.filter(never.owns)
        #expect(owned.count >= 2 && !missing.isEmpty)
        // One of shard 0's studies is corrupt.
        try Data("not a nifti".utf8).write(to: root.appendingPathComponent("inputs/\(owned[0])/\(owned[0])_image.nii.gz"))
        var graph = JobGraph(spec: spec, segmenter: FakeSegmenter())
        graph.shard = ran
        _ = try await BatchRun(graph: graph).run()

        for summary in [try RunSummary.collect(spec: spec), try RunSummary.collect(outputFolder: spec.outputs.folder)] {
            let byName = Dictionary(uniqueKeysWithValues: summary.studies.map { ($0.study, $0) })
            #expect(byName[owned[0]]?.status == .failed && byName[owned[0]]?.reason?.isEmpty == false)
            #expect(owned.dropFirst().allSatisfy { byName[$0]?.status == .done })
            #expect(!summary.complete && summary.failed == 1 && summary.done == owned.count - 1)
            #expect(summary.shards == [RunSummary.ShardCounts(shard: 0, done: owned.count - 1, failed: 1, notStarted: 0),
                                       RunSummary.ShardCounts(shard: 1, done: 0, failed: 0, notStarted: missing.count)])
        }
        // The shard that never ran is known by its studies' names (shard 0's plan lists the whole run).
        let fromSpec = try RunSummary.collect(spec: spec)
        #expect(missing.allSatisfy { name in fromSpec.studies.contains { $0.study == name && $0.status == .notStarted && $0.shard == 1 } })
        #expect(fromSpec.notStarted == missing.count)
        try fromSpec.write(to: spec.outputs.folder)
        let html = try String(contentsOf: spec.outputs.folder.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("shard 1: 0 done, 0 failed, \(missing.count) not started"))
    }

    @Test func theSlurmScriptsRunEveryShardAndThenTheSummary() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let job = SlurmJob(executable: URL(fileURLWithPath: "/opt/universeg/bin/universeg"),
                           pipeline: URL(fileURLWithPath: "/data/my pipeline.yaml"), spec: fakeSpec(root: root),
                           shards: 4, partition: "cpu", timeLimit: "01:00:00", cpusPerTask: 8, memory: "6G")
        let array = job.arrayScript
        for line in ["#SBATCH --array=0-3", "#SBATCH --cpus-per-task=8", "#SBATCH --mem=6G", "#SBATCH --partition=cpu",
                     "#SBATCH --time=01:00:00", "#SBATCH --output=\(job.folder.path)/logs/shard-%a.log",
                     "exec /opt/universeg/bin/universeg run '/data/my pipeline.yaml' --shard \"${SLURM_ARRAY_TASK_ID}/4\" --threads \"${SLURM_CPUS_PER_TASK:-8}\""] {
            #expect(array.contains(line + "\n"), "\(line)")
        }
        #expect(job.summaryScript.hasSuffix("exec /opt/universeg/bin/universeg summary '/data/my pipeline.yaml'\n"))
        try job.write()
        #expect(try String(contentsOf: job.arrayScriptURL, encoding: .utf8) == array)
        #expect(FileManager.default.fileExists(atPath: job.folder.appendingPathComponent("logs").path))
        #expect(throws: PipelineError.self) { try job.submit(sbatch: "universeg-no-such-sbatch") }
    }
}
