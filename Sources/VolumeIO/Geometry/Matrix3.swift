/// Small 3x3 helpers (row-major `[Double]` of 9) for the geometry code. Internal: the public face is `Affine`.
enum Matrix3 {
    static func transpose(_ m: [Double]) -> [Double] { (0..<9).map { m[($0 % 3) * 3 + $0 / 3] } }

    static func determinant(_ m: [Double]) -> Double {
        m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
    }

    static func inverse(_ m: [Double]) -> [Double]? {
        let det = determinant(m)
        guard det.isFinite, abs(det) > 1e-300 else { return nil }
        return [
            (m[4] * m[8] - m[5] * m[7]) / det, (m[2] * m[7] - m[1] * m[8]) / det, (m[1] * m[5] - m[2] * m[4]) / det,
            (m[5] * m[6] - m[3] * m[8]) / det, (m[0] * m[8] - m[2] * m[6]) / det, (m[2] * m[3] - m[0] * m[5]) / det,
            (m[3] * m[7] - m[4] * m[6]) / det, (m[1] * m[6] - m[0] * m[7]) / det, (m[0] * m[4] - m[1] * m[3]) / det,
        ]
    }

    /// The orthogonal factor Q of the polar decomposition M = Q·S, i.e. U·Vᵀ of the SVD: the rotation (or
    /// rotation-reflection) closest to M. Newton's iteration Q ← (Q + Q⁻ᵀ)/2 converges quadratically for
    /// non-singular M. Returns nil for a singular M.
    static func orthogonalPolarFactor(_ m: [Double]) -> [Double]? {
        var q = m
        for _ in 0..<100 {
            guard let inv = inverse(q) else { return nil }
            let invT = transpose(inv)
            let next = (0..<9).map { 0.5 * (q[$0] + invT[$0]) }
            let change = zip(next, q).reduce(0) { max($0, abs($1.0 - $1.1)) }
            q = next
            if change < 1e-15 { break }
        }
        return q
    }
}
