import ArgumentParser
import Foundation

/// Options shared by every command that runs the engine.
struct EngineOptions: ParsableArguments {
    @Option(help: "UniverSeg weights (.safetensors or .pt); overrides the pipeline's model.weights. Default: bundled.")
    var weights: String?

    @Option(help: "Engine threads (default: the pipeline's concurrency.threads, else every core).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let weights, !FileManager.default.fileExists(atPath: weights) {
            throw ValidationError("--weights: no such file: \(weights)")
        }
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
