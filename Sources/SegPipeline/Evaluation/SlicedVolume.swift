import Foundation
import VolumeIO

/// One labelled volume of a task cut into model slices, with what scoring needs.
///
/// Invariant: `slices.slices.count == masks.count == slices.mapping.sliceCount`; `foreground` is the native
/// foreground on the native grid (`slices.mapping.nativeShape`).
public struct SlicedVolume: Sendable {
    public var name: String
    /// Normalised 128 x 128 model slices and their mapping to the native grid.
    public var slices: ModelSlices
    /// Binary model masks of the foreground, one per slice (UniverSeg's labels are binary).
    public var masks: [[Float]]
    /// Native foreground voxels, for the 3D Dice.
    public var foreground: [Bool]
    /// Per model slice, whether it was annotated (`LabelledPair.annotation`); unannotated slices are never support.
    public var annotated: [Bool]

    public init(name: String, slices: ModelSlices, masks: [[Float]], foreground: [Bool], annotated: [Bool]? = nil) {
        self.name = name
        self.slices = slices
        self.masks = masks
        self.foreground = foreground
        self.annotated = annotated ?? [Bool](repeating: true, count: masks.count)
    }

    /// Annotated slices whose model mask has foreground: the support pool, and the query slices scored in 2D.
    /// A lesion smaller than half a model pixel in a slice vanishes on the model grid and is not counted there.
    public var foregroundSlices: [Int] { masks.indices.filter { annotated[$0] && masks[$0].contains { $0 >= 0.5 } } }

    /// The native voxel index along the slicing axis of model slice `k` (model slices run in increasing R/A/S).
    public func nativeIndex(ofSlice k: Int) -> Int {
        let mapping = slices.mapping
        var canonical = [0, 0, 0]
        canonical[mapping.sliceAxis] = k
        return mapping.frame.nativeIndex(ofCanonical: canonical)[mapping.nativeSliceAxis]
    }

    /// Reads and slices one pair. `values` nil means foreground = label > 0.
    public static func load(_ pair: LabelledPair, config: EvaluationTaskConfig) throws -> SlicedVolume {
        let read = try StudyReader.readSupport(pair)
        let (image, labels) = (read.image, read.label)
        let values = config.labels ?? Set(labels.voxels.filter { $0 > 0 })
        let slices = modelSlices(of: image, options: config.slicing)
        let masks: [[Float]]
        do {
            masks = try modelMasks(of: labels, values: values, like: slices)
        } catch let error as SlicingError {
            throw EvaluationError(pair.label.path, "\(error.problem) of \(pair.image.lastPathComponent)")
        }
        var volume = SlicedVolume(name: pair.name, slices: slices, masks: masks,
                                  foreground: labels.voxels.map { values.contains($0) })
        let annotated = read.annotated, axis = slices.mapping.nativeSliceAxis
        volume.annotated = masks.indices.map { annotated.contains(axis: axis, index: volume.nativeIndex(ofSlice: $0)) }
        return volume
    }
}
