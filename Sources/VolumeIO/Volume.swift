/// A 3D voxel grid with its place in the world.
///
/// Convention (the one used everywhere inside this package): voxel (i, j, k) lives at `voxels[i + nx * (j + ny * k)]`
/// (NIfTI/Fortran order), and `affine` maps (i, j, k) of voxel centres to **RAS+ millimetres**.
/// Images are `Volume<Float>`; label maps are `Volume<Int32>`.
///
/// Invariant: `voxels.count == shape[0] * shape[1] * shape[2]` and `affine` is invertible (see `checkInvariants()`).
public struct Volume<Voxel: Sendable>: Sendable {
    /// Voxel counts along index axes i, j, k.
    public var shape: [Int]
    public var affine: Affine
    public var voxels: [Voxel]
    /// Header fields of the file this volume was read from, so writers can reproduce its geometry exactly.
    public var source: SourceGeometry?

    public init(shape: [Int], affine: Affine, voxels: [Voxel], source: SourceGeometry? = nil) {
        self.shape = shape
        self.affine = affine
        self.voxels = voxels
        self.source = source
    }

    public var count: Int { shape.reduce(1, *) }
    public var spacing: [Double] { affine.spacing }
    public var orientation: String { affine.orientation }

    /// - Complexity: O(1).
    @inline(__always) public func index(_ i: Int, _ j: Int, _ k: Int) -> Int { i + shape[0] * (j + shape[1] * k) }

    public subscript(i: Int, j: Int, k: Int) -> Voxel {
        get { voxels[index(i, j, k)] }
        set { voxels[index(i, j, k)] = newValue }
    }

    /// A volume on the same grid with other voxel values.
    public func withVoxels<Other>(_ voxels: [Other]) -> Volume<Other> {
        precondition(voxels.count == count, "voxel count must match the grid")
        return Volume<Other>(shape: shape, affine: affine, voxels: voxels, source: source)
    }

    public func checkInvariants() {
        precondition(shape.count == 3 && shape.allSatisfy { $0 > 0 }, "shape must be 3 positive sizes")
        precondition(voxels.count == count, "voxel count \(voxels.count) does not match shape \(shape)")
        precondition(affine.inverse != nil, "affine must be invertible")
    }
}

/// How the source file described its geometry; writers use it to reproduce headers exactly.
public enum SourceGeometry: Sendable, Equatable {
    case nifti(NiftiSpatialHeader)
    case dicom(DicomSeriesReference)
    case nrrd(NrrdSpatialHeader)
    case metaImage(MetaImageSpatialHeader)
    case mgh(MghSpatialHeader)
}
