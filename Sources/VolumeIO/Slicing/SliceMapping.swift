/// Where each model pixel lies on a volume's grid: the link between native voxels and square model slices.
///
/// Geometry, in the volume's canonical frame (see `CanonicalFrame`, so the storage order does not matter):
/// slices are stacked along canonical axis `sliceAxis`, in increasing R/A/S order. Within a slice, model columns
/// follow the lower remaining canonical axis and rows the higher one (axial: columns toward R, rows toward A;
/// coronal: R, S; sagittal: A, S); slice pixel (row, column) is element `row * size + column`.
/// The slice's physical field of view (voxel count × spacing along each in-plane axis) is scaled to fit the
/// `size` × `size` square and centred, so model pixels are square in millimetres (`pixelSize`); the rest is padding.
public struct SliceMapping: Sendable {
    /// The native grid (what `nativeProbabilities` returns on).
    public let nativeShape: [Int]
    public let nativeAffine: Affine
    public let source: SourceGeometry?
    public let frame: CanonicalFrame
    /// Canonical axis the slices are stacked along (0 = R: sagittal slices, 1 = A: coronal, 2 = S: axial).
    public let sliceAxis: Int
    /// Canonical axes of model columns and rows.
    public let columnAxis: Int, rowAxis: Int
    public let size: Int
    /// Model pixel side in mm (the same along rows and columns).
    public let pixelSize: Double
    /// Voxel spacing (mm) along canonical axes R, A, S.
    public let spacing: [Double]

    /// Voxel axis of the source file the slices are stacked along.
    public var nativeSliceAxis: Int { frame.nativeAxis(ofCanonicalAxis: sliceAxis) }
    public var plane: AnatomicalPlane { AnatomicalPlane(normalAxis: sliceAxis) }
    public var sliceCount: Int { frame.canonicalShape[sliceAxis] }
    /// Native voxels along model columns and rows.
    public var columnCount: Int { frame.canonicalShape[columnAxis] }
    public var rowCount: Int { frame.canonicalShape[rowAxis] }

    /// Relative position of each slice's centre along the slice axis, in (0, 1): (k + ½) / sliceCount, with k in
    /// increasing R/A/S order. Support selection matches slices of different volumes by this number.
    public var relativePositions: [Double] { (0..<sliceCount).map { (Double($0) + 0.5) / Double(sliceCount) } }

    /// The slice whose relative position is closest to `position` (0...1).
    public func sliceIndex(nearestRelativePosition position: Double) -> Int {
        min(sliceCount - 1, max(0, Int((position * Double(sliceCount)).rounded(.down))))
    }

    /// World position (RAS mm) of the centre of model pixel (row, column) of slice `k`; padding pixels lie
    /// outside the volume. The inverse direction is what `nativeProbabilities` samples.
    public func worldPosition(slice k: Int, row: Int, column: Int) -> [Double] {
        var c = [0.0, 0.0, 0.0]
        c[sliceAxis] = Double(k)
        c[columnAxis] = nativeCoordinate(ofModel: Double(column), axis: columnAxis)
        c[rowAxis] = nativeCoordinate(ofModel: Double(row), axis: rowAxis)
        return frame.canonicalAffine(native: nativeAffine).apply(c)
    }

    public init(shape: [Int], affine: Affine, source: SourceGeometry? = nil, options: SlicingOptions = SlicingOptions()) {
        precondition(shape.count == 3 && shape.allSatisfy { $0 > 0 }, "shape must be 3 positive sizes")
        nativeShape = shape
        nativeAffine = affine
        self.source = source
        let frame = CanonicalFrame(shape: shape, affine: affine)
        let nativeSpacing = affine.spacing
        let spacing = (0..<3).map { nativeSpacing[frame.nativeAxis(ofCanonicalAxis: $0)] }
        let sliceAxis: Int
        switch options.axis {
        case .plane(let plane): sliceAxis = plane.normalAxis
        case .voxel(let axis): sliceAxis = frame.canonicalAxis(ofNativeAxis: axis)
        case .acquisition: sliceAxis = frame.canonicalAxis(ofNativeAxis: SliceMapping.acquisitionAxis(spacing: nativeSpacing))
        }
        let inPlane = [0, 1, 2].filter { $0 != sliceAxis }
        let width = Double(frame.canonicalShape[inPlane[0]]) * spacing[inPlane[0]]
        let height = Double(frame.canonicalShape[inPlane[1]]) * spacing[inPlane[1]]
        self.frame = frame
        self.spacing = spacing
        self.sliceAxis = sliceAxis
        columnAxis = inPlane[0]
        rowAxis = inPlane[1]
        size = options.size
        pixelSize = max(width, height) / Double(options.size)
    }

