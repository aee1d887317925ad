import Foundation
import Synchronization
import VolumeIO

/// Support examples on the model grid, read and prepared once per run and shared by every study that uses them.
public final class SupportPool: Sendable {
    private let targets: [TargetSpec]
    private let normalization: Normalization
    private let backend: any VolumeBackend
    private let grid: any ModelGrid
    /// Key: pair image path + world axis; value: examples per target name.
    private let cache = Mutex<[String: [String: [SupportExample]]]>([:])

    public init(targets: [TargetSpec], normalization: Normalization, backend: any VolumeBackend, grid: any ModelGrid) {
        self.targets = targets
        self.normalization = normalization
        self.backend = backend
        self.grid = grid
    }

    /// The examples of `pairs` for `target`, sliced perpendicular to world axis `worldAxis` (0 = x, 1 = y, 2 = z).
    /// Blocking: reads files on first use.
    public func examples(_ pairs: [SupportPair], target: TargetSpec, worldAxis: Int) throws -> [SupportExample] {
        try pairs.flatMap { try prepared($0, worldAxis: worldAxis)[target.name] ?? [] }
    }

    private func prepared(_ pair: SupportPair, worldAxis: Int) throws -> [String: [SupportExample]] {
        let key = "\(pair.image.path)#\(worldAxis)"
        if let hit = cache.withLock({ $0[key] }) { return hit }
        let (image, label) = try backend.readSupport(pair)
        guard image.shape == label.shape else {
            throw PipelineError.invalidVolume(pair.label.path, reason: "label grid \(image.shape) differs from its image's \(label.shape)")
        }
        // A single slice (one voxel thick) is sliced along its thin axis, whatever its orientation.
        let axis = image.shape.firstIndex(of: 1)
            ?? [2, 1, 0].first { Geometry.dominantWorldAxis(image.affine, indexAxis: $0) == worldAxis } ?? 2
        let normalized = image.withVoxels(IntensityNormalizer.normalize(image.voxels, method: normalization))
        let imageSlices = grid.slices(of: normalized, axis: axis)
        var byTarget: [String: [SupportExample]] = [:]
        for target in targets {
            let masks = grid.masks(of: label, axis: axis, values: Set(target.supportLabels))
            byTarget[target.name] = imageSlices.indices.map { k in
                let mask = masks[k]
                return SupportExample(image: imageSlices[k], mask: mask, source: pair.name, slice: k,
                                      position: Geometry.relativePosition(index: k, count: imageSlices.count,
                                                                          affine: image.affine, axis: axis),
                                      foreground: mask.pixels.reduce(0) { $0 + ($1 >= 0.5 ? 1 : 0) })
            }
        }
        cache.withLock { $0[key] = byTarget }
        return byTarget
    }
}
