/// The spatial fields of a MetaImage header as the file states them, in ITK's LPS world: `ElementSpacing`, `Offset`
/// and `TransformMatrix`, whose consecutive triplets are the directions of voxel axes i, j, k (the columns of ITK's
/// direction matrix, as SimpleITK reads them).
public struct MetaImageSpatialHeader: Sendable, Equatable {
    public var spacing: [Double]
    public var offset: [Double]
    /// 9 values: axis i's direction, then j's, then k's (LPS).
    public var transformMatrix: [Double]

    public init(spacing: [Double], offset: [Double], transformMatrix: [Double]) {
        precondition(spacing.count == 3 && offset.count == 3 && transformMatrix.count == 9)
        self.spacing = spacing
        self.offset = offset
        self.transformMatrix = transformMatrix
    }

    /// Voxel indices to RAS+ mm: LPS = Offset + Direction * diag(ElementSpacing) * index, then x and y negated.
    public var affine: Affine {
        let flip = [-1.0, -1, 1]
        let linear = (0..<3).flatMap { row in (0..<3).map { axis in flip[row] * transformMatrix[axis * 3 + row] * spacing[axis] } }
        return Affine(linear: linear, translation: (0..<3).map { flip[$0] * offset[$0] })
    }

    /// The header that states `affine`: spacing from the column norms, unit directions, LPS.
    /// See also: `affine` (equal up to rounding of the division by the spacing).
    public init(affine: Affine) {
        let flip = [-1.0, -1, 1]
        let spacing = affine.spacing
        self.init(spacing: spacing, offset: (0..<3).map { flip[$0] * affine[$0, 3] },
                  transformMatrix: (0..<3).flatMap { axis in (0..<3).map { row in flip[row] * affine[row, axis] / spacing[axis] } })
    }
}
