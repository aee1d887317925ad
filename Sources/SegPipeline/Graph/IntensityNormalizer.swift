/// Maps image intensities to the model's 0...1 range.
public enum IntensityNormalizer {
    /// The intensity range that maps to 0...1 for `method` on `voxels` (finite values only).
    /// Percentiles come from at most ~1M evenly strided voxels, so huge volumes stay cheap.
    /// - Complexity: O(n log n) in the sampled voxel count.
    public static func range(of voxels: [Float], method: Normalization) -> (low: Float, high: Float) {
        switch method {
        case let .window(center, width):
            return (Float(center - width / 2), Float(center + width / 2))
        case .minmax:
            var low = Float.infinity, high = -Float.infinity
            for v in voxels where v.isFinite { low = min(low, v); high = max(high, v) }
            return low <= high ? (low, high) : (0, 1)
        case let .percentile(lower, upper):
            let stride = max(1, voxels.count / 1_000_000)
            var sample: [Float] = []
            sample.reserveCapacity(voxels.count / stride + 1)
            var i = 0
            while i < voxels.count {
                if voxels[i].isFinite { sample.append(voxels[i]) }
                i += stride
            }
            guard !sample.isEmpty else { return (0, 1) }
            sample.sort()
            func at(_ p: Double) -> Float {
                let position = p / 100 * Double(sample.count - 1)
                let below = Int(position.rounded(.down)), above = min(below + 1, sample.count - 1)
                let t = Float(position - Double(below))
                return sample[below] * (1 - t) + sample[above] * t
            }
            return (at(lower), at(upper))
        }
    }

    /// `voxels` mapped linearly so `range.low` -> 0 and `range.high` -> 1, clamped; NaN becomes 0. A flat range gives 0.
    public static func apply(_ voxels: [Float], range: (low: Float, high: Float)) -> [Float] {
        let span = range.high - range.low
        guard span > 0, span.isFinite else { return [Float](repeating: 0, count: voxels.count) }
        let scale = 1 / span
        return voxels.map { v in v.isNaN ? 0 : min(1, max(0, (v - range.low) * scale)) }
    }

    public static func normalize(_ voxels: [Float], method: Normalization) -> [Float] {
        apply(voxels, range: range(of: voxels, method: method))
    }
}
