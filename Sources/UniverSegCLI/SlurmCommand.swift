import ArgumentParser
import Foundation
import SegPipeline

struct SlurmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm",
        abstract: "Write (and optionally submit) a SLURM job array running a pipeline in shards, plus a summary job.",
        discussion: """
            Writes OUTPUT/slurm/shards.sbatch (array element K runs `universeg run PIPELINE --shard K/N`) and \
            OUTPUT/slurm/summary.sbatch (`universeg summary PIPELINE`, submitted with --dependency=afterany on the \
            array), and prints them. To redo one shard: `sbatch --array=K OUTPUT/slurm/shards.sbatch`; it skips what \
            it finished. See docs/cluster.md.
            """)

    @Argument(help: "The pipeline definition (YAML).")
    var pipeline: String

    @Option(help: "Number of shards (array elements).")
    var shards: Int

    @Option(help: "SLURM partition (default: the cluster's default).")
    var partition: String?

    @Option(help: "Time limit per shard, in SLURM's format (e.g. 02:00:00).")
    var time: String?

    @Option(help: "CPUs per shard; the engine uses that many threads.")
    var cpusPerTask = 2

    @Option(help: "Memory per shard, in SLURM's format (e.g. 4G).")
    var mem: String?

    @Flag(help: "Submit both jobs with sbatch and print their ids.")
    var submit = false

    func validate() throws {
        if shards < 1 { throw ValidationError("--shards must be at least 1") }
        if cpusPerTask < 1 { throw ValidationError("--cpus-per-task must be at least 1") }
        for (name, value) in [("--partition", partition), ("--time", time), ("--mem", mem)] {
            if let value, value.isEmpty || value.contains(where: { $0.isWhitespace || $0.isNewline }) {
                throw ValidationError("\(name) must be one word, not '\(value)'")
            }
        }
    }

    func run() throws {
        let spec = try loadPipelineOrExit(pipeline)
        let job = SlurmJob(executable: Self.executable, pipeline: URL(fileURLWithPath: pipeline).standardizedFileURL,
                           spec: spec, shards: shards, partition: partition, timeLimit: time,
                           cpusPerTask: cpusPerTask, memory: mem)
        do {
            try job.write()
            print("# \(job.arrayScriptURL.path)\n\(job.arrayScript)\n# \(job.summaryScriptURL.path)\n\(job.summaryScript)")
            guard submit else { return }
            let ids = try job.submit()
            print("submitted: shards as job \(ids.array) (array 0-\(shards - 1)), summary as job \(ids.summary) (after every shard)")
        } catch {
            printError(error)
            throw PipelineExit.cannotStart
        }
    }

    /// This executable's absolute path, so the jobs run the same build on every node.
    static var executable: URL {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")).map(URL.init(fileURLWithPath:))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    }
}
