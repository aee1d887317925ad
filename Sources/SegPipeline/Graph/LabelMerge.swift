/// Merges per-target probability maps into one label map.
public enum LabelMerge {
    /// Each voxel takes the value of the most probable target whose probability reaches `threshold`, else 0.
    /// Ties go to the earlier target. All maps must have the same length.
    /// - Complexity: O(voxels x targets).
    public static func merge(_ maps: [(value: Int32, probabilities: [Float])], threshold: Float) -> [Int32] {
        guard let count = maps.first?.probabilities.count else { return [] }
        precondition(maps.allSatisfy { $0.probabilities.count == count }, "probability maps must share a grid")
        var labels = [Int32](repeating: 0, count: count)
        var best = [Float](repeating: -1, count: count)
        for map in maps {
            map.probabilities.withUnsafeBufferPointer { p in
                for i in 0..<count where p[i] >= threshold && p[i] > best[i] {
                    best[i] = p[i]
                    labels[i] = map.value
                }
            }
        }
        return labels
    }
}