    /// Spacings within this (relative) of each other count as equal when choosing the acquisition axis, so that
    /// float32 header noise on an isotropic grid does not pick an axis at random.
    public static let equalSpacingTolerance = 1e-4

    /// The voxel axis with the largest spacing; among spacings equal within `equalSpacingTolerance`, the last axis.
    public static func acquisitionAxis(spacing: [Double]) -> Int {
        let largest = spacing.max()!
        return (0..<3).last { spacing[$0] >= largest * (1 - equalSpacingTolerance) }!
    }

    // MARK: - Model pixel ↔ native index along one in-plane canonical axis

    /// Padding (mm) before the field of view along canonical axis `a`.
    private func margin(_ a: Int) -> Double {
        (Double(size) * pixelSize - Double(frame.canonicalShape[a]) * spacing[a]) / 2
    }

    /// Native voxel coordinate (centres at integers) under model pixel coordinate `x` (centres at integers).
    /// Both are measured from the field of view's edge: voxel t spans [t, t + 1]·spacing, pixel x spans
    /// [x, x + 1]·pixelSize − margin.
    func nativeCoordinate(ofModel x: Double, axis a: Int) -> Double {
        ((x + 0.5) * pixelSize - margin(a)) / spacing[a] - 0.5
    }

    /// Model pixel coordinate over native voxel coordinate `t` (the inverse of `nativeCoordinate`).
    func modelCoordinate(ofNative t: Double, axis a: Int) -> Double {
        ((t + 0.5) * spacing[a] + margin(a)) / pixelSize - 0.5
    }

    /// Native → model weights for images: antialiased bilinear, padding outside the field of view.
    func imageTaps(axis a: Int) -> ResamplingTaps {
        let n = frame.canonicalShape[a]
        return .triangle(positions: (0..<size).map { nativeCoordinate(ofModel: Double($0), axis: a) }, inputCount: n,
                         inputPerOutput: pixelSize / spacing[a], valid: -0.5...(Double(n) - 0.5))
    }

    /// Native → model weights for masks: the area of each model pixel covered by each voxel.
    func maskTaps(axis a: Int) -> ResamplingTaps {
        .box(positions: (0..<size).map { nativeCoordinate(ofModel: Double($0), axis: a) },
             inputCount: frame.canonicalShape[a], halfWidth: pixelSize / spacing[a] / 2)
    }

    /// Model → native weights: bilinear (antialiased when a voxel spans several model pixels).
    func inverseTaps(axis a: Int) -> ResamplingTaps {
        .triangle(positions: (0..<frame.canonicalShape[a]).map { modelCoordinate(ofNative: Double($0), axis: a) },
                  inputCount: size, inputPerOutput: spacing[a] / pixelSize)
    }

    /// Two affines describe one grid when each entry agrees within this, relative to the entry (absolute below
    /// 1 mm): float32 headers of one grid (an image and its label map, written by different tools) differ by about
    /// 1e-7 relative, a different grid by at least a fraction of a voxel.
    public static let gridTolerance = 1e-4

    /// True when `volume` is on this mapping's native grid (same shape, affine within `gridTolerance` mm per voxel
    /// step and at the origin).
    public func matchesGrid<V>(_ volume: Volume<V>) -> Bool {
        guard volume.shape == nativeShape else { return false }
        return zip(volume.affine.values, nativeAffine.values).allSatisfy {
            abs($0 - $1) <= Self.gridTolerance * max(1, abs($1))
        }
    }
}
