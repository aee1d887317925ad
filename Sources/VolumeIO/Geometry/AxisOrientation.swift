/// Which world axis each voxel axis runs along, and in which direction: nibabel's `io_orientation`.
///
/// World axes are RAS+: 0 = x (toward R), 1 = y (toward A), 2 = z (toward S). For an oblique affine each voxel axis
/// is matched to the closest world axis: the affine's linear part with unit columns is replaced by the nearest
/// orthogonal matrix (polar factor), then voxel axes 0, 1, 2 in turn take the world axis with the largest
/// |component| among those not yet taken. This is nibabel's algorithm, so letters agree with `aff2axcodes`.
public struct AxisOrientation: Equatable, Sendable {
    /// `worldAxis[i]`: the world axis voxel axis `i` runs along (a permutation of 0, 1, 2).
    public var worldAxis: [Int]
    /// `positive[i]`: true when increasing voxel index `i` moves toward R, A or S.
    public var positive: [Bool]

    public init(worldAxis: [Int], positive: [Bool]) {
        precondition(worldAxis.sorted() == [0, 1, 2] && positive.count == 3, "a permutation of 0, 1, 2 and 3 signs")
        self.worldAxis = worldAxis
        self.positive = positive
    }

    /// The orientation of `affine`'s voxel axes. Requires an invertible affine.
    public init(_ affine: Affine) {
        var unit = [Double](repeating: 0, count: 9)
        for c in 0..<3 {
            let col = affine.column(c)
            var norm = col.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm == 0 { norm = 1 }
            for r in 0..<3 { unit[r * 3 + c] = col[r] / norm }
        }
        var r = Matrix3.orthogonalPolarFactor(unit) ?? unit
        var axes = [Int](), signs = [Bool]()
        for voxelAxis in 0..<3 {
            var best = 0
            for w in 1..<3 where abs(r[w * 3 + voxelAxis]) > abs(r[best * 3 + voxelAxis]) { best = w }
            axes.append(best)
            signs.append(r[best * 3 + voxelAxis] >= 0)
            for c in 0..<3 { r[best * 3 + c] = 0 }   // take world axis `best` out of the running
        }
        if axes.sorted() != [0, 1, 2] { axes = [0, 1, 2]; signs = [true, true, true] }  // only for singular input
        self.init(worldAxis: axes, positive: signs)
    }

    /// Letters of the positive end of each voxel axis, e.g. "LAS".
    public var letters: String {
        let positiveLetters: [Character] = ["R", "A", "S"], negativeLetters: [Character] = ["L", "P", "I"]
        return String((0..<3).map { positive[$0] ? positiveLetters[worldAxis[$0]] : negativeLetters[worldAxis[$0]] })
    }

    /// The voxel axis that runs along world axis `w`.
    public func voxelAxis(alongWorldAxis w: Int) -> Int { worldAxis.firstIndex(of: w)! }

    public static let ras = AxisOrientation(worldAxis: [0, 1, 2], positive: [true, true, true])
}
