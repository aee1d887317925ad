import Foundation
import Synchronization
import UniverSeg

/// The UniverSeg engine behind the `Segmenter` seam: each support set is prepared once per call, then every query
/// slice runs against the whole ensemble. A call uses `threads` engine threads in all, shared by slices running at
/// once (the job graph runs inference on a single lane, so cores are never oversubscribed).
public struct UniverSegSegmenter: Segmenter {
    public let model: UniverSegModel
    public let threads: Int
    public let modelDescription: String

    public init(model: UniverSegModel, threads: Int, modelDescription: String) {
        precondition(threads >= 1, "threads must be at least 1")
        self.model = model
        self.threads = threads
        self.modelDescription = modelDescription
    }

    /// Loads `weights`, or the bundled default model when nil. Errors are one line naming the file and what to do.
    /// `precision: .bf16` falls back to fp32 on a CPU without AVX512-BF16 (`model.precision` says which runs).
    public static func load(weights: URL?, threads: Int, precision: Precision = .fp32) throws -> UniverSegSegmenter {
        let model: UniverSegModel
        let origin: String
        do {
            if let weights {
                model = try UniverSegModel(contentsOf: weights, precision: precision)
                origin = weights.lastPathComponent
            } else {
                model = try UniverSegModel.bundledDefault(precision: precision)
                origin = "bundled default.safetensors"
            }
        } catch let error as UniverSegError {
            if weights == nil, let file = error.file, !FileManager.default.fileExists(atPath: file) {
                throw PipelineError.unavailable("model.weights is 'default', but this build has no bundled model", file: file,
                                                hint: "give a weights file with --weights FILE or model.weights: FILE")
            }
            throw PipelineError.unavailable("cannot load the model: \(error.problem)", file: error.file)
        }
        let digest = (try? Data(contentsOf: URL(fileURLWithPath: model.source), options: .alwaysMapped))
            .map { " (fnv1a \(FNV1a.hex($0)))" } ?? ""   // so reports say exactly which weights made a mask
        return UniverSegSegmenter(model: model, threads: threads,
                                  modelDescription: "UniverSeg \(model.encoderWidths) \(origin)\(digest)\(model.precision == .bf16 ? " bf16" : "")")
    }

    /// Slices run `lanes` at a time, each on `threads / lanes` engine threads: on 2 cores, a 180-slice two-target
    /// study took 21.5 s as two one-thread lanes and 28.7 s as one two-thread query (docs/engine.md, "Slices two at
    /// a time"), since one query's tiles do not keep both cores busy. Each lane has its own engine workspace (its memory: ~1.5 MiB x
    /// S + 30 MiB), so lanes are capped. Results do not depend on the lanes (the engine is bitwise deterministic).
    static let maximumLanes = 4

    public func probabilities(queries: [ModelSlice], supportSets: [[SupportExample]],
                              progress: (Int) -> Void) throws -> [ModelSlice] {
        let side = ModelSlice.side
        let ensemble = try supportSets.map { set in
            try model.prepareSupport(images: set.map(\.image.pixels), labels: set.map(\.mask.pixels),
                                     size: (side, side), threads: threads)
        }
        let lanes = max(1, min(threads, Self.maximumLanes, queries.count))
        let work = SliceLanes(model: model, queries: queries, ensemble: ensemble, threads: max(1, threads / lanes))
        let others = DispatchGroup()
        for _ in 1 ..< lanes {
            DispatchQueue.global(qos: .userInitiated).async(group: others) { while work.runNext() {} }
        }
        // This thread is a lane too, and the one that reports progress.
        var reported = 0
        while work.runNext() {
            reported = work.done
            progress(reported)
        }
        others.wait()
        if work.done != reported { progress(work.done) }
        return try work.results()
    }
}

/// The slices of one `probabilities` call, handed out one at a time to the lanes running them.
private final class SliceLanes: Sendable {
    let model: UniverSegModel
    let queries: [ModelSlice]
    let ensemble: [PreparedSupport]
    let threads: Int
    private let next = Atomic(0)
    private let finished = Atomic(0)
    private let slots: Mutex<[ModelSlice?]>
    private let failure = Mutex<(any Error)?>(nil)

    init(model: UniverSegModel, queries: [ModelSlice], ensemble: [PreparedSupport], threads: Int) {
        (self.model, self.queries, self.ensemble, self.threads) = (model, queries, ensemble, threads)
        slots = Mutex([ModelSlice?](repeating: nil, count: queries.count))
    }

    /// Slices finished so far.
    var done: Int { finished.load(ordering: .relaxed) }

    /// Runs the next slice; false when none is left or a slice has failed.
    func runNext() -> Bool {
        guard failure.withLock({ $0 == nil }) else { return false }
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
        guard index < queries.count else { return false }
        do {
            let pixels = try model.predictProbabilities(query: queries[index].pixels, ensemble: ensemble, threads: threads)
            slots.withLock { $0[index] = ModelSlice(pixels: pixels) }
            finished.wrappingAdd(1, ordering: .relaxed)
        } catch {
            failure.withLock { if $0 == nil { $0 = error } }
            return false
        }
        return true
    }

    /// Every slice's probabilities in query order, or the first error a lane met.
    func results() throws -> [ModelSlice] {
        if let error = failure.withLock({ $0 }) { throw error }
        return slots.withLock { $0.map { $0! } }
    }
}
