/// Anatomical planes, named by the slices they give: axial slices are stacked along S, coronal along A,
/// sagittal along R.
public enum AnatomicalPlane: String, Sendable, CaseIterable {
    case axial, coronal, sagittal

    /// The canonical (RAS) axis the slices are stacked along: 2 (S), 1 (A), 0 (R).
    public var normalAxis: Int {
        switch self {
        case .axial: return 2
        case .coronal: return 1
        case .sagittal: return 0
        }
    }

    public init(normalAxis: Int) {
        precondition((0..<3).contains(normalAxis))
        self = [.sagittal, .coronal, .axial][normalAxis]
    }
}

/// Which axis to cut slices across.
public enum SliceAxis: Sendable, Equatable {
    /// The acquisition axis: the voxel axis with the largest spacing; ties go to the last index axis (for DICOM
    /// volumes the reader puts the slice normal last, so an isotropic series is cut across its slices).
    case acquisition
    /// Voxel axis 0, 1 or 2 of the source file (i, j, k).
    case voxel(Int)
    /// An anatomical plane, whatever the storage order.
    case plane(AnatomicalPlane)
}

/// How a volume becomes UniverSeg inputs.
public struct SlicingOptions: Sendable, Equatable {
    /// The side, in pixels, of the square grid UniverSeg was trained on and runs on: the one definition of 128.
    public static let modelSide = 128

    public var axis: SliceAxis
    /// Side of the square model slices in pixels (default `modelSide`).
    public var size: Int
    public var normalization: IntensityNormalization

    public init(axis: SliceAxis = .acquisition, size: Int = modelSide, normalization: IntensityNormalization = .robust) {
        precondition(size > 0, "slice size must be positive")
        if case .voxel(let a) = axis { precondition((0..<3).contains(a), "voxel axis must be 0, 1 or 2") }
        self.axis = axis
        self.size = size
        self.normalization = normalization
    }
}
