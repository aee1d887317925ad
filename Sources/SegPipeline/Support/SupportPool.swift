import Foundation
import Synchronization
import VolumeIO

/// Support examples on the model grid, read and sliced once per run and shared by every study that uses them.
///
/// Each pair is sliced with VolumeIO's `modelSlices` in the anatomical plane of the query (so support and query
/// slices show the same view, whatever either volume's storage order) and normalized like the query; masks are
/// binary (`modelMasks(..., resampling: .binary)`, as UniverSeg was trained).
public final class SupportPool: Sendable {
    private let targets: [TargetSpec]
    private let normalization: IntensityNormalization
    /// Key: pair paths + plane; value: the files' sizes and modification times when read, and the examples per
    /// target name. A long `watch` re-reads an example replaced in place, and the new entry takes the old one's
    /// place, so memory follows the library, not its history.
    private let cache = Mutex<[String: (stamp: String, byTarget: [String: [SupportExample]])]>([:])

    /// Pairs and planes held (for tests).
    var cachedCount: Int { cache.withLock { $0.count } }

    public init(targets: [TargetSpec], normalization: IntensityNormalization) {
        self.targets = targets
        self.normalization = normalization
    }

    /// The examples of `pairs` for `target`, sliced in `plane`. Blocking: reads and slices files on first use.
    public func examples(_ pairs: [LabelledPair], target: TargetSpec, plane: AnatomicalPlane) throws -> [SupportExample] {
        try pairs.flatMap { try prepared($0, plane: plane)[target.name] ?? [] }
    }

    private func prepared(_ pair: LabelledPair, plane: AnatomicalPlane) throws -> [String: [SupportExample]] {
        let key = "\(pair.image.path)|\(pair.label.path)#\(plane.rawValue)"
        let stamp = [pair.image, pair.label].map { FileStamp.of($0, as: $0.path).map(String.init(describing:)) ?? "?" }
            .joined(separator: "|") + "|\(pair.annotation)"
        if let hit = cache.withLock({ $0[key] }), hit.stamp == stamp { return hit.byTarget }
        let read = try StudyReader.readSupport(pair)
        let (image, label) = (read.image, read.label)
        // A single slice (one voxel thick) is used as it is, along its thin axis, whatever its orientation.
        let axis: SliceAxis = image.shape.firstIndex(of: 1).map { .voxel($0) } ?? .plane(plane)
        let slices = modelSlices(of: image, options: SlicingOptions(axis: axis, size: ModelSlice.side,
                                                                    normalization: normalization))
        let positions = slices.relativePositions
        // Reports name slices by their index in the file, not in the canonical order the slices come in.
        let mapping = slices.mapping, nativeAxis = mapping.nativeSliceAxis
        let nativeSlice = { (k: Int) in
            mapping.frame.orientation.positive[nativeAxis] ? k : mapping.sliceCount - 1 - k
        }
        // Only annotated slices become examples: an unannotated one is neither a positive nor a "nothing here".
        let annotated = read.annotated
        let kept = slices.slices.indices.filter { annotated.contains(axis: nativeAxis, index: nativeSlice($0)) }
        // One image buffer per slice, shared by every target's examples.
        let images = slices.slices.map { ModelSlice(pixels: $0) }
        var byTarget: [String: [SupportExample]] = [:]
        for target in targets {
            let masks: [[Float]]
            do {
                masks = try modelMasks(of: label, values: read.values(of: target), like: slices, resampling: .binary)
            } catch let error as SlicingError {
                throw PipelineError.invalidVolume(pair.label.path, reason: error.problem)
            }
            byTarget[target.name] = kept.map { k in
                let mask = ModelMask(pixels: masks[k])
                return SupportExample(image: images[k], mask: mask, source: pair.name, slice: nativeSlice(k),
                                      position: positions[k], foreground: mask.foreground, pixelSize: mapping.pixelSize)
            }
        }
        cache.withLock { $0[key] = (stamp, byTarget) }
        return byTarget
    }
}
