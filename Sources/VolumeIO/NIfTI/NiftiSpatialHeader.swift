/// The spatial fields of a NIfTI header, kept verbatim so a mask writer reproduces the source geometry exactly.
public struct NiftiSpatialHeader: Sendable, Equatable {
    /// dim[0...7] and pixdim[0...7] as stored (pixdim[0] is qfac).
    public var dim: [Int]
    public var pixdim: [Double]
    public var qformCode: Int32
    public var sformCode: Int32
    public var quaternB: Double, quaternC: Double, quaternD: Double
    public var qoffsetX: Double, qoffsetY: Double, qoffsetZ: Double
    /// srow_x, srow_y, srow_z, 12 values row-major.
    public var sform: [Double]
    public var xyztUnits: Int32
}
