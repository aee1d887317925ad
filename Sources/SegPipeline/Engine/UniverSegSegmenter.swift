import Foundation
import UniverSeg

/// The UniverSeg engine behind the `Segmenter` seam: each support set is prepared once per call, then every query
/// slice runs against the whole ensemble. One inference at a time uses `threads` engine threads (the job graph
/// runs inference on a single lane, so cores are never oversubscribed).
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

    public func probabilities(queries: [ModelSlice], supportSets: [[SupportExample]],
                              progress: (Int) -> Void) throws -> [ModelSlice] {
        let side = ModelSlice.side
        let ensemble = try supportSets.map { set in
            try model.prepareSupport(images: set.map(\.image.pixels), labels: set.map(\.mask.pixels),
                                     size: (side, side), threads: threads)
        }
        var out: [ModelSlice] = []
        out.reserveCapacity(queries.count)
        for query in queries {
            out.append(ModelSlice(pixels: try model.predictProbabilities(query: query.pixels, ensemble: ensemble,
                                                                         threads: threads)))
            progress(out.count)
        }
        return out
    }

}
