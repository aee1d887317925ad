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
            With inputs.listen, a DICOM C-STORE listener files received instances in the input folder as \
            STUDY/SERIES/SOP.dcm; with outputs.send, each finished study's DICOM SEG is C-STOREd to every \
            destination, retried every 30 s while one is down (see docs/dicom-network.md).
            Exit status: 2 invalid pipeline, 3 cannot start (no model, another run or watch holds the output \
            folder, or the listener's port cannot be opened).
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
        let segmenter = try engine.segmenter(weights: spec.model.weights, pipelineThreads: spec.concurrency.threads,
                                              pipelinePrecision: spec.model.precision)
        if reporter.mode != .json && reporter.mode != .quiet {
            let listening = spec.inputs.listen.map { ", receiving DICOM on port \($0.port) as AE title \($0.aeTitle)" } ?? ""
            FileHandle.standardError.write(Data("watching \(spec.inputs.folder.path)\(listening) (settle \(spec.watch.settleSeconds) s); Ctrl-C stops\n".utf8))
        }
        let graph = JobGraph(spec: spec, segmenter: segmenter, maxInFlight: inFlight.maxInFlight, events: reporter.handle)
        let stop = GracefulStop {
            FileHandle.standardError.write(Data("\nstopping: the studies in progress finish and are moved; no new ones start (signal again to stop now)\n".utf8))
        }
        do {
            try await Watcher(graph: graph).run(until: { stop.isRequested },
                                                onDelivery: { reporter.delivery($0) },
                                                onListenerEvent: { reporter.listener($0) })
        } catch {
            printError(error)
            throw PipelineExit.cannotStart
        }
    }
}
