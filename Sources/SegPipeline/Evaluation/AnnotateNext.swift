import Foundation
import UniverSeg
import VolumeIO

/// Does annotating the least-confident slices help more than annotating slices at random?
/// (`universeg evaluate TASK --annotate-next N`.)
///
/// For each query volume: segment it whole with the task's support (as `evaluate` does); pick N slices by each
/// measure (`SliceConfidence.Measure`, the tool's own by default) and, `randomDraws` times, N drawn at random
/// (seeded, one stream per draw) among the same candidates, its non-blank slices; for each pick, add the query volume
/// itself to the support with only those slices annotated (their true labels, the rest unannotated, so never used),
/// segment it again and score the 3D Dice. This is the annotate-next loop on one study: the user annotates N slices
/// of the study and reruns it. Picks that coincide are segmented once.
public enum AnnotateNext {
    /// Slices annotated (index in the file along the slicing axis) and the 3D Dice after adding them.
    public struct Pick: Codable, Sendable, Equatable {
        public var slices: [Int]
        public var dice: Double
    }

    public struct Row: Codable, Sendable, Equatable {
        public var volume: String
        /// 3D Dice as segmented, before any slice is added.
        public var dice: Double
        /// Per measure (`SliceConfidence.Measure` raw value), in the order asked for.
        public var measures: [String]
        public var leastConfident: [Pick]
        /// One per random draw.
        public var random: [Pick]
        public var randomMeanDice: Double { random.map(\.dice).reduce(0, +) / Double(max(1, random.count)) }
    }

    public static func run(_ task: EvaluationTask, model: UniverSegModel, count: Int,
                           measures: [SliceConfidence.Measure] = [.standard], randomDraws: Int = 5,
                           options: Evaluator.Options) throws -> [Row] {
        precondition(!options.wholeVolume.fuseAxes, "annotate-next measures the pipeline's own axis only")
        precondition(!measures.isEmpty && randomDraws >= 1)
        let loaded = try LoadedTask(task)
        let segmenter = UniverSegSegmenter(model: model, threads: options.threads, modelDescription: "")
        var rows: [Row] = []
        for (q, volume) in loaded.query.enumerated() {
            let mapping = volume.slices.mapping
            let dice = { (mask: [Bool]) in
                VolumeMetrics(predicted: mask, truth: volume.foreground, shape: mapping.nativeShape,
                              axis: mapping.nativeSliceAxis).dice
            }
            let first = try WholeVolume.segmentWithSlices(query: q, of: loaded, segmenter: segmenter, options: options)
            var done: [[Int]: Double] = [:]   // sorted model slices -> Dice
            func pick(_ slices: [Int]) throws -> Pick {
                let key = slices.sorted()
                if done[key] == nil {
                    var extra = volume
                    extra.name = volume.name + "+annotated"
                    extra.annotated = volume.masks.indices.map { key.contains($0) }
                    var grown = loaded
                    grown.support.append(extra)
                    done[key] = dice(try WholeVolume.segment(query: q, of: grown, segmenter: segmenter, options: options).mask)
                }
                return Pick(slices: key.map(volume.nativeIndex(ofSlice:)).sorted(), dice: done[key]!)
            }
            let confident = try measures.map { measure in
                try pick(SliceConfidence.leastConfident(first.perSlice, blank: volume.slices.blank, count: count,
                                                        measure: measure, nativeSlice: { $0 }).map(\.slice))
            }
            let candidates = volume.slices.blank.indices.filter { !volume.slices.blank[$0] }
            let random = try (0..<randomDraws).map { draw in
                // Draw 0 keeps the stream of the first measurement (one draw), so its numbers still reproduce.
                var rng = SeededGenerator(seed: options.seed, [task.name, volume.name, "annotate-next"]
                                          + (draw == 0 ? [] : ["draw \(draw)"]))
                return try pick(rng.distinctIndices(count, of: candidates.count).map { candidates[$0] })
            }
            let row = Row(volume: volume.name, dice: dice(first.mask), measures: measures.map(\.rawValue),
                          leastConfident: confident, random: random)
            rows.append(row)
            options.progress?("\(volume.name): Dice \(row.dice) → "
                              + zip(row.measures, confident).map { "\($0) \($1.dice)" }.joined(separator: ", ")
                              + ", random (mean of \(randomDraws)) \(row.randomMeanDice)")
        }
        return rows
    }
}
