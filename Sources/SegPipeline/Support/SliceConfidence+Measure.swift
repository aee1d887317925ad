import Foundation

extension SliceConfidence {
    /// The ways of scoring and picking slices that were compared (MODEL_CARD.md, "Annotating the least-confident
    /// slices"); `standard` is the one reports use. The others stay so that `evaluate --annotate-next-measures`
    /// can rerun the comparison.
    public enum Measure: String, CaseIterable, Sendable {
        /// Expected wrong pixels, picks spread along the axis (the tool's measure).
        case expectedErrorsSpread = "expected-errors-spread"
        /// Expected wrong pixels, the top slices wherever they lie.
        case expectedErrors = "expected-errors"
        /// Sum of binary entropy (bits) over the slice, picks spread.
        case entropySumSpread = "entropy-sum-spread"
        /// The first measure (2026-12-06): mean binary entropy over the pixels with p >= 0.1 grown by 2 pixels,
        /// the top slices wherever they lie. A mean favours a tiny doubtful area over a large one.
        case meanEntropy = "mean-entropy"
        /// The first measure with picks spread.
        case meanEntropySpread = "mean-entropy-spread"

        public static let standard = Measure.expectedErrorsSpread

        public var spread: Bool {
            switch self {
            case .expectedErrorsSpread, .entropySumSpread, .meanEntropySpread: true
            case .expectedErrors, .meanEntropy: false
            }
        }

        /// Scores under this are not listed (the network is sure).
        var minimumScore: Double {
            switch self {
            case .expectedErrorsSpread, .expectedErrors: SliceConfidence.minimumScore
            case .entropySumSpread: 1   // one pixel's worth of bits
            case .meanEntropy, .meanEntropySpread: .leastNonzeroMagnitude
            }
        }

        /// The slice's score: the higher, the less confident.
        public func score(_ p: [Float]) -> Double {
            switch self {
            case .expectedErrorsSpread, .expectedErrors: SliceConfidence.expectedWrongPixels(p)
            case .entropySumSpread: p.reduce(0.0) { $0 + SliceConfidence.entropy(Double($1)) }
            case .meanEntropy, .meanEntropySpread: SliceConfidence.meanEntropyInRegion(p)
            }
        }
    }

    /// Binary entropy in bits; 0 at 0 and 1.
    static func entropy(_ p: Double) -> Double {
        guard p > 0, p < 1 else { return 0 }
        return -(p * log2(p) + (1 - p) * log2(1 - p))
    }

    /// The first measure: mean binary entropy over the pixels with p >= 0.1, grown by 2 pixels (4-neighbours) so a
    /// boundary's soft edge counts in full; 0 when no pixel reaches 0.1.
    static func meanEntropyInRegion(_ p: [Float], side: Int = ModelSlice.side) -> Double {
        precondition(p.count == side * side)
        var inRegion = p.map { $0 >= 0.1 }
        guard inRegion.contains(true) else { return 0 }
        for _ in 0..<2 {   // grow by one pixel per step
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
}
