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

    @Option(help: "GEMM arithmetic: auto (bf16 where the CPU has AVX512-BF16, else fp32), fp32, or bf16 (fp32 with a note on CPUs without it). Default: the pipeline's model.precision, else auto.")
    var precision: Precision?

    func validate() throws {
        // The pipeline's concurrency.threads has the same bounds.
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be from 1 to 1024") }
        if let weights { try PathCheck.existing(weights, .file, option: "--weights") }
    }

    /// The engine for a run: `--weights`, else `weights` (the pipeline's), else the bundled model; `--threads`,
    /// else `pipelineThreads`, else every core. One inference runs at a time with all of them, so cores are not
    /// oversubscribed. Prints the reason and exits 3 when the model cannot be loaded.
    func segmenter(weights pipelineWeights: URL?, pipelineThreads: Int?, pipelinePrecision: Precision = .auto) throws -> UniverSegSegmenter {
        let file = weights.map { URL(fileURLWithPath: $0) } ?? pipelineWeights
        let count = threads ?? pipelineThreads ?? UsableCores.count
        do {
            let segmenter = try UniverSegSegmenter.load(weights: file, threads: max(1, count), precision: precision ?? pipelinePrecision)
            noteFallback(requested: precision ?? pipelinePrecision, model: segmenter.model)
            return segmenter
        } catch {
            printError(error)
            throw PipelineExit.cannotStart
        }
    }

    /// The model of --weights, else the bundled one (infer and evaluate, which run the model without a pipeline).
    func loadModelOrBundled() throws -> UniverSegModel {
        let requested = precision ?? .auto
        let model = if let weights {
            try UniverSegModel(contentsOf: URL(fileURLWithPath: weights), precision: requested)
        } else {
            try UniverSegModel.bundledDefault(precision: requested)
        }
        noteFallback(requested: requested, model: model)
        return model
    }

    /// One line on stderr when bf16 was asked for on a CPU without AVX512-BF16 (the model then runs fp32).
    private func noteFallback(requested: Precision, model: UniverSegModel) {
        guard requested == .bf16, model.precision != .bf16 else { return }
        FileHandle.standardError.write(Data("note: precision \(requested.rawValue) needs AVX512-BF16, which this CPU lacks; running \(model.precision.rawValue)\n".utf8))
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

extension Precision: ExpressibleByArgument {}
