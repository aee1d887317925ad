import Foundation

/// A 4x4 homogeneous transform, row-major, mapping voxel indices (i, j, k) to world millimetres.
///
/// World frame: **RAS+** millimetres, as in NIfTI and nibabel: +x toward the patient's Right, +y Anterior, +z Superior.
/// DICOM's LPS+ is converted at the DICOM edge only. Indices address voxel centres, zero-based, i fastest in memory.
///
///     let a = Affine(rows: [[2, 0, 0, 10], [0, 2, 0, 20], [0, 0, 3, 30], [0, 0, 0, 1]])
///     a.apply([1, 1, 1])   // [12, 22, 33]
public struct Affine: Equatable, Sendable, CustomStringConvertible {
    /// 16 values, row-major; the last row is always 0 0 0 1.
    public private(set) var values: [Double]

    public init(rows: [[Double]]) {
        precondition(rows.count == 4 && rows.allSatisfy { $0.count == 4 }, "an affine has 4 rows of 4 values")
        values = rows.flatMap { $0 }
    }

    /// Builds an affine from a 3x3 linear part (row-major) and a translation.
    public init(linear: [Double], translation: [Double]) {
        precondition(linear.count == 9 && translation.count == 3)
        values = [linear[0], linear[1], linear[2], translation[0],
                  linear[3], linear[4], linear[5], translation[1],
                  linear[6], linear[7], linear[8], translation[2],
                  0, 0, 0, 1]
    }

    public static let identity = Affine(rows: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])

    public subscript(row: Int, column: Int) -> Double {
        get { values[row * 4 + column] }
        set { values[row * 4 + column] = newValue }
    }

    /// Column `axis` of the linear part: the world step for one voxel along that index axis.
    public func column(_ axis: Int) -> [Double] { (0..<3).map { self[$0, axis] } }

    public var translation: [Double] { (0..<3).map { self[$0, 3] } }

    /// Voxel size along each index axis (norms of the linear part's columns).
    public var spacing: [Double] {
        (0..<3).map { axis in column(axis).reduce(0) { $0 + $1 * $1 }.squareRoot() }
    }

    /// Maps a point in index space to world space.
    public func apply(_ p: [Double]) -> [Double] {
        (0..<3).map { r in self[r, 0] * p[0] + self[r, 1] * p[1] + self[r, 2] * p[2] + self[r, 3] }
    }

    public static func * (a: Affine, b: Affine) -> Affine {
        var out = Affine.identity
        for r in 0..<4 { for c in 0..<4 { out[r, c] = (0..<4).reduce(0) { $0 + a[r, $1] * b[$1, c] } } }
        return out
    }

    /// The 3x3 linear part, row-major.
    var linear: [Double] { (0..<3).flatMap { r in (0..<3).map { self[r, $0] } } }

    /// Determinant of the linear part.
    public var determinant: Double { Matrix3.determinant(linear) }

    /// The inverse transform (world to index), or nil when the linear part is singular (its columns, the voxel
    /// steps, are nearly dependent; see `Matrix3.singularityTolerance`).
    /// See also: `apply(_:)`; `inverse!.apply(apply(p)) ≈ p`.
    public var inverse: Affine? {
        guard let inv = Matrix3.inverse(linear) else { return nil }
        let t = translation
        let invT = (0..<3).map { r in -(inv[r * 3] * t[0] + inv[r * 3 + 1] * t[1] + inv[r * 3 + 2] * t[2]) }
        return Affine(linear: inv, translation: invT)
    }

    /// Orientation letters of the positive end of each index axis in RAS+ world, e.g. "LAS" (nibabel's aff2axcodes,
    /// including its handling of oblique affines; see `AxisOrientation`).
    public var orientation: String { AxisOrientation(self).letters }

    /// Converts between RAS+ and LPS+ worlds (the same flip both ways): DICOM is LPS, NIfTI and this code are RAS.
    public var flippingLPSAndRAS: Affine {
        Affine(rows: [[-1, 0, 0, 0], [0, -1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]) * self
    }

    public var description: String {
        (0..<4).map { r in (0..<4).map { String(format: "%.6g", self[r, $0]) }.joined(separator: " ") }.joined(separator: "\n")
    }
}
