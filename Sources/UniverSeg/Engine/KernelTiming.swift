import Dispatch

/// Single-thread GEMM throughput of the engine's two kernels on one shape, for `universeg-bench --gemm` (the
/// measurement behind `BF16Rule`).
public enum KernelTiming {
    /// GFLOP/s (2mnk per call) of C (m x n) = A (m x k) x B (k x n), best of `rounds` rounds of about `seconds` each;
    /// nil for `.bf16` on a CPU without AVX512-BF16.
    public static func gemmGFLOPS(m: Int, n: Int, k: Int, precision requested: Precision, rounds: Int = 5, seconds: Double = 0.1) -> Double? {
        let precision = requested.resolved(bf16Supported: BF16.isSupported)
        if requested == .bf16 && precision != .bf16 { return nil }
        BLAS.useCallingThreadOnly()
        let a = (0 ..< m * k).map { Float(($0 * 7919) % 1000) / 1000 - 0.5 }
        let b = (0 ..< k * n).map { Float(($0 * 104_729) % 1000) / 1000 - 0.5 }
        var c = [Float](repeating: 0, count: m * n)
        var scratch = [Float](repeating: 0, count: BF16.scratchFloats(k: k))
        let packed = b.withUnsafeBufferPointer { BF16Matrix($0.baseAddress!, k: k, n: n) }
        let flops = 2 * Double(m * n * k)
        let calls = max(1, Int(seconds * 50e9 / flops))
        var best = Double.infinity
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                packed.values.withUnsafeBufferPointer { p in
                    c.withUnsafeMutableBufferPointer { c in
                        scratch.withUnsafeMutableBufferPointer { s in
                            for _ in 0 ..< rounds {
                                let start = DispatchTime.now().uptimeNanoseconds
                                for _ in 0 ..< calls {
                                    switch precision {
                                    case .fp32, .auto: BLAS.sgemm(m: m, n: n, k: k, a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!)
                                    case .bf16: BF16.gemm(m: m, a: a.baseAddress!, b: p.baseAddress!, k: k, n: n, c: c.baseAddress!,
                                                          scratch: s.baseAddress!)
                                    }
                                }
                                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                            }
                        }
                    }
                }
            }
        }
        return flops * Double(calls) / best / 1e9
    }
}
