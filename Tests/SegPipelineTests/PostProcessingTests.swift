import Testing
@testable import SegPipeline

/// Mask clean-up, slice smoothing and whole-volume metrics on small volumes whose answers are worked out by hand.
@Suite struct PostProcessingTests {
    /// A 6 x 6 x 6 grid (i fastest) with the given voxels set.
    static func mask(_ voxels: [(Int, Int, Int)], side: Int = 6) -> [Bool] {
        var m = [Bool](repeating: false, count: side * side * side)
        for (i, j, k) in voxels { m[i + side * (j + side * k)] = true }
        return m
    }

    static func cube(_ lo: Int, _ hi: Int, at k: ClosedRange<Int>) -> [(Int, Int, Int)] {
        var out: [(Int, Int, Int)] = []
        for z in k { for y in lo...hi { for x in lo...hi { out.append((x, y, z)) } } }
        return out
    }

    let shape = [6, 6, 6]

    @Test func largestComponentKeepsOnlyTheBiggestAndCountsDiagonalsAsConnected() {
        // A 2x2x2 block (8 voxels), a voxel touching it only at a corner (joins it), and a 2-voxel island.
        let input = Self.mask(Self.cube(0, 1, at: 0...1) + [(2, 2, 2), (5, 5, 4), (5, 5, 5)])
        let kept = MaskCleanup(largestComponent: true).apply(input, shape: shape, voxelML: 1)
        #expect(kept == Self.mask(Self.cube(0, 1, at: 0...1) + [(2, 2, 2)]))
    }

    @Test func smallComponentsGoByVolumeInMillilitres() {
        let input = Self.mask(Self.cube(0, 1, at: 0...1) + [(5, 5, 4), (5, 5, 5)])
        // 0.1 mL voxels: the block is 0.8 mL, the island 0.2 mL.
        #expect(MaskCleanup(minComponentML: 0.25).apply(input, shape: shape, voxelML: 0.1) == Self.mask(Self.cube(0, 1, at: 0...1)))
        #expect(MaskCleanup(minComponentML: 0.2).apply(input, shape: shape, voxelML: 0.1) == input)
        #expect(MaskCleanup(minComponentML: 1).apply(input, shape: shape, voxelML: 0.1) == [Bool](repeating: false, count: 216))
    }

    @Test func fillHolesFillsEnclosedCavitiesOnly() {
        // A hollow 3x3x3 shell (centre (2,2,2) empty) and a cup open toward the border (not a hole).
        let shell = Self.cube(1, 3, at: 1...3).filter { $0 != (2, 2, 2) }
        let filled = MaskCleanup(fillHoles: true).apply(Self.mask(shell), shape: shape, voxelML: 1)
        #expect(filled == Self.mask(Self.cube(1, 3, at: 1...3)))
        let cup = Self.cube(1, 3, at: 1...3).filter { !($0.0 == 2 && $0.1 == 2 && $0.2 >= 2) }
        #expect(MaskCleanup(fillHoles: true).apply(Self.mask(cup), shape: shape, voxelML: 1) == Self.mask(cup))
        // No clean-up asked: the mask is returned as it is.
        #expect(MaskCleanup.none.apply(Self.mask(shell), shape: shape, voxelML: 1) == Self.mask(shell))
    }

    @Test func smoothingAveragesNeighboursAndLeavesBlankSlicesAlone() {
        let ones = ModelSlice(pixels: [Float](repeating: 1, count: 128 * 128))
        let out = SliceSmoothing.smoothed([.zero, ones, .zero, .zero, ones], blank: [false, false, false, true, false])
        #expect(out.map { $0.pixels[0] } == [0.25, 0.5, 0.25, 0, 0.75])
    }

    @Test func volumeMetricsCountVoxelsAndSlices() {
        // Truth: slices 1 and 2 along k (4 voxels each). Prediction: 3 of them, plus one voxel on empty slice 4.
        let truth = Self.mask([(0, 0, 1), (1, 0, 1), (0, 1, 1), (1, 1, 1), (0, 0, 2), (1, 0, 2), (0, 1, 2), (1, 1, 2)])
        let predicted = Self.mask([(0, 0, 1), (1, 0, 1), (0, 1, 1), (3, 3, 4)])
        let m = VolumeMetrics(predicted: predicted, truth: truth, shape: shape, axis: 2)
        #expect(abs(m.dice - 2 * 3 / 12.0) < 1e-12 && abs(m.precision - 0.75) < 1e-12 && abs(m.recall - 3 / 8.0) < 1e-12)
        #expect(m.labelledSlices == 2 && m.emptySlices == 4 && m.falsePositiveSlices == 1 && m.missedSlices == 1)
        // Along i instead: truth in slices 0 and 1, prediction also on slice 3.
        let alongI = VolumeMetrics(predicted: predicted, truth: truth, shape: shape, axis: 0)
        #expect(alongI.labelledSlices == 2 && alongI.falsePositiveSlices == 1 && alongI.missedSlices == 0)
        let nothing = VolumeMetrics(predicted: [Bool](repeating: false, count: 216), truth: [Bool](repeating: false, count: 216),
                                    shape: shape, axis: 2)
        #expect(nothing.dice == 1 && nothing.precision == 1 && nothing.recall == 1 && nothing.emptySlices == 6)
    }
}
