internal import CKernels

/// A GEMM right-hand operand (k x n) rounded to bf16 and packed once for `BF16.gemm` (pairs of rows interleaved,
/// columns padded to 16).
struct BF16Matrix: Sendable {
    let k: Int
    let n: Int
    let values: [UInt16]

    /// Packs `count` consecutive k x n row-major matrices (e.g. the alpha² Winograd matrices) one after another;
    /// matrix i starts at `i * stride`.
    init(_ source: UnsafePointer<Float>, k: Int, n: Int, count: Int = 1) {
        self.k = k
        self.n = n
        let size = Int(ucb_bf16_packed_count(Int32(k), Int32(n)))
        var values = [UInt16](repeating: 0, count: size * count)
        values.withUnsafeMutableBufferPointer { packed in
            for i in 0 ..< count {
                ucb_bf16_pack_b(source + i * k * n, Int32(k), Int32(n), packed.baseAddress! + i * size)
            }
        }
        self.values = values
    }

    /// Distance in `values` between consecutive packed matrices.
    var stride: Int { Int(ucb_bf16_packed_count(Int32(k), Int32(n))) }
}

/// The only file that calls the bf16 kernel (Sources/CKernels).
enum BF16 {
    /// Whether this CPU runs the kernel (AVX512-BF16 on x86-64), detected once at run time.
    static let isSupported: Bool = ucb_bf16_supported() != 0

    /// Floats of workspace scratch one `gemm` call needs for depth `k`.
    static func scratchFloats(k: Int) -> Int { (Int(ucb_bf16_scratch_count(Int32(k))) + 1) / 2 }

    /// C (m x n) = bf16(A) (m x k, row-major, lda = k) x B (packed, starting at `offset` in `b.values`), summed in
    /// fp32; `scratch` holds `scratchFloats(k:)` floats used by this call only. Requires `isSupported`.
    /// The corresponding C function is `ucb_bf16_gemm`.
    static func gemm(m: Int, a: UnsafePointer<Float>, b: UnsafePointer<UInt16>, k: Int, n: Int,
                     c: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let halves = UnsafeMutableRawPointer(scratch).assumingMemoryBound(to: UInt16.self)
        ucb_bf16_gemm(Int32(m), Int32(n), Int32(k), a, b, c, halves)
    }
}
