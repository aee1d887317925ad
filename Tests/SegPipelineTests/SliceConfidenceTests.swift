import Foundation
import Testing
import VolumeIO
@testable import SegPipeline

/// The least-confident slice measure: mean binary entropy over the uncertain region (p >= 0.1, grown by 2 pixels).
@Suite struct SliceConfidenceTests {
    static let side = ModelSlice.side
    var side: Int { Self.side }

    /// A slice with `value` inside the square [lo, hi) x [lo, hi) and 0 elsewhere.
    static func square(_ value: Float, _ lo: Int, _ hi: Int) -> [Float] {
        (0..<(side * side)).map { i in (lo..<hi).contains(i % side) && (lo..<hi).contains(i / side) ? value : 0 }
    }

    @Test func theMeasureOnHandComputedSlices() {
        #expect(SliceConfidence.uncertainty([Float](repeating: 0, count: side * side)) == 0)      // confidently empty
        #expect(SliceConfidence.uncertainty([Float](repeating: 0.05, count: side * side)) == 0)   // below the region
        #expect(SliceConfidence.uncertainty(Self.square(1, 10, 20)) == 0)                           // crisp mask
        // A 10 x 10 square at p = 0.5 (1 bit each), grown by 2 pixels (4-neighbours): 100 + 4 * 10 * 2 + 4 * 1 = 184
        // pixels (the diamond-shaped growth adds one pixel at each corner), of which 100 hold a bit.
        #expect(abs(SliceConfidence.uncertainty(Self.square(0.5, 10, 20)) - 100.0 / 184.0) < 1e-9)
        // A whole slice at p = 0.2: H(0.2) = 0.7219 bits everywhere.
        #expect(abs(SliceConfidence.uncertainty([Float](repeating: 0.2, count: side * side)) - 0.721928) < 1e-5)
    }

    @Test func theLeastConfidentAreRankedAndBlankOrSureSlicesLeftOut() {
        let slices = [Self.square(1, 10, 20), Self.square(0.5, 10, 20), Self.square(0.5, 0, 128), Self.square(0.3, 40, 60),
                      Self.square(0.5, 0, 128), [Float](repeating: 0, count: side * side)].map(ModelSlice.init)
        let blank = [false, false, false, false, true, false]
        let listed = SliceConfidence.leastConfident(slices, blank: blank, count: 3, nativeSlice: { 10 + $0 })
        // Slice 2 (a whole slice at 0.5: 1 bit), then 3 (H(0.3) = 0.881 over a 20 x 20 square), then 1; slice 4 is
        // blank, 0 and 5 are sure.
        #expect(listed.map(\.slice) == [12, 13, 11])
        #expect(listed[0].uncertainty == 1)
        #expect(SliceConfidence.leastConfident(slices, blank: blank, count: 10, nativeSlice: { $0 }).count == 3)
    }

    /// Reports carry the list per target, and index.html shows it.
    @Test func reportsAndTheIndexListTheSlicesToAnnotateNext() {
        let target = StudyReport.Target(name: "lesion", value: 1, supportLabels: [1], voxels: 3, volumeML: 0.1,
                                        slicesWithMask: 1, supportUsed: [], postprocess: nil,
                                        leastConfidentSlices: [.init(slice: 14, uncertainty: 0.62), .init(slice: 9, uncertainty: 0.5)])
        #expect(target.annotateNext == "lesion: slices 14 (0.62), 9 (0.50)")
        let row = RunSummaryPage.Row(study: "s", status: "done", detail: "", qcImage: nil, report: nil,
                                     targets: [("lesion", 0.1, 3)], seconds: 1, annotateNext: [target.annotateNext!])
        #expect(RunSummaryPage.html(pipeline: "p", generatedAt: "now", rows: [row])
            .contains("lesion: 0.10 mL (3)<br><small>annotate next: lesion: slices 14 (0.62), 9 (0.50)</small>"))
    }
}
