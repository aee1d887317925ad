/// Small 3x3 helpers (row-major `[Double]` of 9) for the geometry code. Internal: the public face is `Affine`.
/// The one determinant and inverse of the geometry code (`Affine` uses them for its linear part).
enum Matrix3 {
    /// A matrix counts as singular when |det| <= singularityTolerance * |c0| * |c1| * |c2| (the column norms). By
    /// Hadamard's inequality that ratio lies in [0, 1], 1 for orthogonal columns and 0 for dependent ones, whatever
    /// the scale: one tolerance serves affines in mm (voxels of 0.01 mm or of 10 mm) and unit direction matrices
    /// alike. Below 1e-12 the columns are so nearly dependent that an inverse would keep fewer than about 4 of
    /// float64's 16 significant digits.
    static let singularityTolerance = 1e-12
    /// `orthogonalPolarFactor` stops when no entry moved by more than this: a few float64 ulps of a unit entry,
    /// where Newton's quadratic convergence has nothing left to gain.
    static let polarConvergence = 1e-15

    static func transpose(_ m: [Double]) -> [Double] { (0..<9).map { m[($0 % 3) * 3 + $0 / 3] } }

    static func determinant(_ m: [Double]) -> Double {
        m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
    }

    /// The product of the column norms, which bounds |det| (Hadamard).
    static func columnNormProduct(_ m: [Double]) -> Double {
        var product = 1.0
        for c in 0..<3 {
            let squared: Double = m[c] * m[c] + m[3 + c] * m[3 + c] + m[6 + c] * m[6 + c]
            product *= squared.squareRoot()
        }
        return product
    }

    /// The inverse, or nil when `m` is singular (see `singularityTolerance`) or not finite.
    static func inverse(_ m: [Double]) -> [Double]? {
        let det = determinant(m)
        guard det.isFinite, abs(det) > singularityTolerance * columnNormProduct(m) else { return nil }
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
            if change < polarConvergence { break }
        }
        return q
    }
}
