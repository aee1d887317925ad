import ArgumentParser
import Foundation
import SegPipeline

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Watch a pipeline's input folder and segment each study once its files stop changing.",
        discussion: """
            A study starts once its files have been unchanged for watch.settle. Finished studies are MOVED to \
            watch.done, failed ones to watch.failed with NAME.reason.txt beside them (the one exception to \
            'inputs are never modified'). Safe to stop and restart at any moment: unfinished studies are redone, \
            finished ones (per the ledger) are only moved. Ctrl-C or SIGTERM stops it: studies being inferred are \
            finished and moved, the rest stay in the inbox; a second signal stops at once.
            Exit status: 2 invalid pipeline, 3 cannot start (no model, or another run or watch holds the output \
            folder).
            """)

    @Argument(help: "The pipeline definition (YAML).")
    var pipeline: String

    func validate() throws {
        try PathCheck.notEmpty(pipeline, option: "PIPELINE")
    }

    @OptionGroup var inFlight: InFlightOptions
    @OptionGroup var engine: EngineOptions
    @OptionGroup var log: LogOptions

    func run() async throws {
        var spec = try loadPipelineOrExit(pipeline)
        if let weights = engine.weights { spec.model.weights = URL(fileURLWithPath: weights) }
        let reporter = ConsoleReporter(options: log)
        let segmenter = try engine.segmenter(weights: spec.model.weights, pipelineThreads: spec.concurrency.threads)
        if reporter.mode != .json && reporter.mode != .quiet {
            FileHandle.standardError.write(Data("watching \(spec.inputs.folder.path) (settle \(spec.watch.settleSeconds) s); Ctrl-C stops\n".utf8))
        }
        let graph = JobGraph(spec: spec, segmenter: segmenter, maxInFlight: inFlight.maxInFlight, events: reporter.handle)
        let stop = GracefulStop {
            FileHandle.standardError.write(Data("\nstopping: the studies in progress finish and are moved; no new ones start (signal again to stop now)\n".utf8))
        }
        do {
            try await Watcher(graph: graph).run(until: { stop.isRequested })
        } catch {
            printError(error)
            throw PipelineExit.cannotStart
        }
    }
}
