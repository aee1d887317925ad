/// Merges per-target probability maps into one label map.
public enum LabelMerge {
    /// Each voxel takes the value of the most probable target whose probability reaches `threshold`, else 0.
    /// Ties go to the earlier target. All maps must have the same length.
    /// - Complexity: O(voxels x targets) time; no memory beyond the result (a CT's worth of floats is hundreds of MB).
    public static func merge(_ maps: [(value: Int32, probabilities: [Float])], threshold: Float) -> [Int32] {
        guard let count = maps.first?.probabilities.count else { return [] }
        precondition(maps.allSatisfy { $0.probabilities.count == count }, "probability maps must share a grid")
        var labels = [Int32](repeating: 0, count: count)
        labels.withUnsafeMutableBufferPointer { out in
            for map in maps {
                map.probabilities.withUnsafeBufferPointer { p in
                    for i in 0..<count where p[i] >= threshold {
                        // The earlier maps' best at i is recomputed only where two targets compete.
                        if out[i] == 0 || p[i] > bestProbability(maps, value: out[i], at: i) { out[i] = map.value }
                    }
                }
            }
        }
        return labels
    }

    private static func bestProbability(_ maps: [(value: Int32, probabilities: [Float])], value: Int32, at i: Int) -> Float {
        maps.first { $0.value == value }!.probabilities[i]
    }
}
