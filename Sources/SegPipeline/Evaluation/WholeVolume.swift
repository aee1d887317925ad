import Foundation
import VolumeIO

/// How `evaluate` segments a whole query volume: the pipeline's own steps and options.
public struct WholeVolumeOptions: Sendable, Equatable {
    public var strategy: SupportStrategy
    public var groups: Int
    public var threshold: Float
    public var cleanup: MaskCleanup
    public var smoothSlices: Bool
    /// Segment along all three voxel axes and average the probabilities on the native grid (3x the work or more).
    public var fuseAxes: Bool

    public init(strategy: SupportStrategy = SupportSpec.defaultStrategy, groups: Int = SupportSpec.defaultGroups,
                threshold: Float = 0.5, cleanup: MaskCleanup = .none, smoothSlices: Bool = false, fuseAxes: Bool = false) {
        self.strategy = strategy
        self.groups = groups
        self.threshold = threshold
        self.cleanup = cleanup
        self.smoothSlices = smoothSlices
        self.fuseAxes = fuseAxes
    }

    /// One line for reports, e.g. "similarity, 8 groups, largest component".
    public var description: String {
        var parts = [strategy.rawValue]
        if strategy != .random { parts.append("\(groups) groups") }
        if smoothSlices { parts.append("smoothed across slices") }
        parts += cleanup.steps
        if fuseAxes { parts.append("3 axes fused") }
        return parts.joined(separator: ", ")
    }
}

enum WholeVolume {
    /// The predicted mask of query volume `q` on its native grid, and the probabilities it was thresholded from.
    static func segment(query q: Int, of task: LoadedTask, segmenter: any Segmenter,
                        options: Evaluator.Options) throws -> (mask: [Bool], probabilities: Volume<Float>) {
        let result = try segmentWithSlices(query: q, of: task, segmenter: segmenter, options: options)
        return (result.mask, result.probabilities)
    }

    /// `segment`, and the per-slice model-grid probabilities of the query's own slicing (for `SliceConfidence`).
    static func segmentWithSlices(query q: Int, of task: LoadedTask, segmenter: any Segmenter, options: Evaluator.Options)
        throws -> (mask: [Bool], probabilities: Volume<Float>, perSlice: [ModelSlice]) {
        let whole = options.wholeVolume
        let own = task.query[q]
        let first = try probabilities(own, support: task.support, task: task, segmenter: segmenter, options: options)
        var sum = first.native
        var count: Float = 1
        if whole.fuseAxes {
            for axis in 0..<3 where axis != own.slices.mapping.nativeSliceAxis {
                var config = task.task.config
                config.axis = axis
                let query = try SlicedVolume.load(task.task.query[q], config: config)
                let support = try task.task.support.map { try SlicedVolume.load($0, config: config) }
                let p = try probabilities(query, support: support, task: task, segmenter: segmenter, options: options).native
                for i in sum.indices { sum[i] += p[i] }
                count += 1
            }
        }
        let mapping = own.slices.mapping
        let probabilities = Volume(shape: mapping.nativeShape, affine: mapping.nativeAffine,
                                   voxels: sum.map { $0 / count }, source: mapping.source)
        let mask = probabilities.voxels.map { $0 >= whole.threshold }
        guard !whole.cleanup.isNone else { return (mask, probabilities, first.perSlice) }
        return (whole.cleanup.apply(mask, shape: mapping.nativeShape, voxelML: abs(mapping.nativeAffine.determinant) / 1000),
                probabilities, first.perSlice)
    }

    /// Native-grid probabilities of one sliced query volume, its support cut the same way.
    private static func probabilities(_ query: SlicedVolume, support: [SlicedVolume], task: LoadedTask,
                                      segmenter: any Segmenter, options: Evaluator.Options)
        throws -> (native: [Float], perSlice: [ModelSlice]) {
        let slices = query.slices
        let request = SupportSelector.Request(strategy: options.wholeVolume.strategy, size: options.supportSize,
                                              ensemble: options.ensemble, groups: options.wholeVolume.groups,
                                              seed: options.seed, streamName: [task.task.name, query.name])
        let result = try VolumeSegmentation(queries: slices.slices.map(ModelSlice.init), blank: slices.blank,
                                            positions: slices.relativePositions, pool: support.flatMap(\.examples),
                                            request: request, target: task.task.name, segmenter: segmenter)
        let perSlice = options.wholeVolume.smoothSlices
            ? SliceSmoothing.smoothed(result.probabilities, blank: slices.blank) : result.probabilities
        return (nativeProbabilities(perSlice.map(\.pixels), mapping: slices.mapping).voxels, perSlice)
    }
}

extension SlicedVolume {
    /// Every annotated slice as a support example, with or without foreground, as a pipeline's support pool holds them.
    var examples: [SupportExample] {
        masks.indices.filter { annotated[$0] }.map { k in
            let mask = ModelMask(pixels: masks[k])
            return SupportExample(image: ModelSlice(pixels: slices.slices[k]), mask: mask, source: name,
                                  slice: nativeIndex(ofSlice: k), position: slices.relativePositions[k],
                                  foreground: mask.foreground, pixelSize: slices.mapping.pixelSize)
        }
    }
}
