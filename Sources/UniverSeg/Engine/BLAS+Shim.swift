internal import COpenBLAS

/// The only file that calls OpenBLAS.
enum BLAS {
    /// C (m x n) = A (m x k) * B (k x n), all row-major and densely packed (lda = k, ldb = ldc = n).
    /// The corresponding C function is `cblas_sgemm`.
    static func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    1, a, Int32(k), b, Int32(n), 0, c, Int32(n))
    }

    /// The engine parallelises over GEMM tiles itself, so every OpenBLAS call must run on the calling thread only.
    /// The corresponding C function is `openblas_set_num_threads`; idempotent.
    static func useCallingThreadOnly() {
        if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
    }

    /// The kernel family OpenBLAS chose for this CPU (e.g. "Cooperlake"). The corresponding C function is
    /// `openblas_get_corename`.
    static var coreName: String { String(cString: openblas_get_corename()) }
}
