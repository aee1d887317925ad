import Foundation
import Testing
@testable import UniverSeg

/// The engine against float64 PyTorch reference logits (Tools/reference/make_fixtures.py). Tolerance: max absolute
/// logit difference 1e-4 (the manifest's `tolerance`).
@Suite struct ParityTests {
    static let cases = (try? Fixtures.manifest().cases) ?? []

    @Test func manifestHasCases() throws {
        #expect(try Fixtures.manifest().cases.count >= 8)
    }

    @Test(arguments: cases, ConvolutionAlgorithm.allCases)
    func logitsMatchReference(_ c: Fixtures.Case, _ algorithm: ConvolutionAlgorithm) throws {
        let tolerance = try Fixtures.manifest().tolerance
        let model = try UniverSegModel(contentsOf: Fixtures.url(c.weights), convolution: algorithm)
        let pixels = c.height * c.width
        let query = try Fixtures.floats(c.query)
        var supports: [PreparedSupport] = []
        for set in c.sets {
            let support = try model.prepareSupport(
                images: Fixtures.images(set.images, count: set.support, pixels: pixels),
                labels: Fixtures.images(set.labels, count: set.support, pixels: pixels),
                size: (c.height, c.width))
            let logits = try model.predictLogits(query: query, support: support, threads: 2)
            let expected = try Fixtures.floats(set.logits)
            let error = maxAbsDifference(logits, expected)
            #expect(error <= tolerance, "\(c.name), \(algorithm): max |logit - reference| = \(error)")
            supports.append(support)
        }
        if let probability = c.probability {
            let p = try model.predictProbabilities(query: query, ensemble: supports, threads: 2)
            let error = maxAbsDifference(p, try Fixtures.floats(probability))
            #expect(error <= 1e-5, "\(c.name): max |probability - reference| = \(error)")
        }
    }

    /// The references are not trivial (a broken engine returning a constant would not pass).
    @Test func referenceLogitsVary() throws {
        let logits = try Fixtures.floats("w16_64_s3.set0.logits.f32")
        #expect((logits.max()! - logits.min()!) > 0.2)
    }

    @Test func emptyLabelIsAllowedButWarned() throws {
        let model = try Fixtures.model("w16.safetensors")
        let c = try #require(Self.cases.first { $0.name == "w16_48x64_empty" })
        let set = c.sets[0], pixels = c.height * c.width
        let support = try model.prepareSupport(images: Fixtures.images(set.images, count: 2, pixels: pixels),
                                               labels: Fixtures.images(set.labels, count: 2, pixels: pixels),
                                               size: (c.height, c.width))
        #expect(support.warnings.count == 1)
        #expect(support.warnings.first?.contains("support label 1 is empty") == true)
    }

    /// Same inputs give bitwise the same outputs, for any thread count and on repeated calls (buffers are reused).
    @Test func deterministicAcrossThreadsAndCalls() throws {
        let model = try Fixtures.model("nf64_f16.safetensors")
        let c = try #require(Self.cases.first { $0.name == "nf64_32_s3" })
        let set = c.sets[0], pixels = c.height * c.width
        let support = try model.prepareSupport(images: Fixtures.images(set.images, count: 3, pixels: pixels),
                                               labels: Fixtures.images(set.labels, count: 3, pixels: pixels),
                                               size: (c.height, c.width), threads: 2)
        let query = try Fixtures.floats(c.query)
        let one = try model.predictLogits(query: query, support: support, threads: 1)
        let two = try model.predictLogits(query: query, support: support, threads: 2)
        let again = try model.predictLogits(query: query, support: support, threads: 3)
        #expect(one == two)
        #expect(one == again)
    }

    /// A prepared support set (which caches the first block's support-side term) serves a whole study: a different
    /// query in between changes nothing, and each query gets what a freshly prepared set gives it.
    @Test func preparedSupportIsReusedAcrossQueries() throws {
        let c = try #require(Self.cases.first { $0.name == "nf64_32_s3" })
        let set = c.sets[0], pixels = c.height * c.width
        func prepared(_ model: UniverSegModel) throws -> PreparedSupport {
            try model.prepareSupport(images: Fixtures.images(set.images, count: 3, pixels: pixels),
                                     labels: Fixtures.images(set.labels, count: 3, pixels: pixels),
                                     size: (c.height, c.width), threads: 2)
        }
        let model = try Fixtures.model("nf64_f16.safetensors")
        let support = try prepared(model)
        let query = try Fixtures.floats(c.query)
        let other = Array(query.reversed())
        let first = try model.predictLogits(query: query, support: support, threads: 2)
        let between = try model.predictLogits(query: other, support: support, threads: 2)
        let again = try model.predictLogits(query: query, support: support, threads: 2)
        #expect(first == again)
        #expect(maxAbsDifference(first, between) > 1e-3, "the second query must be a different problem")
        let fresh = try Fixtures.model("nf64_f16.safetensors")
        #expect(between == (try fresh.predictLogits(query: other, support: prepared(fresh), threads: 2)))
        #expect(maxAbsDifference(first, try Fixtures.floats(set.logits)) <= (try Fixtures.manifest().tolerance))
    }

