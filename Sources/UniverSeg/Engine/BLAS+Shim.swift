internal import COpenBLAS

/// The only file that calls OpenBLAS.
enum BLAS {
    /// C (m x n) = A (m x k) * B (k x n), all row-major and densely packed (lda = k, ldb = ldc = n).
    /// The corresponding C function is `cblas_sgemm`.
    static func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
        sgemm(m: m, n: n, k: k, a: a, lda: k, b: b, c: c, ldc: n)
    }

    /// C (m x n) = alpha * op(A) * B (k x n) + beta * C, row-major with explicit leading dimensions. op(A) is A
    /// (m x k) or, with `transposedA`, the transpose of A stored k x m. The corresponding C function is `cblas_sgemm`.
    static func sgemm(m: Int, n: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, transposedA: Bool = false,
                      b: UnsafePointer<Float>, beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposedA ? CblasTrans : CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(n), beta, c, Int32(ldc))
    }

    /// The engine parallelises over GEMM tiles itself, so every OpenBLAS call must run on the calling thread only,
    /// and OpenBLAS's own worker pool is stopped (its idle workers spin: about 70 ms of CPU per process, measured).
    /// Done once per process, whichever thread asks first (Swift runs a static initialiser exactly once).
    /// The corresponding C functions are `openblas_set_num_threads` and `blas_thread_shutdown_`.
    static func useCallingThreadOnly() { _ = callingThreadOnly }

    private static let callingThreadOnly: Void = {
        openblas_set_num_threads(1)
        ucb_openblas_stop_thread_pool()
    }()

    /// The kernel family OpenBLAS chose for this CPU (e.g. "Cooperlake"). The corresponding C function is
    /// `openblas_get_corename`.
    static var coreName: String { String(cString: openblas_get_corename()) }
}
