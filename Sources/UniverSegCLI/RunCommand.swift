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
            Exit status: 0 all done or skipped, 1 some studies failed, 2 invalid pipeline, 3 cannot start (no model, \
            or another run or watch holds the output folder).
            """)

    @Argument(help: "The pipeline definition (YAML).")
    var pipeline: String

    func validate() throws {
        try PathCheck.notEmpty(pipeline, option: "PIPELINE")
    }

    @Flag(help: "Redo studies the ledger lists as done.")
    var force = false

    @Flag(help: "List the studies that would be processed or skipped, and why; read no voxels.")
    var dryRun = false

    @OptionGroup var inFlight: InFlightOptions
    @OptionGroup var engine: EngineOptions
    @OptionGroup var log: LogOptions

    func run() async throws {
        var spec = try loadPipelineOrExit(pipeline)
        if let weights = engine.weights { spec.model.weights = URL(fileURLWithPath: weights) }
        let reporter = ConsoleReporter(options: log)

        if dryRun {
            try printPlan(spec: spec)
            return
        }
        let segmenter = try engine.segmenter(weights: spec.model.weights, pipelineThreads: spec.concurrency.threads)
        let graph = JobGraph(spec: spec, segmenter: segmenter, maxInFlight: inFlight.maxInFlight, events: reporter.handle)
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
        let index = spec.outputs.summary ? "; summary: \(spec.outputs.folder.appendingPathComponent("index.html").path)" : ""
        reporter.summary(done: result.done, skipped: result.skipped, failed: result.failed, notStarted: result.notStarted,
                         extra: index)
        if result.notStarted > 0 { throw PipelineExit.interrupted }
        if result.failed > 0 { throw PipelineExit.studiesFailed }
    }

    /// Lists each study with what a run would do and why, and the series it would segment (headers only; the
    /// model is not loaded).
    func printPlan(spec: PipelineSpec) throws {
        let items: [BatchRun.PlanItem]
        do {
            items = try BatchRun.plan(spec: spec, force: force, model: modelForPlan(spec))
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
        let todo = items.filter { $0.skipReason == nil && $0.conflict == nil }.count
        let skip = items.filter { $0.skipReason != nil }.count, conflicts = items.count - todo - skip
        print("\(todo) to process, \(skip) to skip\(conflicts > 0 ? ", \(conflicts) in conflict" : ""); "
            + "outputs in \(spec.outputs.folder.path)")
    }

    /// The model a run would use, so that studies done with other weights show as "the model changed"; nil (with a
    /// note) when it cannot be loaded, and then models are not compared.
    func modelForPlan(_ spec: PipelineSpec) -> String? {
        let weights = engine.weights.map { URL(fileURLWithPath: $0) } ?? spec.model.weights
        do {
            return try UniverSegSegmenter.load(weights: weights, threads: 1).modelDescription
        } catch {
            FileHandle.standardError.write(Data("note: a run would stop here: \(ErrorText.line(error))\n".utf8))
            return nil
        }
    }
}
