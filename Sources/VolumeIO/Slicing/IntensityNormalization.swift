/// How image intensities become the model's [0, 1] range: `(v − lower) / (upper − lower)`, clipped to [0, 1].
/// One window per volume, computed over **all** finite voxels (not only nonzero ones): CT has real zeros (water,
/// soft tissue near 0 HU) inside the body, and in MR the zero background then maps to 0, the same value as the
/// padding around each slice. NaN/Inf voxels map to 0. When `upper <= lower` (a constant image) every voxel maps
/// to 0 rather than dividing by zero.
public enum IntensityNormalization: Sendable, Equatable {
    /// Robust clip at two percentiles (numpy's default linear interpolation between order statistics).
    case percentile(lower: Double, upper: Double)
    /// A fixed window, e.g. CT window/level: `center ± width / 2`.
    case window(center: Double, width: Double)
    /// The volume's minimum and maximum.
    case minMax

    /// The default: 0.5th to 99.5th percentile.
    public static let robust = IntensityNormalization.percentile(lower: 0.5, upper: 99.5)

    /// The (lower, upper) intensities this normalisation maps to 0 and 1 for `voxels`.
    /// - Complexity: O(n): a min/max pass and a histogram pass (percentiles are exact, not binned).
    public func window(for voxels: [Float]) -> IntensityWindow {
        switch self {
        case .window(let center, let width):
            return IntensityWindow(lower: center - width / 2, upper: center + width / 2)
        case .minMax:
            let (low, high, _) = finiteRange(voxels)
            return IntensityWindow(lower: Double(low), upper: Double(high))
        case .percentile(let lower, let upper):
            let values = percentiles(voxels, [lower, upper])
            return IntensityWindow(lower: values[0], upper: values[1])
        }
    }
}

/// The intensities mapped to 0 and 1.
public struct IntensityWindow: Sendable, Equatable {
    public var lower: Double
    public var upper: Double

    public init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }

    /// `v` mapped to [0, 1]; 0 for non-finite values and for a degenerate window.
    @inline(__always) public func normalize(_ v: Float) -> Float {
        guard upper > lower, v.isFinite else { return 0 }
        let x = (Double(v) - lower) / (upper - lower)
        return Float(min(1, max(0, x)))
    }
}

/// Minimum, maximum and count of the finite values (0, 0, 0 when there are none).
func finiteRange(_ values: [Float]) -> (Float, Float, Int) {
    var low = Float.infinity, high = -Float.infinity, count = 0
    values.withUnsafeBufferPointer { v in
        for x in v where x.isFinite {
            if x < low { low = x }
            if x > high { high = x }
            count += 1
        }
    }
    return count == 0 ? (0, 0, 0) : (low, high, count)
}

/// Exact percentiles (0...100) of the finite values, with numpy's default linear interpolation:
/// rank r = p/100 · (n − 1), value = x[⌊r⌋] + (r − ⌊r⌋) · (x[⌊r⌋ + 1] − x[⌊r⌋]) over the sorted values x.
///
/// Order statistics come from a 65 536-bin histogram that also records each bin's min and max: a bin holding
/// one distinct value (the common case for integer images) answers directly; otherwise only that bin's values
/// are collected and sorted. No copy of the whole volume is sorted.
/// - Complexity: O(n) plus sorting the values of at most a few bins.
func percentiles(_ values: [Float], _ ps: [Double]) -> [Double] {
    let (low, high, n) = finiteRange(values)
    guard n > 0 else { return ps.map { _ in 0 } }
    guard high > low else { return ps.map { _ in Double(low) } }
    let bins = 65_536
    // Binning in Double: monotonic in x and free of overflow even for values near ±Float.greatestFiniteMagnitude.
    let origin = Double(low), scale = Double(bins) / (Double(high) - Double(low))
    @inline(__always) func bin(_ x: Float) -> Int { min(bins - 1, Int((Double(x) - origin) * scale)) }
    var counts = [Int](repeating: 0, count: bins)
    var binLow = [Float](repeating: .infinity, count: bins), binHigh = [Float](repeating: -.infinity, count: bins)
    values.withUnsafeBufferPointer { v in
        counts.withUnsafeMutableBufferPointer { c in
            binLow.withUnsafeMutableBufferPointer { lo in
                binHigh.withUnsafeMutableBufferPointer { hi in
                    for x in v where x.isFinite {
                        let b = bin(x)
                        c[b] += 1
                        if x < lo[b] { lo[b] = x }
                        if x > hi[b] { hi[b] = x }
                    }
                }
            }
        }
    }
    var cumulative = [Int](repeating: 0, count: bins + 1)   // cumulative[b] = values in bins before b
    for b in 0..<bins { cumulative[b + 1] = cumulative[b] + counts[b] }

    var sortedBins: [Int: [Float]] = [:]
    func orderStatistic(_ k: Int) -> Double {
        // The bin holding the k-th smallest value: the last b with cumulative[b] <= k.
        var lo = 0, hi = bins - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if cumulative[mid] <= k { lo = mid } else { hi = mid - 1 }
        }
        let b = lo
        if binLow[b] == binHigh[b] { return Double(binLow[b]) }
        if sortedBins[b] == nil { sortedBins[b] = values.filter { $0.isFinite && bin($0) == b }.sorted() }
        return Double(sortedBins[b]![k - cumulative[b]])
    }
    return ps.map { p in
        let rank = min(max(p, 0), 100) / 100 * Double(n - 1)
        let k = Int(rank.rounded(.down)), fraction = rank - Double(k)
        let a = orderStatistic(k)
        guard fraction > 0, k + 1 < n else { return a }
        return a + fraction * (orderStatistic(k + 1) - a)
    }
}
