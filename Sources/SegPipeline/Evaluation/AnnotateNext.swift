import Foundation
import UniverSeg
import VolumeIO

/// Does annotating the least-confident slices help more than annotating slices at random?
/// (`universeg evaluate TASK --annotate-next N`.)
///
/// For each query volume: segment it whole with the task's support (as `evaluate` does); pick N slices two ways,
/// the N least confident (`SliceConfidence`) and N drawn at random (seeded) among its non-blank slices; for each,
/// add the query volume itself to the support with only those slices annotated (their true labels, the
/// rest unannotated, so never used), segment it again and score the 3D Dice. This is the annotate-next loop on
/// one study: the user annotates N slices of the study and reruns it.
public enum AnnotateNext {
    public struct Row: Codable, Sendable, Equatable {
        public var volume: String
        /// The slices annotated (index in the file along the slicing axis).
        public var leastConfidentSlices: [Int]
        public var randomSlices: [Int]
        public var dice: Double
        public var diceLeastConfident: Double
        public var diceRandom: Double
    }

    public static func run(_ task: EvaluationTask, model: UniverSegModel, count: Int, options: Evaluator.Options) throws -> [Row] {
        precondition(!options.wholeVolume.fuseAxes, "annotate-next measures the pipeline's own axis only")
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
            let confident = SliceConfidence.leastConfident(first.perSlice, blank: volume.slices.blank, count: count,
                                                           nativeSlice: { $0 }).map(\.slice)
            let candidates = volume.slices.blank.indices.filter { !volume.slices.blank[$0] }
            var rng = SeededGenerator(seed: options.seed, [task.name, volume.name, "annotate-next"])
            let random = rng.distinctIndices(count, of: candidates.count).map { candidates[$0] }.sorted()
            func again(_ slices: [Int]) throws -> Double {
                var extra = volume
                extra.name = volume.name + "+annotated"
                extra.annotated = volume.masks.indices.map { slices.contains($0) }
                var grown = loaded
                grown.support.append(extra)
                return dice(try WholeVolume.segment(query: q, of: grown, segmenter: segmenter, options: options).mask)
            }
            rows.append(Row(volume: volume.name,
                            leastConfidentSlices: confident.map(volume.nativeIndex(ofSlice:)).sorted(),
                            randomSlices: random.map(volume.nativeIndex(ofSlice:)).sorted(),
                            dice: dice(first.mask), diceLeastConfident: try again(confident), diceRandom: try again(random)))
            options.progress?("\(volume.name): Dice \(rows.last!.dice) → least confident \(rows.last!.diceLeastConfident), "
                              + "random \(rows.last!.diceRandom)")
        }
        return rows
    }
}
