/// The spatial fields of a NIfTI header, kept verbatim so a mask writer reproduces the source geometry exactly.
///
/// Values are as stored in the file (NIfTI-1 floats widened exactly to Double). `worldTransform()` is the one place
/// that turns them into the voxel-to-RAS affine.
public struct NiftiSpatialHeader: Sendable, Equatable {
    /// 1 for NIfTI-1 (348-byte header, float fields), 2 for NIfTI-2 (540-byte header, double fields).
    public var version: Int
    /// dim[0...7] (axes beyond dim[0] read as 1) and pixdim[0...7] as stored (pixdim[0] is qfac).
    public var dim: [Int]
    public var pixdim: [Double]
    public var qformCode: Int32
    public var sformCode: Int32
    public var quaternB: Double, quaternC: Double, quaternD: Double
    public var qoffsetX: Double, qoffsetY: Double, qoffsetZ: Double
    /// srow_x, srow_y, srow_z, 12 values row-major.
    public var sform: [Double]
    public var xyztUnits: Int32

    public init(version: Int, dim: [Int], pixdim: [Double], qformCode: Int32, sformCode: Int32,
                quaternB: Double, quaternC: Double, quaternD: Double,
                qoffsetX: Double, qoffsetY: Double, qoffsetZ: Double, sform: [Double], xyztUnits: Int32) {
        precondition(dim.count == 8 && pixdim.count == 8 && sform.count == 12, "dim, pixdim: 8 values; sform: 12")
        self.version = version
        self.dim = dim
        self.pixdim = pixdim
        self.qformCode = qformCode
        self.sformCode = sformCode
        self.quaternB = quaternB; self.quaternC = quaternC; self.quaternD = quaternD
        self.qoffsetX = qoffsetX; self.qoffsetY = qoffsetY; self.qoffsetZ = qoffsetZ
        self.sform = sform
        self.xyztUnits = xyztUnits
    }
}

/// Which header fields gave a volume its affine.
public enum NiftiTransformSource: String, Sendable {
    case sform, qform
    /// Neither code set: nibabel's "base affine" from dim and pixdim (see `NiftiSpatialHeader.pixdimAffine`).
    case pixdim
}

/// NIfTI `xform` codes (nifti1.h `NIFTI_XFORM_*`), for messages and `inspect`.
public func niftiXformName(_ code: Int32) -> String {
    switch code {
    case 0: return "unknown"
    case 1: return "scanner"
    case 2: return "aligned"
    case 3: return "talairach"
    case 4: return "mni152"
    case 5: return "template"
    default: return "invalid(\(code))"
    }
}

extension NiftiSpatialHeader {
    /// The geometry rule, in one place: the sform when `sform_code > 0`, else the qform when `qform_code > 0`, else
    /// the pixdim fallback. This is nibabel's `get_best_affine`, with one deliberate difference: nibabel tests
    /// `code != 0`, so it would trust a (spec-invalid) negative code; we treat negative codes as unset.
    ///
    /// - Complexity: O(1).
    public func worldTransform() -> (affine: Affine, source: NiftiTransformSource) {
        if sformCode > 0 { return (sformAffine, .sform) }
        if qformCode > 0 { return (qformAffine, .qform) }
        return (pixdimAffine, .pixdim)
    }

    /// srow_x/y/z as a 4x4 affine.
    public var sformAffine: Affine {
        Affine(rows: [Array(sform[0..<4]), Array(sform[4..<8]), Array(sform[8..<12]), [0, 0, 0, 1]])
    }

    /// The quaternion transform of the NIfTI-1 spec, computed like nibabel's `get_qform`:
    /// a = √max(0, 1 − b² − c² − d²); R from (a, b, c, d) normalised by a² + b² + c² + d²; columns scaled by the voxel
    /// sizes, the third also by qfac (−1 when pixdim[0] < 0, else 1); translation = qoffset.
    public var qformAffine: Affine {
        let b = quaternB, c = quaternC, d = quaternD
        let a = max(0, 1 - (b * b + c * c + d * d)).squareRoot()
        let n = a * a + b * b + c * c + d * d
        let s = n > 0 ? 2 / n : 0
        // Rotation matrix of the unit quaternion (a, b, c, d), written with s = 2/|q|² so it stays orthogonal.
        var r: [Double] = [
            1 - s * (c * c + d * d), s * (b * c - a * d), s * (b * d + a * c),
            s * (b * c + a * d), 1 - s * (b * b + d * d), s * (c * d - a * b),
            s * (b * d - a * c), s * (c * d + a * b), 1 - s * (b * b + c * c),
        ]
        if n == 0 { r = [1, 0, 0, 0, 1, 0, 0, 0, 1] }
        let zooms = voxelSizes
        let qfac: Double = pixdim[0] < 0 ? -1 : 1
        let scale = [zooms[0], zooms[1], zooms[2] * qfac]
        let linear = (0..<9).map { r[$0] * scale[$0 % 3] }
        return Affine(linear: linear, translation: [qoffsetX, qoffsetY, qoffsetZ])
    }

    /// Fallback when neither transform is coded: nibabel's `get_base_affine` (`shape_zoom_affine` with x flipped):
    /// diag(−sx, sy, sz) with the volume centre ((n−1)/2 along each axis) at world 0, i.e. LAS as for ANALYZE.
    /// Matches nibabel exactly (compared in the tests on a file with both codes 0); libnifti's own fallback
    /// (diag(sx, sy, sz), origin at voxel 0) differs, and we do not use it.
    public var pixdimAffine: Affine {
        let zooms = voxelSizes
        let ndim = min(max(dim[0], 1), 7)
        let n = (1...3).map { axis in axis <= ndim ? Double(dim[axis]) : 1 }
        let sx = -zooms[0], sy = zooms[1], sz = zooms[2]
        return Affine(linear: [sx, 0, 0, 0, sy, 0, 0, 0, sz],
                      translation: [-(n[0] - 1) / 2 * sx, -(n[1] - 1) / 2 * sy, -(n[2] - 1) / 2 * sz])
    }

