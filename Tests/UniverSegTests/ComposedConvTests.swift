import Foundation
import Testing
@testable import UniverSeg

/// The first block's composed 5x5 convolutions against the two 3x3 layers they replace, run the plain way, on the
/// geometries where the ring correction has edge cases: one-pixel sides, odd sizes, corners shared by two sides,
/// several images, both biases and LeakyReLU.
@Suite struct ComposedConvTests {
    static func layer(features: Int, channels: Int, seed: Double, bias: Bool) -> PackedConv {
        let weight = WeightTensor(shape: [features, channels, 3, 3],
                                  values: (0 ..< features * channels * 9).map { Float(sin(Double($0) * 0.73 + seed)) * 0.4 })
        return PackedConv(torch: weight, channels: 0 ..< channels,
                          bias: bias ? (0 ..< features).map { Float(cos(Double($0) + seed)) * 0.3 } : nil)
    }

    @Test(arguments: [(1, 1, 1), (1, 7, 2), (5, 3, 1), (2, 2, 3), (9, 16, 2), (24, 40, 1)])
    func composedEqualsTwoLayers(_ shape: (Int, Int, Int)) throws {
        let (height, width, count) = shape
        let channels = 3, middle = 8, features = 12
        for withBias in [false, true] {
            let inner = Self.layer(features: middle, channels: channels, seed: 1, bias: withBias)
            let outer = Self.layer(features: features, channels: middle, seed: 2, bias: withBias)
            let g = Geometry(count: count, height: height, width: width)
            let planar = (0 ..< count * channels * g.pixels).map { Float(cos(Double($0) * 0.31)) }
            // The same input as NHWC for the plain convolutions.
            var nhwc = [Float](repeating: 0, count: planar.count)
            for n in 0 ..< count {
                for c in 0 ..< channels {
                    for p in 0 ..< g.pixels { nhwc[(n * g.pixels + p) * channels + c] = planar[(n * channels + c) * g.pixels + p] }
                }
            }
            let workspace = Workspace()
            var middleMap = [Float](repeating: 0, count: g.rows * middle)
            var expected = [Float](repeating: 0, count: g.rows * features)
            nhwc.withUnsafeBufferPointer { x in
                Conv.conv3x3([ConvInput(x.baseAddress!, channels: channels)], g, inner, into: &middleMap, leaky: false,
                             workspace: workspace, threads: 1)
            }
            middleMap.withUnsafeBufferPointer { h in
                Conv.conv3x3([ConvInput(h.baseAddress!, channels: middle)], g, outer, into: &expected, leaky: true,
                             workspace: workspace, threads: 1)
            }
            let composed = ComposedConv(inner: inner, outer: outer)
            for threads in [1, 2] {
                var got = [Float](repeating: .nan, count: g.rows * features)
                planar.withUnsafeBufferPointer { x in
                    composed.apply(planar: x.baseAddress!, g, into: &got, leaky: true, workspace: workspace, threads: threads)
                }
                let error = maxAbsDifference(got, expected)
                #expect(error < 1e-5, "\(height)x\(width)x\(count), bias \(withBias), \(threads) threads: max error \(error)")
            }
        }
    }

    /// A support set prepared for one query (no first-block cache) gives bitwise the logits of a cached one.
    @Test func uncachedFirstBlockGivesTheSameLogits() throws {
        let c = try #require(ParityTests.cases.first { $0.name == "nf64_32_s3" })
        let set = c.sets[0], pixels = c.height * c.width
        let model = try Fixtures.model("nf64_f16.safetensors")
        let images = try Fixtures.images(set.images, count: 3, pixels: pixels)
        let labels = try Fixtures.images(set.labels, count: 3, pixels: pixels)
        let query = try Fixtures.floats(c.query)
        let cached = try model.prepareSupport(images: images, labels: labels, size: (c.height, c.width), threads: 2)
        let uncached = try model.prepareSupport(images: images, labels: labels, size: (c.height, c.width), threads: 2,
                                                cacheFirstBlock: false)
        #expect(uncached.byteCount < cached.byteCount / 10)
        let a = try model.predictLogits(query: query, support: cached, threads: 2)
        let b = try model.predictLogits(query: query, support: uncached, threads: 2)
        #expect(a == b)
        #expect(maxAbsDifference(b, try Fixtures.floats(set.logits)) <= (try Fixtures.manifest().tolerance))
    }
}
