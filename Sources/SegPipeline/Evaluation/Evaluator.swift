import Foundation
import UniverSeg
import VolumeIO

/// Scores UniverSeg on a task folder (`universeg evaluate`).
///
/// Protocol (the paper's, plus a 3D score):
/// - Support sets are drawn from the pool of support slices with foreground (see `LoadedTask.draw`).
/// - 2D Dice: every query slice with foreground, on the 128 x 128 model grid, probability ≥ 0.5 against the
///   binary model mask; averaged over slices.
/// - 3D Dice: every slice of each query volume is segmented, mapped back to the native grid
///   (`nativeProbabilities`, threshold 0.5) and compared with the native label; averaged over volumes.
/// - Ensemble of K: K support sets (members 0..<K of the same seeded draws), mean of their probabilities.
///
/// Speed: each distinct support set is prepared once (`prepareSupport`) and runs every query slice before the
/// next is prepared, so one prepared set is in memory at a time; members with identical sets run once.
public enum Evaluator {
    public struct Options: Sendable {
        public var supportSize: Int
        public var ensemble: Int
        public var seed: UInt64
        public var threads: Int
        public var baseline: Bool
        /// The whole-volume path, as a pipeline runs it: support selection, clean-up, smoothing, fusion.
        public var wholeVolume: WholeVolumeOptions
        /// Where each query volume's native probability map goes, as `NAME_prob.nii.gz` (nil: not written).
        public var probabilitiesFolder: URL?
        /// Told one line after each support set has run on every query slice (for long runs on a terminal).
        public var progress: (@Sendable (String) -> Void)?

        public init(supportSize: Int = 16, ensemble: Int = 1, seed: UInt64 = 0, threads: Int = 1, baseline: Bool = false,
                    wholeVolume: WholeVolumeOptions = .init(), progress: (@Sendable (String) -> Void)? = nil) {
            self.wholeVolume = wholeVolume
            self.supportSize = supportSize
            self.ensemble = ensemble
            self.seed = seed
            self.threads = threads
            self.baseline = baseline
            self.progress = progress
        }
    }

    /// Reads, slices and scores a task: the paper's 2D protocol, then every query volume segmented whole the way
    /// a pipeline does it.
    public static func evaluate(_ task: EvaluationTask, model: UniverSegModel, options: Options) throws -> EvaluationReport {
        let start = ContinuousClock.now
        let loaded = try LoadedTask(task)
        let sets = (0..<options.ensemble).map { loaded.draw(size: options.supportSize, member: $0, seed: options.seed) }
        let targets = loaded.foregroundQuerySlices
        var cache: [[Int]: [[Float]]] = [:]
        let probabilities = try meanProbabilities(loaded, model: model, sets: sets, slices: targets, threads: options.threads,
                                                  cache: &cache, progress: options.progress)
        let baseline = options.baseline ? nearestSupportMasks(loaded, slices: loaded.allQuerySlices) : nil
        var slices: [EvaluationReport.SliceScore] = []
        for (ref, p) in zip(targets, probabilities) {
            let volume = loaded.query[ref.volume], mask = volume.masks[ref.slice]
            slices.append(.init(volume: volume.name, index: volume.nativeIndex(ofSlice: ref.slice),
                                dice: Dice.score(probabilities: p, mask: mask),
                                baselineDice: baseline.map { Dice.score(probabilities: $0[ref]!, mask: mask) }))
        }
        let segmenter = UniverSegSegmenter(model: model, threads: options.threads, modelDescription: "")
        var volumes: [EvaluationReport.VolumeScore] = []
        for (q, volume) in loaded.query.enumerated() {
            let volumeStart = ContinuousClock.now
            let (predicted, probabilities) = try WholeVolume.segment(query: q, of: loaded, segmenter: segmenter, options: options)
            if let folder = options.probabilitiesFolder {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try NiftiWriter.write(probabilities, to: folder.appendingPathComponent("\(volume.name)_prob.nii.gz"))
            }
            let metrics = VolumeMetrics(predicted: predicted, truth: volume.foreground,
                                        shape: volume.slices.mapping.nativeShape, axis: volume.slices.mapping.nativeSliceAxis)
            options.progress?("\(volume.name) segmented whole in " + String(format: "%.1f s", volumeStart.duration(to: .now).seconds))
            let refs = volume.masks.indices.map { LoadedTask.SliceRef(volume: q, slice: $0) }
            volumes.append(.init(name: volume.name, axis: volume.slices.mapping.nativeSliceAxis, metrics: metrics,
                                 baselineDice3D: baseline.map { b in dice3D(refs.map { b[$0]! }, volume) }))
        }
        let seconds = start.duration(to: .now)
        return EvaluationReport(
            task: task.name, slices: slices, volumes: volumes,
            meanDice2D: mean(slices.map(\.dice)), meanDice3D: mean(volumes.map(\.dice3D)),
            wholeVolume: options.wholeVolume.description,
            supportSize: options.supportSize, effectiveSupportSize: sets[0].count, supportPool: loaded.pool.count,
            ensemble: options.ensemble, seed: options.seed,
            seconds: seconds.seconds,
            baselineMeanDice2D: options.baseline ? mean(slices.compactMap(\.baselineDice)) : nil,
            baselineMeanDice3D: options.baseline ? mean(volumes.compactMap(\.baselineDice3D)) : nil,
            supportSets: sets.map { set in set.map { loaded.supportSlice($0) } }, warnings: loaded.warnings)
    }

