/// SplitMix64: a small, fast generator whose sequence depends only on its seed, so support choices are repeatable.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for one use of a run seed, e.g. `(seed, "brain2", "lesion", 3)`: each use gets its own stream.
    public init(seed: UInt64, _ parts: [String]) {
        state = FNV1a.hash(parts.joined(separator: "\u{1F}").utf8, basis: seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// `count` distinct indices of `0..<n` (all of them when `n <= count`) in draw order: a partial Fisher–Yates
    /// shuffle, the one way support slices are drawn at random (pipelines' `random` and `evaluate`'s protocol).
    public mutating func distinctIndices(_ count: Int, of n: Int) -> [Int] {
        var indices = Array(0..<n)
        let taken = min(count, n)
        for i in 0..<taken { indices.swapAt(i, Int.random(in: i..<n, using: &self)) }
        return Array(indices[0..<taken])
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
