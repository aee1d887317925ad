import Foundation
import Testing
import VolumeIO
@testable import SegPipeline

/// The least-confident slice measure: expected wrong pixels (sum of min(p, 1 - p)), picks spread along the axis.
@Suite struct SliceConfidenceTests {
    static let side = ModelSlice.side
    var side: Int { Self.side }

    /// A slice with `value` inside the square [lo, hi) x [lo, hi) and 0 elsewhere.
    static func square(_ value: Float, _ lo: Int, _ hi: Int) -> [Float] {
        (0..<(side * side)).map { i in (lo..<hi).contains(i % side) && (lo..<hi).contains(i / side) ? value : 0 }
    }

    static let empty = [Float](repeating: 0, count: side * side)

    @Test func theMeasureOnHandComputedSlices() {
        #expect(SliceConfidence.expectedWrongPixels(Self.empty) == 0)                    // confidently empty
        #expect(SliceConfidence.expectedWrongPixels(Self.square(1, 10, 20)) == 0)        // crisp mask
        #expect(SliceConfidence.expectedWrongPixels(Self.square(0.5, 10, 20)) == 50)     // 100 pixels, each a coin toss
        #expect(abs(SliceConfidence.expectedWrongPixels(Self.square(0.8, 10, 20)) - 20) < 1e-4)   // 100 x 0.2
        // No pixel above 0.5 (nothing drawn) but a wide faint shape: it counts in full.
        #expect(abs(SliceConfidence.expectedWrongPixels(Self.square(0.3, 0, 64)) - 0.3 * 4096) < 1e-2)
        // The first measure, kept for comparison: a 10 x 10 square at 0.5 grown by 2 pixels (4-neighbours) is
        // 100 + 4 * 10 * 2 + 4 = 184 pixels, of which 100 hold a bit.
        #expect(abs(SliceConfidence.Measure.meanEntropy.score(Self.square(0.5, 10, 20)) - 100.0 / 184.0) < 1e-9)
        #expect(abs(SliceConfidence.Measure.entropySumSpread.score(Self.square(0.5, 10, 20)) - 100) < 1e-9)
    }

    /// The sum, not a mean: a large doubtful area outranks a small one though every doubtful pixel is as doubtful
    /// (p = 0.5: one bit each, the same mean entropy over them).
    @Test func aLargeUncertainAreaOutranksASmallOne() {
        let small = Self.square(0.5, 10, 14), large = Self.square(0.5, 10, 50)
        let slices = [small, Self.empty, Self.empty, Self.empty, large].map(ModelSlice.init)
        let blank = [Bool](repeating: false, count: 5)
        let listed = SliceConfidence.leastConfident(slices, blank: blank, count: 2, nativeSlice: { $0 })
        #expect(listed.map(\.slice) == [4, 0])
        #expect(listed.map(\.uncertainty) == [800, 8])
    }

    /// Picks lie at least `minimumGap` slices apart; nearer slices only fill up when too few are that far apart.
    @Test func picksAreSpreadAlongTheAxis() {
        // 40 slices: an uncertain stretch at 10 ... 14 (most at 12), a weaker one at 30; the rest sure.
        let strength: [Int: Float] = [10: 0.2, 11: 0.35, 12: 0.5, 13: 0.35, 14: 0.2, 30: 0.1]
        let slices = (0..<40).map { k in ModelSlice(pixels: Self.square(strength[k] ?? 0, 0, 40)) }
        let blank = [Bool](repeating: false, count: 40)
        #expect(SliceConfidence.minimumGap(slices: 40) == 4)
        #expect(SliceConfidence.minimumGap(slices: 12) == 3)
        #expect(SliceConfidence.minimumGap(slices: 95) == 10)
        let spread = SliceConfidence.leastConfident(slices, blank: blank, count: 3, nativeSlice: { $0 })
        #expect(spread.map(\.slice) == [12, 30, 11])   // 11 and 13 tie: only filled in, lower index first
        let clustered = SliceConfidence.leastConfident(slices, blank: blank, count: 3, measure: .expectedErrors,
                                                       nativeSlice: { $0 })
        #expect(clustered.map(\.slice) == [12, 11, 13])
        // The list does not depend on its length: the first N of the report's 5 are the N to annotate.
        let five = SliceConfidence.leastConfident(slices, blank: blank, count: 5, nativeSlice: { $0 })
        #expect(Array(five.prefix(2)) == Array(spread.prefix(2)))
        #expect(five.map(\.slice) == [12, 30, 11, 13, 10])
        // Spread in file order too: the mapping only renames the slices.
        #expect(SliceConfidence.leastConfident(slices, blank: blank, count: 2, nativeSlice: { 39 - $0 }).map(\.slice) == [27, 9])
    }

