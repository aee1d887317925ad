import ArgumentParser
import Foundation
import SegPipeline
import UniverSeg

/// Options shared by every command that runs the engine.
struct EngineOptions: ParsableArguments {
    @Option(help: "UniverSeg weights (.safetensors or .pt); overrides the pipeline's model.weights. Default: bundled.")
    var weights: String?

    @Option(help: "Engine threads (default: the pipeline's concurrency.threads, else every usable core).")
    var threads: Int?

    func validate() throws {
        // The pipeline's concurrency.threads has the same bounds.
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be from 1 to 1024") }
        if let weights { try PathCheck.existing(weights, .file, option: "--weights") }
    }

    /// The engine for a run: `--weights`, else `weights` (the pipeline's), else the bundled model; `--threads`,
    /// else `pipelineThreads`, else every core. One inference runs at a time with all of them, so cores are not
    /// oversubscribed. Prints the reason and exits 3 when the model cannot be loaded.
    func segmenter(weights pipelineWeights: URL?, pipelineThreads: Int?) throws -> UniverSegSegmenter {
        let file = weights.map { URL(fileURLWithPath: $0) } ?? pipelineWeights
        let count = threads ?? pipelineThreads ?? UsableCores.count
        do {
            return try UniverSegSegmenter.load(weights: file, threads: max(1, count))
        } catch {
            printError(error)
            throw PipelineExit.cannotStart
        }
    }

    /// The model of --weights, else the bundled one (infer and evaluate, which run the model without a pipeline).
    func loadModelOrBundled() throws -> UniverSegModel {
        if let weights { return try UniverSegModel(contentsOf: URL(fileURLWithPath: weights)) }
        return try UniverSegModel.bundledDefault()
    }
}

/// How many studies a run or watch holds in memory at once.
struct InFlightOptions: ParsableArguments {
    @Option(help: "Most studies held in memory at once.")
    var maxInFlight = 3

    func validate() throws {
        if maxInFlight < 1 { throw ValidationError("--max-in-flight must be at least 1") }
    }
}

/// How progress is shown.
struct LogOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print only errors and the final line.")
    var quiet = false

    @Flag(help: "Print one JSON object per event (for log collectors) instead of text.")
    var json = false

    func validate() throws {
        if quiet && json { throw ValidationError("--quiet and --json cannot be combined") }
    }
}
