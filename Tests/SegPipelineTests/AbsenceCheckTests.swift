import Testing
@testable import SegPipeline

/// The absence check's plumbing with a scripted engine: forward calls draw a square on every query slice; reverse
/// calls (whose support comes from the query) either find the labelled slices' masks again or find nothing.
@Suite struct AbsenceCheckTests {
    static let side = ModelSlice.side

    /// A mask of the pixels with x and y in `range`.
    static func square(_ range: Range<Int>) -> [Float] {
        (0..<(side * side)).map { range.contains($0 % side) && range.contains($0 / side) ? 1 : 0 }
    }

    final class ScriptedSegmenter: Segmenter {
        let reverseFindsTheLabels: Bool
        init(reverseFindsTheLabels: Bool) { self.reverseFindsTheLabels = reverseFindsTheLabels }
        var modelDescription: String { "scripted" }

        func probabilities(queries: [ModelSlice], supportSets: [[SupportExample]], progress: (Int) -> Void) throws -> [ModelSlice] {
            let reverse = supportSets.joined().allSatisfy { $0.source == "query" }
            return queries.map { _ in
                if !reverse { return ModelSlice(pixels: AbsenceCheckTests.square(40..<80)) }
                return reverseFindsTheLabels ? ModelSlice(pixels: AbsenceCheckTests.square(40..<80)) : .zero
            }
        }
    }

    static func segment(reverseFindsTheLabels: Bool, check: AbsenceCheck?) throws -> VolumeSegmentation {
        let labelled = ModelMask(pixels: square(40..<80))
        let pool = (0..<6).map { k in
            SupportExample(image: .zero, mask: k < 3 ? labelled : .zero, source: "s", slice: k, position: Double(k) / 6,
                           foreground: k < 3 ? labelled.foreground : 0, pixelSize: 1)
        }
        let request = SupportSelector.Request(strategy: .position, size: 2, ensemble: 1, groups: 2, seed: 0, streamName: [])
        return try VolumeSegmentation(queries: [ModelSlice](repeating: .zero, count: 4), blank: [false, false, true, false],
                                      positions: [0.1, 0.4, 0.6, 0.9], pool: pool, request: request, target: "t",
                                      segmenter: ScriptedSegmenter(reverseFindsTheLabels: reverseFindsTheLabels),
                                      absenceCheck: check)
    }

    @Test func aDrawingThatFindsTheLabelsAgainIsKept() throws {
        let result = try Self.segment(reverseFindsTheLabels: true, check: AbsenceCheck(threshold: 0.5))
        #expect(result.reverseDice == 1 && !result.judgedAbsent)
        #expect(result.probabilities.map { $0.pixels.contains(1) } == [true, true, false, true])   // blank slice 2 stays 0
    }

    @Test func aDrawingThatFindsNothingIsDropped() throws {
        let result = try Self.segment(reverseFindsTheLabels: false, check: AbsenceCheck(threshold: 0.5))
        #expect(result.reverseDice == 0 && result.judgedAbsent)
        #expect(result.probabilities.allSatisfy { $0 == .zero })
        // Without the check the same drawing stays.
        let unchecked = try Self.segment(reverseFindsTheLabels: false, check: nil)
        #expect(unchecked.reverseDice == nil && unchecked.probabilities.filter { $0 != .zero }.count == 3)
    }
}
