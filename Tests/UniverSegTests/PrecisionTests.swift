import Foundation
import Testing
@testable import UniverSeg

/// Every precision path against the float64 reference fixtures (the ones `ParityTests` uses for fp32), plus the bf16
/// kernel itself. bf16 tests are skipped only on CPUs without AVX512-BF16 (the kernel cannot run there).
@Suite struct PrecisionTests {
    static let cases = ParityTests.cases
    /// Max |logit - float64 reference| allowed for bf16. Measured on these fixtures (docs/engine.md): 3.6e-3 to 2.1e-2
    /// with winograd4x4, 2.4e-3 to 6.4e-3 with winograd2x2 and direct; logits span about ±0.4 to ±2.
    static let bf16Tolerance: Float = 2.5e-2

    static func logits(_ model: UniverSegModel, _ c: Fixtures.Case) throws -> [(got: [Float], expected: [Float])] {
        let pixels = c.height * c.width
        let query = try Fixtures.floats(c.query)
        return try c.sets.map { set in
            let support = try model.prepareSupport(
                images: Fixtures.images(set.images, count: set.support, pixels: pixels),
                labels: Fixtures.images(set.labels, count: set.support, pixels: pixels),
                size: (c.height, c.width))
            return (try model.predictLogits(query: query, support: support, threads: 2), try Fixtures.floats(set.logits))
        }
    }

    @Test(.enabled(if: BF16.isSupported, "this CPU has no AVX512-BF16: the bf16 path cannot run here"),
          arguments: cases, ConvolutionAlgorithm.allCases)
    func bf16LogitsMatchReference(_ c: Fixtures.Case, _ algorithm: ConvolutionAlgorithm) throws {
        let model = try UniverSegModel(contentsOf: Fixtures.url(c.weights), convolution: algorithm, precision: .bf16)
        #expect(model.precision == .bf16)
        for (got, expected) in try Self.logits(model, c) {
            let error = maxAbsDifference(got, expected)
            #expect(error <= Self.bf16Tolerance, "\(c.name), \(algorithm), bf16: max |logit - reference| = \(error)")
            // bf16 is not fp32 in disguise: the bf16 GEMMs must have run (a 1e-6 match would mean they did not).
            #expect(error > 1e-5, "\(c.name), \(algorithm), bf16: error \(error) is fp32's: did bf16 run?")
        }
    }

    /// bf16 asked for on a CPU without AVX512-BF16 (forced here) runs fp32: bitwise the fp32 model's logits.
    @Test(arguments: ConvolutionAlgorithm.allCases)
    func bf16FallsBackToFP32(_ algorithm: ConvolutionAlgorithm) throws {
        let tolerance = try Fixtures.manifest().tolerance
        for c in Self.cases where ["w16_64_s3", "mixed_24x40_s2", "nf64_32_s3"].contains(c.name) {
            let url = Fixtures.url(c.weights)
            let fallback = try UniverSegModel(contentsOf: url, convolution: algorithm, precision: .bf16, bf16Supported: false)
            #expect(fallback.precision == .fp32)
            let fp32 = try UniverSegModel(contentsOf: url, convolution: algorithm, precision: .fp32)
            let a = try Self.logits(fallback, c), b = try Self.logits(fp32, c)
            for (x, y) in zip(a, b) {
                #expect(x.got == y.got)
                #expect(maxAbsDifference(x.got, x.expected) <= tolerance)
            }
        }
    }

    /// The kernel against a double-precision product of the bf16-rounded operands, on shapes with every edge: K odd,
    /// M not a multiple of 6, N not a multiple of 16 or 64, N above 64.
    @Test(.enabled(if: BF16.isSupported, "this CPU has no AVX512-BF16: the bf16 kernel cannot run here"),
          arguments: [(1, 1, 1), (7, 17, 3), (13, 70, 33), (20, 64, 64), (5, 48, 129), (6, 130, 2), (7, 16, 1152)])
    func kernelMatchesBF16Product(_ shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let a = (0 ..< m * k).map { Float(sin(Double($0) * 0.37)) }
        let b = (0 ..< k * n).map { Float(cos(Double($0) * 0.11)) }
        let packed = b.withUnsafeBufferPointer { BF16Matrix($0.baseAddress!, k: k, n: n) }
        var c = [Float](repeating: .nan, count: m * n)
        var scratch = [Float](repeating: 0, count: BF16.scratchFloats(k: k))
        a.withUnsafeBufferPointer { a in
            packed.values.withUnsafeBufferPointer { p in
                BF16.gemm(m: m, a: a.baseAddress!, b: p.baseAddress!, k: k, n: n, c: &c, scratch: &scratch)
            }
        }
        var worst = 0.0
        for i in 0 ..< m {
            for j in 0 ..< n {
                var sum = 0.0
                for q in 0 ..< k { sum += Double(Self.bf16(a[i * k + q])) * Double(Self.bf16(b[q * n + j])) }
                worst = max(worst, abs(sum - Double(c[i * n + j])) / max(1, abs(sum)))
            }
        }
        // fp32 accumulation of up to 1152 exact bf16 products: ~k x 2^-24 relative; far below bf16's own 2^-9.
        #expect(worst < 1e-5, "\(m)x\(n)x\(k): worst relative error \(worst)")
    }

    /// Round to nearest even to bf16, as float.
    static func bf16(_ x: Float) -> Float {
        let bits = x.bitPattern
        return Float(bitPattern: (bits &+ 0x7fff &+ ((bits >> 16) & 1)) & 0xffff_0000)
    }
}
