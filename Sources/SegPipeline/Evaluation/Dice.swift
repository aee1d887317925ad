/// The Dice coefficient 2|A ∩ B| / (|A| + |B|) of two masks of equal size; 1 when both are empty (nothing to
/// find, nothing found).
public enum Dice {
    public static func score(_ prediction: [Bool], _ truth: [Bool]) -> Double {
        precondition(prediction.count == truth.count, "masks must have the same size")
        var both = 0, predicted = 0, actual = 0
        for (p, t) in zip(prediction, truth) {
            if p { predicted += 1 }
            if t { actual += 1 }
            if p && t { both += 1 }
        }
        return score(both: both, predicted: predicted, actual: actual)
    }

    /// From counts: voxels in both masks, in the prediction, in the truth.
    public static func score(both: Int, predicted: Int, actual: Int) -> Double {
        predicted + actual == 0 ? 1 : 2 * Double(both) / Double(predicted + actual)
    }

    /// Dice of a probability map thresholded at `threshold` (p ≥ threshold is foreground) against a binary mask
    /// (≥ 0.5 is foreground), both on the model grid.
    public static func score(probabilities: [Float], mask: [Float], threshold: Float = 0.5) -> Double {
        score(probabilities.map { $0 >= threshold }, mask.map { $0 >= 0.5 })
    }
}
