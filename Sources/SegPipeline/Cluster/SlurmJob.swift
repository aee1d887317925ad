import Foundation
import VolumeIO

/// A sharded run as a SLURM job array (one element per shard, each told its index by SLURM_ARRAY_TASK_ID) plus a
/// summary job that runs after every element ended, however it ended (`--dependency=afterany`).
public struct SlurmJob: Sendable {
    public var executable: URL
    public var pipeline: URL
    public var spec: PipelineSpec
    public var shards: Int
    public var partition: String?
    public var timeLimit: String?
    public var cpusPerTask: Int
    public var memory: String?

    public init(executable: URL, pipeline: URL, spec: PipelineSpec, shards: Int, partition: String? = nil,
                timeLimit: String? = nil, cpusPerTask: Int = 2, memory: String? = nil) {
        self.executable = executable
        self.pipeline = pipeline
        self.spec = spec
        self.shards = shards
        self.partition = partition
        self.timeLimit = timeLimit
        self.cpusPerTask = cpusPerTask
        self.memory = memory
    }

    /// Where the scripts and the jobs' logs go: `OUTPUT/slurm/`.
    public var folder: URL { spec.outputs.folder.appendingPathComponent("slurm") }
    public var arrayScriptURL: URL { folder.appendingPathComponent("shards.sbatch") }
    public var summaryScriptURL: URL { folder.appendingPathComponent("summary.sbatch") }

    /// The array: element K runs shard K/N with the element's CPUs as engine threads. N is written into the
    /// script, so resubmitting one element (`sbatch --array=K shards.sbatch`) redoes just that shard's unfinished
    /// studies.
    public var arrayScript: String {
        header(name: "universeg-\(spec.name)", log: "shard-%a.log", extra: ["--array=0-\(shards - 1)",
               "--cpus-per-task=\(cpusPerTask)"] + (memory.map { ["--mem=\($0)"] } ?? []))
            + "exec \(quoted(executable.path)) run \(quoted(pipeline.path)) --shard \"${SLURM_ARRAY_TASK_ID}/\(shards)\" "
            + "--threads \"${SLURM_CPUS_PER_TASK:-\(cpusPerTask)}\"\n"
    }

    /// The summary: merges every shard's records into index.html and summary.json; fails (exit 1) when a study
    /// failed or was not done, so the job's state says whether the run is complete.
    public var summaryScript: String {
        header(name: "universeg-\(spec.name)-summary", log: "summary-%j.log", extra: ["--cpus-per-task=1"])
            + "exec \(quoted(executable.path)) summary \(quoted(pipeline.path))\n"
    }

    private func header(name: String, log: String, extra: [String]) -> String {
        let options = ["--job-name=\(name)", "--output=\(folder.appendingPathComponent("logs").appendingPathComponent(log).path)"]
            + extra + (partition.map { ["--partition=\($0)"] } ?? []) + (timeLimit.map { ["--time=\($0)"] } ?? [])
        return "#!/bin/bash\n" + options.map { "#SBATCH \(quoted($0))\n" }.joined()
            + "# Written by \(ToolInfo.version) for \(pipeline.path); see docs/cluster.md.\nset -euo pipefail\n"
    }

    /// Writes both scripts (and the logs folder SLURM writes into).
    public func write() throws {
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("logs"), withIntermediateDirectories: true)
        try AtomicFile.write(Data(arrayScript.utf8), to: arrayScriptURL)
        try AtomicFile.write(Data(summaryScript.utf8), to: summaryScriptURL)
    }

    /// Submits the array, then the summary depending on it; returns both job ids.
    public func submit(sbatch: String = "sbatch") throws -> (array: String, summary: String) {
        let array = try Self.run(sbatch, ["--parsable", arrayScriptURL.path])
        let summary = try Self.run(sbatch, ["--parsable", "--dependency=afterany:\(array)", summaryScriptURL.path])
        return (array, summary)
    }

    /// Runs sbatch and returns the job id it prints (`--parsable`: `ID` or `ID;CLUSTER`).
    private static func run(_ sbatch: String, _ arguments: [String]) throws -> String {
        let process = Process(), output = Pipe(), errors = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [sbatch] + arguments
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch {
            throw PipelineError.unavailable("cannot start sbatch: \(error.localizedDescription)", file: sbatch)
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problem = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let id = text.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        guard process.terminationStatus == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            let why = problem.trimmingCharacters(in: .whitespacesAndNewlines)
            throw PipelineError.unavailable("sbatch failed (exit \(process.terminationStatus))" + (why.isEmpty ? "" : ": \(why)"),
                                            file: arguments.last ?? sbatch,
                                            hint: process.terminationStatus == 127 ? "is SLURM installed here (sbatch on PATH)?" : nil)
        }
        return id
    }

    private func quoted(_ text: String) -> String {
        text.allSatisfy { $0.isLetter || $0.isNumber || "/._-=%:,".contains($0) } ? text
            : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
