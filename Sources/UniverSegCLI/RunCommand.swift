import ArgumentParser
import Diagnostics
import Foundation
import SegPipeline

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Segment every study of a pipeline's input folder (finished studies are skipped).",
        discussion: """
            Streams studies through read -> prepare -> infer -> assemble -> write; one failing study is reported and \
            the others go on. Finished studies are recorded in OUTPUT/ledger.jsonl and skipped on the next run.
            With outputs.send, each study's DICOM SEG is then C-STOREd to every destination that lacks it (per the \
            ledger); a destination that is down leaves the study written, not delivered, and the next run sends it \
            without recomputing.
            Exit status: 0 all done or skipped (and delivered), 1 some studies failed or were not delivered, \
            2 invalid pipeline, 3 cannot start (no model, or another run or watch holds the output folder).
            """)

    @Argument(help: "The pipeline definition (YAML).")
    var pipeline: String

    @Flag(help: "Redo studies the ledger lists as done.")
    var force = false

    @Flag(help: "List the studies that would be processed or skipped, and why; read no voxels.")
    var dryRun = false

    @Option(help: ArgumentHelp(
        "Process one part of the studies: K/N is shard K of N (from 0); auto/N or auto take K from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX.",
        discussion: "A study belongs to shard FNV-1a-64(name) mod N. Shards share the output folder; `universeg summary` merges them.",
        valueName: "K/N"))
    var shard: String?

    @OptionGroup var inFlight: InFlightOptions
    @OptionGroup var engine: EngineOptions
    @OptionGroup var log: LogOptions

    func validate() throws {
        try PathCheck.notEmpty(pipeline, option: "PIPELINE")
        if let shard { _ = try parsedShard(shard) }
    }

    private func parsedShard(_ text: String) throws -> Shard {
        do { return try Shard.parse(text) } catch { throw ValidationError("--shard: \(error)") }
    }

    func run() async throws {
        let shard = try self.shard.map(parsedShard)
        var spec = try loadPipelineOrExit(pipeline)
        if let weights = engine.weights { spec.model.weights = URL(fileURLWithPath: weights) }
        let reporter = ConsoleReporter(options: log)

        if dryRun {
            try printPlan(spec: spec, shard: shard)
            return
        }
        let segmenter = try engine.segmenter(weights: spec.model.weights, pipelineThreads: spec.concurrency.threads,
                                              pipelinePrecision: spec.model.precision)
        var graph = JobGraph(spec: spec, segmenter: segmenter, maxInFlight: inFlight.maxInFlight, events: reporter.handle)
        graph.shard = shard
        let stop = GracefulStop {
            FileHandle.standardError.write(Data("\nstopping: the studies in progress finish and are written; no new ones start (signal again to stop now)\n".utf8))
        }
        let result: BatchRun.Result
        do {
            result = try await BatchRun(graph: graph, force: force, shouldStop: { stop.isRequested }).run()
        } catch {
            reporter.close()
            printError(error)
            throw PipelineExit.cannotStart
        }
        let index = spec.outputs.summary ? "; summary\(shard == nil ? "" : " of every shard"): "
            + spec.outputs.folder.appendingPathComponent("index.html").path : ""
        if let delivery = result.delivery { reporter.delivery(delivery) }
        let undelivered = Set(result.delivery?.notDelivered.map(\.study) ?? []).count
        let sent = undelivered > 0 ? "; \(undelivered) written, not delivered (the next run sends them)" : ""
        reporter.summary(done: result.done, skipped: result.skipped, failed: result.failed, notStarted: result.notStarted,
                         extra: index + sent)
        if result.notStarted > 0 { throw PipelineExit.interrupted }
        if result.failed > 0 || undelivered > 0 { throw PipelineExit.studiesFailed }
    }

    /// Lists each study with what a run would do and why, and the series it would segment (headers only; the
    /// model is not loaded).
    func printPlan(spec: PipelineSpec, shard: Shard?) throws {
        let items: [BatchRun.PlanItem]
        do {
            items = try BatchRun.plan(spec: spec, force: force, model: modelForPlan(spec), shard: shard)
        } catch {
            printError(error)
            throw PipelineExit.cannotStart
        }
        for item in items {
            if let conflict = item.conflict {
                print("fail     \(item.study.name): \(conflict)")
            } else if let skip = item.skipReason {
                print("skip     \(item.study.name): \(skip)")
            } else {
                print("process  \(item.study.name) (\(item.runReason)): \(BatchRun.describeSeries(item.study, spec: spec))")
            }
        }
        // Finished studies' SEGs that a destination lacks (the studies processed now are sent once written).
        let finished = Set(items.filter { $0.skipReason != nil }.map(\.study.name))
        for (destination, due) in Delivery(spec: spec, shard: shard).pending() {
            for item in due where finished.contains(item.study) {
                print("deliver  \(item.study): \(item.file) to \(destination) (written, not delivered)")
            }
        }
        let todo = items.filter { $0.skipReason == nil && $0.conflict == nil }.count
        let skip = items.filter { $0.skipReason != nil }.count, conflicts = items.count - todo - skip
        print("\(todo) to process, \(skip) to skip\(conflicts > 0 ? ", \(conflicts) in conflict" : "")"
            + (shard.map { " (shard \($0): the studies FNV-1a-64(name) mod \($0.count) = \($0.index))" } ?? "")
            + "; outputs in \(spec.outputs.folder.path)")
    }

    /// The model a run would use, so that studies done with other weights show as "the model changed"; nil (with a
    /// note) when it cannot be loaded, and then models are not compared.
    func modelForPlan(_ spec: PipelineSpec) -> String? {
        let weights = engine.weights.map { URL(fileURLWithPath: $0) } ?? spec.model.weights
        do {
            // The same precision as the run: the description names bf16 when it runs.
            return try UniverSegSegmenter.load(weights: weights, threads: 1,
                                               precision: engine.precision ?? spec.model.precision).modelDescription
        } catch {
            FileHandle.standardError.write(Data("note: a run would stop here: \(ErrorText.line(error))\n".utf8))
            return nil
        }
    }
}