    @Test func blankAndSureSlicesAreLeftOut() {
        let slices = [Self.square(1, 10, 20), Self.square(0.5, 10, 20), Self.square(0.5, 0, 128), Self.square(0.3, 40, 60),
                      Self.square(0.5, 0, 128), Self.empty, Self.square(0.001, 0, 20)].map(ModelSlice.init)
        let blank = [false, false, false, false, true, false, false]
        // 2 (8192 expected wrong pixels), 3 (400 x 0.3 = 120), 1 (50); slice 4 is blank; 0, 5 and 6 (0.4 pixel
        // expected wrong in all) are sure.
        let listed = SliceConfidence.leastConfident(slices, blank: blank, count: 10, nativeSlice: { 10 + $0 })
        #expect(listed.map(\.slice) == [12, 13, 11])
        #expect(listed[0].uncertainty == 8192)
    }

    /// Reports carry the list per target, and index.html shows it.
    @Test func reportsAndTheIndexListTheSlicesToAnnotateNext() {
        let target = StudyReport.Target(name: "lesion", value: 1, supportLabels: [1], voxels: 3, volumeML: 0.1,
                                        slicesWithMask: 1, supportUsed: [], postprocess: nil,
                                        leastConfidentSlices: [.init(slice: 14, uncertainty: 312.4), .init(slice: 9, uncertainty: 57.6)])
        #expect(target.annotateNext == "lesion: slices 14 (312 px), 9 (58 px)")
        let row = RunSummaryPage.Row(study: "s", status: "done", detail: "", qcImage: nil, report: nil,
                                     targets: [("lesion", 0.1, 3)], seconds: 1, annotateNext: [target.annotateNext!])
        #expect(RunSummaryPage.html(pipeline: "p", generatedAt: "now", rows: [row])
            .contains("lesion: 0.10 mL (3)<br><small>annotate next: lesion: slices 14 (312 px), 9 (58 px)</small>"))
    }

    /// `evaluate --annotate-next`'s table: per volume, random as mean ± sd of the draws; the mean row's random
    /// spread is that of the draws' means.
    @Test func theAnnotateNextTable() {
        let pick = { (dice: Double) in AnnotateNext.Pick(slices: [1, 5], dice: dice) }
        let rows = [AnnotateNext.Row(volume: "a", dice: 0.5, measures: ["expected-errors-spread"], leastConfident: [pick(0.7)],
                                     random: [pick(0.5), pick(0.6), pick(0.7)]),
                    AnnotateNext.Row(volume: "b", dice: 0.3, measures: ["expected-errors-spread"], leastConfident: [pick(0.4)],
                                     random: [pick(0.3), pick(0.3), pick(0.3)])]
        let lines = AnnotateNext.text(rows).split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        #expect(lines[0].prefix(4) == ["volume", "dice", "expected-errors-spread", "random (mean ± sd of 3)"])
        #expect(lines[1].prefix(4) == ["a", "0.500", "0.700", "0.600 ± 0.100"])
        #expect(lines[1][5] == "1,5 | 1,5 | 1,5")
        // Draws' means over the two volumes: 0.4, 0.45, 0.5.
        #expect(lines[3] == ["mean (2 volumes)", "0.400", "0.550", "0.450 ± 0.050"])
    }
}