    /// Concurrent callers on one model each get their own scratch and the same answers.
    @Test func concurrentCallsAgree() async throws {
        let model = try Fixtures.model("w16.pt")
        let c = try #require(Self.cases.first { $0.name == "w16_32_s3" })
        let set = c.sets[0], pixels = c.height * c.width
        let support = try model.prepareSupport(images: Fixtures.images(set.images, count: 3, pixels: pixels),
                                               labels: Fixtures.images(set.labels, count: 3, pixels: pixels),
                                               size: (c.height, c.width))
        let query = try Fixtures.floats(c.query)
        let expected = try model.predictLogits(query: query, support: support)
        try await withThrowingTaskGroup(of: [Float].self) { group in
            for _ in 0 ..< 4 { group.addTask { try model.predictLogits(query: query, support: support) } }
            for try await result in group { #expect(result == expected) }
        }
    }
}

@Suite struct WinogradKernelTests {
    /// The hand-written transforms equal the textbook Bᵀ and Aᵀ matrices (applied to unit vectors).
    @Test(arguments: [(WinogradTransform.f2x2, 0), (WinogradTransform.f4x4, 1)])
    func kernelsMatchMatrices(_ transform: WinogradTransform, _ which: Int) {
        let kernel: any TileKernel.Type = which == 0 ? F2x2.self : F4x4.self
        let alpha = transform.alpha, m = transform.m
        for k in 0 ..< alpha {
            var v = [SIMD4<Float>](repeating: .zero, count: alpha)
            v[k] = SIMD4(repeating: 1)
            var input = v, output = v
            input.withUnsafeMutableBufferPointer { kernel.input($0.baseAddress!, 1) }
            output.withUnsafeMutableBufferPointer { kernel.output($0.baseAddress!, 1) }
            for i in 0 ..< alpha { #expect(input[i][0] == transform.bt[i * alpha + k], "Bᵀ[\(i)][\(k)]") }
            for i in 0 ..< m { #expect(output[i][0] == transform.at[i * alpha + k], "Aᵀ[\(i)][\(k)]") }
        }
    }

    /// The AVX-512 F(4x4) transforms (C) give the Swift kernels' results bitwise: two concatenated inputs whose
    /// channel counts are not multiples of 16, images whose edges cut tiles, a block starting mid-image, with and
    /// without bias, addend and activation.
    @Test(arguments: [false, true])
    func avx512TransformsEqualSwift(_ withTerms: Bool) throws {
        try #require(WinogradAVX512.isSupported, "this CPU has no AVX-512F: only the Swift transforms run here")
        let g = Geometry(count: 2, height: 7, width: 10), channels = [20, 36], total = 56, features = 36
        let tilesY = 2, tilesX = 3, tiles = 3 ..< 2 * tilesY * tilesX, a2 = 36
        var random = SystemRandomNumberGenerator()
        func values(_ count: Int) -> [Float] { (0 ..< count).map { _ in Float.random(in: -3 ... 3, using: &random) } }
        let data = channels.map { values(g.rows * $0) }
        let stride = tiles.count * total + 16, mStride = tiles.count * features + 16
        let mm = values(a2 * mStride), bias = withTerms ? values(features) : nil
        let addend = values(g.pixels * features)
        func run(avx512: Bool) -> (v: [Float], y: [Float]) {
            var v = [Float](repeating: -7, count: a2 * stride), y = [Float](repeating: -7, count: g.rows * features)
            var mm = mm, addend = addend
            data[0].withUnsafeBufferPointer { d0 in
                data[1].withUnsafeBufferPointer { d1 in
                    let inputs = [ConvInput(d0.baseAddress!, channels: 20), ConvInput(d1.baseAddress!, channels: 36)]
                    Winograd.inputTransform(inputs, g, tiles: tiles, tilesY: tilesY, tilesX: tilesX, channels: total,
                                            transform: .f4x4, into: &v, stride: stride, avx512: avx512)
                }
            }
            addend.withUnsafeMutableBufferPointer { addend in
                Winograd.outputTransform(&mm, stride: mStride, g, tiles: tiles, tilesY: tilesY, tilesX: tilesX,
                                         features: features, transform: .f4x4, into: &y, bias: bias,
                                         addend: withTerms ? addend.baseAddress! : nil, leaky: withTerms, avx512: avx512)
            }
            return (v, y)
        }
        let swift = run(avx512: false), c = run(avx512: true)
        func differing(_ a: [Float], _ b: [Float]) -> [Int] { a.indices.filter { a[$0].bitPattern != b[$0].bitPattern } }
        let v = differing(swift.v, c.v), y = differing(swift.y, c.y)
        #expect(v.isEmpty, "V: \(v.count) values differ, first at \(v.first ?? 0)")
        #expect(y.isEmpty, "Y: \(y.count) values differ, first at \(y.first ?? 0)")
        #expect(swift.y.contains { $0 != -7 } && swift.y.contains { $0 == -7 })  // tiles 0..<3 are not written
    }
}