    /// Mean 2D Dice for each support size, with one support set and with `ensemble` sets. Row S with K=1 equals
    /// `evaluate` with support size S, ensemble 1 and the same seed (member 0 is shared); identical support sets
    /// (sizes at or beyond the pool) are computed once.
    public static func sweep(_ task: EvaluationTask, model: UniverSegModel, sizes: [Int] = [1, 2, 4, 8, 16, 32, 64],
                             ensemble: Int = 5, seed: UInt64 = 0, threads: Int = 1, baseline: Bool = false,
                             progress: (@Sendable (String) -> Void)? = nil) throws -> SweepReport {
        let start = ContinuousClock.now
        let loaded = try LoadedTask(task)
        let targets = loaded.foregroundQuerySlices
        let masks = targets.map { loaded.query[$0.volume].masks[$0.slice] }
        var cache: [[Int]: [[Float]]] = [:]
        var rows: [SweepReport.Row] = []
        for size in sizes {
            let sets = (0..<ensemble).map { loaded.draw(size: size, member: $0, seed: seed) }
            let single = try meanProbabilities(loaded, model: model, sets: [sets[0]], slices: targets, threads: threads,
                                               cache: &cache, progress: progress)
            let several = try meanProbabilities(loaded, model: model, sets: sets, slices: targets, threads: threads,
                                                cache: &cache, progress: progress)
            rows.append(.init(supportSize: size, effectiveSupportSize: sets[0].count,
                              meanDice2D: mean(zip(single, masks).map { Dice.score(probabilities: $0, mask: $1) }),
                              meanDice2DEnsemble: mean(zip(several, masks).map { Dice.score(probabilities: $0, mask: $1) })))
        }
        var baselineDice: Double?
        if baseline {
            let nearest = nearestSupportMasks(loaded, slices: targets)
            baselineDice = mean(zip(targets, masks).map { Dice.score(probabilities: nearest[$0]!, mask: $1) })
        }
        let seconds = start.duration(to: .now)
        return SweepReport(task: task.name, ensemble: ensemble, seed: seed, supportPool: loaded.pool.count,
                           querySlices: targets.count, rows: rows,
                           seconds: seconds.seconds, baselineMeanDice2D: baselineDice, warnings: loaded.warnings)
    }

    /// Mean over `sets` of the foreground probabilities of each slice in `slices`. `cache` maps a support set to
    /// its probabilities for exactly these `slices`, so a set seen before (another member, size or call) is free.
    static func meanProbabilities(_ task: LoadedTask, model: UniverSegModel, sets: [[Int]], slices: [LoadedTask.SliceRef],
                                  threads: Int, cache: inout [[Int]: [[Float]]],
                                  progress: (@Sendable (String) -> Void)? = nil) throws -> [[Float]] {
        let pixels = ModelSlice.side * ModelSlice.side
        var sum = [[Float]](repeating: [Float](repeating: 0, count: pixels), count: slices.count)
        for (n, set) in sets.enumerated() {
            if cache[set] == nil {
                let start = ContinuousClock.now
                let (images, labels) = task.supportArrays(set)
                let support = try model.prepareSupport(images: images, labels: labels, size: (ModelSlice.side, ModelSlice.side), threads: threads)
                cache[set] = try slices.map { ref in
                    let query = task.query[ref.volume].slices
                    // As in the pipeline: a blank slice is left unsegmented.
                    if query.blank[ref.slice] { return [Float](repeating: 0, count: pixels) }
                    return try model.predictLogits(query: query.slices[ref.slice], support: support, threads: threads)
                        .map(UniverSegModel.sigmoid)
                }
                progress?("support set \(n + 1)/\(sets.count) (S=\(set.count)): \(slices.count) query slices in "
                    + String(format: "%.1f s", start.duration(to: .now).seconds))
            }
            let probabilities = cache[set]!
            for i in slices.indices { for p in 0..<pixels { sum[i][p] += probabilities[i][p] } }
        }
        let scale = 1 / Float(sets.count)
        return sum.map { $0.map { $0 * scale } }
    }

    /// The trivial baseline: each slice gets the binary mask of the pool slice whose normalised model image is
    /// nearest in L2 (first one on ties).
    static func nearestSupportMasks(_ task: LoadedTask, slices: [LoadedTask.SliceRef]) -> [LoadedTask.SliceRef: [Float]] {
        let poolImages = task.pool.map { task.support[$0.volume].slices.slices[$0.slice] }
        var result: [LoadedTask.SliceRef: [Float]] = [:]
        for ref in slices {
            let query = task.query[ref.volume].slices.slices[ref.slice]
            var best = 0, bestDistance = Float.infinity
            for (i, image) in poolImages.enumerated() {
                var d: Float = 0
                for p in query.indices { let e = query[p] - image[p]; d += e * e }
                if d < bestDistance { bestDistance = d; best = i }
            }
            let chosen = task.pool[best]
            result[ref] = task.support[chosen.volume].masks[chosen.slice]
        }
        return result
    }

    /// 3D Dice of per-slice probability maps (every slice of `volume`) mapped to the native grid, threshold 0.5.
    static func dice3D(_ perSlice: [[Float]], _ volume: SlicedVolume) -> Double {
        let native = nativeProbabilities(perSlice, mapping: volume.slices.mapping)
        return Dice.score(native.voxels.map { $0 >= 0.5 }, volume.foreground)
    }

    static func mean(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}

extension LoadedTask {
    /// A pool slice as the report names it.
    func supportSlice(_ poolIndex: Int) -> EvaluationReport.SupportSlice {
        let ref = pool[poolIndex]
        return .init(volume: support[ref.volume].name, index: support[ref.volume].nativeIndex(ofSlice: ref.slice))
    }
}
