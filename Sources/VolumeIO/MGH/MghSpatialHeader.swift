/// The spatial fields of a FreeSurfer MGH header as stored (big-endian float32): voxel sizes, the direction cosines
/// of each voxel axis (`Mdc`, x_ras then y_ras then z_ras) and the RAS position of the volume centre (`c_ras`).
public struct MghSpatialHeader: Sendable, Equatable {
    /// `delta`: voxel sizes along i, j, k.
    public var spacing: [Float]
    /// 9 values: the RAS direction of axis i, then j, then k.
    public var directions: [Float]
    /// `c_ras` (nibabel's Pxyz_c): RAS mm of voxel index shape / 2.
    public var centre: [Float]
    /// The grid the centre refers to.
    public var shape: [Int]

    public init(spacing: [Float], directions: [Float], centre: [Float], shape: [Int]) {
        precondition(spacing.count == 3 && directions.count == 9 && centre.count == 3 && shape.count == 3)
        self.spacing = spacing
        self.directions = directions
        self.centre = centre
        self.shape = shape
    }

    /// The header FreeSurfer's mghRead assumes when `goodRASFlag` <= 0 (setDirectionCosine MRI_CORONAL): 1 mm voxels,
    /// LIA axes (x_ras (-1,0,0), y_ras (0,0,-1), z_ras (0,1,0)), centred on the origin.
    static func unknown(shape: [Int]) -> MghSpatialHeader {
        MghSpatialHeader(spacing: [1, 1, 1], directions: [-1, 0, 0, 0, 0, -1, 0, 1, 0], centre: [0, 0, 0], shape: shape)
    }

    /// FreeSurfer's vox2ras: M = Mdc * diag(delta), P0 = c_ras - M * (shape / 2), in doubles from the stored floats.
    public var affine: Affine {
        let m = (0..<3).flatMap { row in (0..<3).map { axis in Double(directions[axis * 3 + row]) * Double(spacing[axis]) } }
        let half = shape.map { Double($0) / 2 }
        let p0 = (0..<3).map { row in Double(centre[row]) - (0..<3).reduce(0) { $0 + m[row * 3 + $1] * half[$1] } }
        return Affine(linear: m, translation: p0)
    }

    /// The header that states `affine` as closely as float32 allows.
    /// See also: `affine` (equal within float32 rounding).
    public init(affine: Affine, shape: [Int]) {
        let spacing = affine.spacing
        let centre = (0..<3).map { row in affine[row, 3] + (0..<3).reduce(0) { $0 + affine[row, $1] * Double(shape[$1]) / 2 } }
        self.init(spacing: spacing.map(Float.init),
                  directions: (0..<3).flatMap { axis in (0..<3).map { Float(affine[$0, axis] / spacing[axis]) } },
                  centre: centre.map(Float.init), shape: shape)
    }
}
