import Foundation
import VolumeIO

/// Which slices of a segmented study the network was least sure about: the ones worth annotating next and adding
/// to the support library (`universeg support add --slices`).
///
/// The measure, per model slice (128 x 128 probabilities of one target): the mean binary entropy, in bits,
/// H(p) = -p log2 p - (1 - p) log2 (1 - p), over the slice's *uncertain region*: the pixels with p >= 0.1, grown by
/// `border` pixels (so a boundary's soft edge counts in full). A slice whose every pixel is below 0.1 is
/// confidently empty and scores 0; a crisp mask (p near 0 or 1 everywhere but a thin edge) scores low; a faint
/// or half-drawn shape scores high. The mean, not the sum, so a large structure does not outrank a small doubtful one.
public enum SliceConfidence {
    /// Probability from which a pixel is part of the uncertain region.
    public static let regionThreshold: Float = 0.1
    /// Growth of the region, in model pixels.
    public static let border = 2
    /// How many slices a study's report lists per target.
    public static let reportedCount = 5

    /// One slice and its uncertainty, as reports list them.
    public struct Slice: Codable, Sendable, Equatable {
        /// The slice's index in the image file, along the slicing axis.
        public var slice: Int
        /// Mean binary entropy over the uncertain region, bits (0 ... 1).
        public var uncertainty: Double
    }

    /// The uncertainty of one slice's probabilities (`side` x `side`).
    public static func uncertainty(_ p: [Float], side: Int = ModelSlice.side) -> Double {
        precondition(p.count == side * side)
        var inRegion = p.map { $0 >= regionThreshold }
        guard inRegion.contains(true) else { return 0 }
        for _ in 0..<border {   // grow by one pixel (4-neighbours) per step
            let previous = inRegion
            for y in 0..<side { for x in 0..<side where !previous[y * side + x] {
                if (x > 0 && previous[y * side + x - 1]) || (x + 1 < side && previous[y * side + x + 1])
                    || (y > 0 && previous[(y - 1) * side + x]) || (y + 1 < side && previous[(y + 1) * side + x]) {
                    inRegion[y * side + x] = true
                }
            } }
        }
        var sum = 0.0, count = 0
        for (i, inside) in inRegion.enumerated() where inside {
            sum += entropy(Double(p[i]))
            count += 1
        }
        return sum / Double(count)
    }

    /// Binary entropy in bits; 0 at 0 and 1.
    static func entropy(_ p: Double) -> Double {
        guard p > 0, p < 1 else { return 0 }
        return -(p * log2(p) + (1 - p) * log2(1 - p))
    }

    /// The `count` least confident slices (most uncertain first; ties to the lower index), skipping blank slices
    /// (left unsegmented) and slices that score 0. `probabilities` are in model-slice order; `nativeSlice` maps a
    /// model slice to its index in the file.
    public static func leastConfident(_ probabilities: [ModelSlice], blank: [Bool], count: Int,
                                      nativeSlice: (Int) -> Int) -> [Slice] {
        let scored = probabilities.indices.compactMap { k -> (Int, Double)? in
            guard !(k < blank.count && blank[k]) else { return nil }
            let u = uncertainty(probabilities[k].pixels)
            return u > 0 ? (k, u) : nil
        }
        return scored.sorted { ($1.1, $0.0) < ($0.1, $1.0) }.prefix(count).map {
            Slice(slice: nativeSlice($0.0), uncertainty: ($0.1 * 1000).rounded() / 1000)
        }
    }
}

extension SliceMapping {
    /// The index in the image file, along the slicing axis, of model slice `k` (model slices run in increasing
    /// R, A or S).
    func nativeSliceIndex(ofModelSlice k: Int) -> Int {
        frame.orientation.positive[nativeSliceAxis] ? k : sliceCount - 1 - k
    }
}
