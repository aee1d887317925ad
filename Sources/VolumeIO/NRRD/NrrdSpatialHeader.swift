/// The spatial fields of a NRRD header as the file states them (`space`, `space directions`, `space origin`), so a
/// label map written for a NRRD study keeps the study's space and numbers.
public struct NrrdSpatialHeader: Sendable, Equatable {
    public var space: NrrdSpace
    /// One world step per voxel axis i, j, k, in `space`.
    public var directions: [[Double]]
    public var origin: [Double]

    public init(space: NrrdSpace, directions: [[Double]], origin: [Double]) {
        precondition(directions.count == 3 && directions.allSatisfy { $0.count == 3 } && origin.count == 3)
        self.space = space
        self.directions = directions
        self.origin = origin
    }

    /// Voxel indices to RAS+ mm.
    public var affine: Affine {
        let s = space.toRAS
        let linear = (0..<3).flatMap { row in (0..<3).map { axis in s[row] * directions[axis][row] } }
        return Affine(linear: linear, translation: (0..<3).map { s[$0] * origin[$0] })
    }

    /// The header that states `affine` in `space` (LPS, as 3D Slicer writes, when none is given).
    /// See also: `affine`; `NrrdSpatialHeader(affine: a, space: s).affine == a` exactly (sign flips only).
    public init(affine: Affine, space: NrrdSpace = .leftPosteriorSuperior) {
        let s = space.toRAS
        self.init(space: space,
                  directions: (0..<3).map { axis in (0..<3).map { row in s[row] * affine[row, axis] } },
                  origin: (0..<3).map { s[$0] * affine[$0, 3] })
    }
}
