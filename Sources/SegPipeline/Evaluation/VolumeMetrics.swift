/// How a predicted mask of a whole volume compares with the truth: voxel overlap, and slice by slice along the
/// slicing axis, where whole-volume segmentation goes wrong (a shape drawn on a slice without the structure).
public struct VolumeMetrics: Sendable, Equatable {
    public var dice: Double
    /// Of the predicted voxels, the share that is truly foreground (1 when nothing is predicted).
    public var precision: Double
    /// Of the foreground voxels, the share predicted (1 when there is no foreground).
    public var recall: Double
    /// Slices along the axis with foreground in the truth, and without.
    public var labelledSlices: Int
    public var emptySlices: Int
    /// Label-free slices given foreground, and labelled slices given none.
    public var falsePositiveSlices: Int
    public var missedSlices: Int

    /// `predicted` and `truth` on one grid of `shape` (i fastest); slices are taken along voxel axis `axis`.
    public init(predicted: [Bool], truth: [Bool], shape: [Int], axis: Int) {
        precondition(predicted.count == truth.count && truth.count == shape.reduce(1, *))
        var both = 0, predictedCount = 0, truthCount = 0
        var predictedIn = [Bool](repeating: false, count: shape[axis]), truthIn = predictedIn
        let strides = [1, shape[0], shape[0] * shape[1]]
        for i in truth.indices where predicted[i] || truth[i] {
            let k = (i / strides[axis]) % shape[axis]
            if predicted[i] { predictedCount += 1; predictedIn[k] = true }
            if truth[i] { truthCount += 1; truthIn[k] = true }
            if predicted[i] && truth[i] { both += 1 }
        }
        dice = Dice.score(both: both, predicted: predictedCount, actual: truthCount)
        precision = predictedCount == 0 ? 1 : Double(both) / Double(predictedCount)
        recall = truthCount == 0 ? 1 : Double(both) / Double(truthCount)
        labelledSlices = truthIn.filter { $0 }.count
        emptySlices = shape[axis] - labelledSlices
        falsePositiveSlices = zip(predictedIn, truthIn).filter { $0 && !$1 }.count
        missedSlices = zip(predictedIn, truthIn).filter { !$0 && $1 }.count
    }
}
