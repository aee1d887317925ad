import VolumeIO

/// Numbers about one target's mask on the study's native grid, for the report and the run's summary.csv.
/// Intensities are the image's voxel values as read: after the DICOM modality LUT (RescaleSlope/Intercept, so HU
/// for CT) or the NIfTI scl_slope/scl_inter.
public struct TargetStatistics: Codable, Sendable, Equatable {
    public struct Intensity: Codable, Sendable, Equatable {
        public var mean: Double
        /// Population standard deviation (divides by the voxel count, as numpy.std).
        public var std: Double
        public var min: Double
        public var max: Double
        /// Percentiles by linear interpolation between the two nearest ranks (numpy.percentile's default): the
        /// p-th of n sorted values is at rank (n - 1) * p / 100.
        public var p5: Double
        public var p25: Double
        public var p50: Double
        public var p75: Double
        public var p95: Double
    }

    /// Inclusive bounds of the mask: voxel indices (i, j, k), and the RAS+ mm extent of its voxel centres.
    public struct Box<Scalar: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
        public var min: [Scalar]
        public var max: [Scalar]
    }

    public var intensity: Intensity
    public var boundingBoxVoxels: Box<Int>
    public var boundingBoxRAS: Box<Double>
    /// Mean position of the mask's voxel centres, RAS+ mm.
    public var centroidRAS: [Double]
    /// The mask reaches the first or last voxel along an axis of more than one voxel: the structure may be cut off
    /// by the field of view.
    public var touchesBorder: Bool

    /// Statistics of each value in `values` in `labels` over `image` (same grid), in one pass; values with no voxel
    /// are absent.
    /// - Complexity: O(voxels) plus sorting each mask's intensities; holds one Float per masked voxel.
    public static func compute(image: Volume<Float>, labels: Volume<Int32>, values: [Int32]) -> [Int32: TargetStatistics] {
        precondition(image.shape == labels.shape, "image and labels must share a grid")
        struct Accumulator {
            var intensities: [Float] = []
            var low = [Int.max, Int.max, Int.max], high = [Int.min, Int.min, Int.min]
            var lowRAS = [Double.infinity, .infinity, .infinity], highRAS = [-Double.infinity, -.infinity, -.infinity]
            var indexSum = [0.0, 0.0, 0.0]

            mutating func add(intensity: Float, at voxel: (Int, Int, Int), affine a: Affine) {
                intensities.append(intensity)
                let n = [voxel.0, voxel.1, voxel.2]
                for axis in 0..<3 {
                    low[axis] = Swift.min(low[axis], n[axis])
                    high[axis] = Swift.max(high[axis], n[axis])
                    indexSum[axis] += Double(n[axis])
                    let x = a[axis, 0] * Double(n[0]) + a[axis, 1] * Double(n[1]) + a[axis, 2] * Double(n[2]) + a[axis, 3]
                    lowRAS[axis] = Swift.min(lowRAS[axis], x)
                    highRAS[axis] = Swift.max(highRAS[axis], x)
                }
            }
        }
        let slots = Dictionary(values.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        var accumulators = [Accumulator](repeating: Accumulator(), count: values.count)
        let (nx, ny, nz) = (labels.shape[0], labels.shape[1], labels.shape[2])
        let a = labels.affine
        labels.voxels.withUnsafeBufferPointer { voxels in
            var index = 0
            for k in 0..<nz { for j in 0..<ny { for i in 0..<nx {
                defer { index += 1 }
                let value = voxels[index]
                guard value != 0, let slot = slots[value] else { continue }
                accumulators[slot].add(intensity: image.voxels[index], at: (i, j, k), affine: a)
            } } }
        }
        var result: [Int32: TargetStatistics] = [:]
        for (value, slot) in slots where !accumulators[slot].intensities.isEmpty {
            let acc = accumulators[slot]
            let count = Double(acc.intensities.count)
            let sorted = acc.intensities.map(Double.init).sorted()
            let mean = sorted.reduce(0, +) / count
            let variance = sorted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / count
            let centroid = a.apply(acc.indexSum.map { $0 / count })
            let touches = (0..<3).contains { axis in
                labels.shape[axis] > 1 && (acc.low[axis] == 0 || acc.high[axis] == labels.shape[axis] - 1)
            }
            result[value] = TargetStatistics(
                intensity: Intensity(mean: mean, std: variance.squareRoot(), min: sorted[0], max: sorted[sorted.count - 1],
                                     p5: percentile(sorted, 5), p25: percentile(sorted, 25), p50: percentile(sorted, 50),
                                     p75: percentile(sorted, 75), p95: percentile(sorted, 95)),
                boundingBoxVoxels: Box(min: acc.low, max: acc.high),
                boundingBoxRAS: Box(min: acc.lowRAS, max: acc.highRAS),
                centroidRAS: centroid, touchesBorder: touches)
        }
        return result
    }

    /// The `p`-th percentile of ascending `sorted` (not empty), numpy's "linear" method.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        let rank = Double(sorted.count - 1) * p / 100
        let below = Int(rank.rounded(.down))
        let above = Swift.min(below + 1, sorted.count - 1)
        let fraction = rank - Double(below)
        return sorted[below] + (sorted[above] - sorted[below]) * fraction
    }
}