    /// pixdim[1...3] as nibabel uses them after loading: |pixdim|, with 0 or non-finite replaced by 1
    /// (nibabel's header check fixes zero and negative pixdims this way; libnifti also treats ≤ 0 as 1).
    /// Axes beyond dim[0] count as 1.
    public var voxelSizes: [Double] {
        let ndim = min(max(dim[0], 1), 7)
        return (1...3).map { axis in
            guard axis <= ndim else { return 1 }
            let p = abs(pixdim[axis])
            return p.isFinite && p > 0 ? p : 1
        }
    }

    /// Number of 3D volumes: the product of dim[4...dim[0]] (1 for a 3D file).
    public var volumeCount: Int {
        let ndim = min(max(dim[0], 1), 7)
        guard ndim >= 4 else { return 1 }
        return (4...ndim).reduce(1) { $0 * Swift.max(dim[$1], 1) }
    }

    /// The 3D grid size: dim[1...3], with axes beyond dim[0] counted as 1.
    public var spatialShape: [Int] {
        let ndim = min(max(dim[0], 1), 7)
        return (1...3).map { $0 <= ndim ? dim[$0] : 1 }
    }

    /// A header describing `affine` for a volume that has no NIfTI source (e.g. read from DICOM): sform = qform =
    /// `affine`, both with code 1 (scanner), units mm, NIfTI-1. The qform keeps the closest rotation when the
    /// affine is sheared (the sform stays exact), like libnifti's `nifti_mat44_to_quatern`.
    public init(affine: Affine, shape: [Int]) {
        precondition(shape.count == 3)
        let q = QuaternionTransform(affine: affine)
        self.init(version: shape.allSatisfy { $0 <= Int(Int16.max) } ? 1 : 2,
                  dim: [3, shape[0], shape[1], shape[2], 1, 1, 1, 1],
                  pixdim: [q.qfac, q.voxelSizes[0], q.voxelSizes[1], q.voxelSizes[2], 0, 0, 0, 0],
                  qformCode: 1, sformCode: 1,
                  quaternB: q.b, quaternC: q.c, quaternD: q.d,
                  qoffsetX: affine[0, 3], qoffsetY: affine[1, 3], qoffsetZ: affine[2, 3],
                  sform: Array(affine.values[0..<12]), xyztUnits: 2)
    }
}

/// The NIfTI quaternion parameters of an affine (the inverse of `NiftiSpatialHeader.qformAffine` for rigid
/// affines with positive voxel sizes). Algorithm of the NIfTI-1 reference code: column norms give the voxel sizes,
/// the nearest orthogonal matrix (polar decomposition) gives the rotation, a negative determinant flips the third
/// column and sets qfac = −1, and the quaternion is taken with a ≥ 0.
struct QuaternionTransform {
    var b: Double, c: Double, d: Double
    var qfac: Double
    var voxelSizes: [Double]

    init(affine: Affine) {
        var cols = (0..<3).map { affine.column($0) }
        var sizes = [Double](repeating: 1, count: 3)
        for axis in 0..<3 {
            let norm = cols[axis].reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0, norm.isFinite {
                sizes[axis] = norm
                cols[axis] = cols[axis].map { $0 / norm }
            } else {
                cols[axis] = (0..<3).map { $0 == axis ? 1 : 0 }
            }
        }
        let p = (0..<9).map { cols[$0 % 3][$0 / 3] }   // row-major matrix with those columns
        var r = Matrix3.orthogonalPolarFactor(p) ?? [1, 0, 0, 0, 1, 0, 0, 0, 1]
        if Matrix3.determinant(r) > 0 {
            qfac = 1
        } else {
            qfac = -1
            r[2] = -r[2]; r[5] = -r[5]; r[8] = -r[8]
        }
        let (r11, r12, r13, r21, r22, r23, r31, r32, r33) = (r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8])
        var a = r11 + r22 + r33 + 1
        var qb: Double, qc: Double, qd: Double
        if a > 0.5 {
            a = 0.5 * a.squareRoot()
            qb = 0.25 * (r32 - r23) / a; qc = 0.25 * (r13 - r31) / a; qd = 0.25 * (r21 - r12) / a
        } else {
            let xd = 1 + r11 - (r22 + r33), yd = 1 + r22 - (r11 + r33), zd = 1 + r33 - (r11 + r22)
            if xd > 1 {
                qb = 0.5 * xd.squareRoot(); qc = 0.25 * (r12 + r21) / qb; qd = 0.25 * (r13 + r31) / qb
                a = 0.25 * (r32 - r23) / qb
            } else if yd > 1 {
                qc = 0.5 * yd.squareRoot(); qb = 0.25 * (r12 + r21) / qc; qd = 0.25 * (r23 + r32) / qc
                a = 0.25 * (r13 - r31) / qc
            } else {
                qd = 0.5 * zd.squareRoot(); qb = 0.25 * (r13 + r31) / qd; qc = 0.25 * (r23 + r32) / qd
                a = 0.25 * (r21 - r12) / qd
            }
            if a < 0 { qb = -qb; qc = -qc; qd = -qd }
        }
        b = qb; c = qc; d = qd
        voxelSizes = sizes
    }
}
