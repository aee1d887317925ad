import Foundation
import Testing
@testable import SegPipeline

/// `UniverSegSegmenter` runs a call's slices several at a time (lanes sharing its threads): the probabilities must
/// be bitwise those of one slice at a time, in query order, and progress must end at the number of slices.
@Suite struct SegmenterLanesTests {
    static func slice(_ seed: Int, threshold: Float? = nil) -> ModelSlice {
        let side = ModelSlice.side
        return ModelSlice(pixels: (0 ..< side * side).map { i in
            let y = Float(i / side) / Float(side), x = Float(i % side) / Float(side), s = Float(seed)
            let value = 0.5 + 0.5 * sin(6.3 * (x + 0.37 * s)) * cos(4.1 * (y - 0.21 * s))
            return threshold.map { value > $0 ? 1 : 0 } ?? value
        })
    }

    @Test func slicesRunConcurrentlyGiveTheSameProbabilities() throws {
        let weights = SampleDataEndToEndTests.randomWeights
        let queries = (0 ..< 7).map { Self.slice(100 + $0) }
        let sets = (0 ..< 2).map { set in
            (0 ..< 3).map { e in
                SupportExample(image: Self.slice(10 * set + e), mask: ModelMask(pixels: Self.slice(10 * set + e, threshold: 0.6).pixels), source: "s",
                               slice: e, position: 0.5, foreground: 1, pixelSize: 1)
            }
        }
        var results: [[ModelSlice]] = []
        for threads in [1, 2, 3, 8] {
            let segmenter = try UniverSegSegmenter.load(weights: weights, threads: threads)
            #expect(min(threads, UniverSegSegmenter.maximumLanes, queries.count) == (threads == 8 ? 4 : threads))
            var reported: [Int] = []
            results.append(try segmenter.probabilities(queries: queries, supportSets: sets) { reported.append($0) })
            #expect(reported.last == queries.count, "\(threads) threads: progress \(reported)")
            #expect(reported == reported.sorted(), "\(threads) threads: progress \(reported)")
        }
        for result in results.dropFirst() { #expect(result == results[0]) }
        // In query order: each slice against the ensemble, straight through the model.
        let model = try UniverSegSegmenter.load(weights: weights, threads: 1).model
        let ensemble = try sets.map { set in
            try model.prepareSupport(images: set.map(\.image.pixels), labels: set.map(\.mask.pixels),
                                     size: (ModelSlice.side, ModelSlice.side))
        }
        for (query, got) in zip(queries, results[0]) {
            #expect(got.pixels == (try model.predictProbabilities(query: query.pixels, ensemble: ensemble)))
        }
        // A different query gives a different map (the comparison above is not of constants).
        #expect(results[0][0] != results[0][1])
    }
}
