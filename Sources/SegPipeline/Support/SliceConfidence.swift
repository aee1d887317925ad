import Foundation
import VolumeIO

/// Which slices of a segmented study the network was least sure about: the ones worth annotating next and adding
/// to the support library (`universeg support add --slices`).
///
/// The measure, per model slice (128 x 128 probabilities of one target): the *expected number of wrong pixels*,
/// the sum over the slice of min(p, 1 - p): the chance that thresholding at 0.5 gets each pixel wrong, if p is
/// calibrated. It estimates how much annotating the slice would fix, so a large doubtful area outranks a small one
/// and a slice with no confident pixel but a wide faint shape counts in full. Picks are spread along the slicing
/// axis: no two within `minimumGap` slices (an annotated slice joins the support of the study's slices near it, so
/// a second pick beside it fixes little more); only when too few slices are that far apart are nearer ones added,
/// best first. Blank slices (left unsegmented) and slices with under `minimumScore` expected wrong pixels are
/// never listed. Measured against random slices in MODEL_CARD.md; `SliceConfidence.Measure` holds the variants tried.
public enum SliceConfidence {
    /// How many slices a study's report lists per target.
    public static let reportedCount = 5
    /// Slices expecting fewer wrong pixels than this are sure enough not to list.
    public static let minimumScore = 0.5

    /// One slice and its uncertainty, as reports list them.
    public struct Slice: Codable, Sendable, Equatable {
        /// The slice's index in the image file, along the slicing axis.
        public var slice: Int
        /// The measure's score: expected wrong pixels on the 128 x 128 model grid (`Measure` for the variants).
        public var uncertainty: Double
    }

    /// Expected wrong pixels of one slice's probabilities: the sum of min(p, 1 - p).
    public static func expectedWrongPixels(_ p: [Float]) -> Double {
        p.reduce(0.0) { $0 + Double(min($1, 1 - $1)) }
    }

    /// The least distance, in slices, between two picks of a volume with `slices` non-blank slices: a tenth of
    /// them, at least 3 (about one of the default 8 position groups, whose support an annotated slice joins).
    /// It does not depend on how many are picked, so the first N of a longer list are the N picks.
    public static func minimumGap(slices: Int) -> Int { max(3, (slices + 9) / 10) }

    /// The `count` least confident slices, most uncertain first, by `measure` (the tool's own by default).
    /// `probabilities` are in model-slice order; `nativeSlice` maps a model slice to its index in the file.
    public static func leastConfident(_ probabilities: [ModelSlice], blank: [Bool], count: Int,
                                      measure: Measure = .standard, nativeSlice: (Int) -> Int) -> [Slice] {
        let candidates = probabilities.indices.filter { !($0 < blank.count && blank[$0]) }
        let scored = candidates.compactMap { k -> (Int, Double)? in
            let u = measure.score(probabilities[k].pixels)
            return u >= measure.minimumScore ? (k, u) : nil
        }.sorted { ($1.1, $0.0) < ($0.1, $1.0) }   // most uncertain first, ties to the lower index
        var picked: [(Int, Double)] = []
        if measure.spread {
            let gap = minimumGap(slices: candidates.count)
            for s in scored where picked.count < count && picked.allSatisfy({ abs($0.0 - s.0) >= gap }) {
                picked.append(s)
            }
        }
        for s in scored where picked.count < count && !picked.contains(where: { $0.0 == s.0 }) { picked.append(s) }
        return picked.map { Slice(slice: nativeSlice($0.0), uncertainty: ($0.1 * 1000).rounded() / 1000) }
    }
}

extension SliceMapping {
    /// The index in the file, along the slicing axis, of model slice `k` (model slices run in increasing
    /// R, A or S).
    func nativeSliceIndex(ofModelSlice k: Int) -> Int {
        frame.orientation.positive[nativeSliceAxis] ? k : sliceCount - 1 - k
    }
}
