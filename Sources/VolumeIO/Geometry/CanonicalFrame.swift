/// The closest RAS voxel order of a grid, reached by permuting and flipping axes only (lossless): nibabel's
/// `as_closest_canonical`. Canonical axis 0 runs toward R, 1 toward A, 2 toward S, whatever the storage order
/// (LAS, LPS, LIA, ...), so slices taken in this frame look the same for every storage order.
///
/// Invariant: `canonicalShape` is a permutation of `nativeShape`; `nativeIndex` is a bijection between the grids.
public struct CanonicalFrame: Sendable, Equatable {
    public let nativeShape: [Int]
    /// How the native voxel axes lie in the world (see `AxisOrientation`).
    public let orientation: AxisOrientation
    /// Voxel counts along canonical axes R, A, S.
    public let canonicalShape: [Int]
    /// Native linear index (`i + nx * (j + ny * k)`) of canonical voxel (0, 0, 0).
    let origin: Int
    /// Change of the native linear index per +1 step along each canonical axis (negative when flipped).
    let strides: [Int]

    public init(shape: [Int], affine: Affine) {
        precondition(shape.count == 3)
        nativeShape = shape
        orientation = AxisOrientation(affine)
        let nativeStrides = [1, shape[0], shape[0] * shape[1]]
        var canonical = [0, 0, 0], steps = [0, 0, 0], start = 0
        for w in 0..<3 {
            let axis = orientation.voxelAxis(alongWorldAxis: w)
            canonical[w] = shape[axis]
            if orientation.positive[axis] {
                steps[w] = nativeStrides[axis]
            } else {
                steps[w] = -nativeStrides[axis]
                start += (shape[axis] - 1) * nativeStrides[axis]
            }
        }
        canonicalShape = canonical
        strides = steps
        origin = start
    }

    /// The native voxel axis that canonical axis `w` (0 = R, 1 = A, 2 = S) runs along.
    public func nativeAxis(ofCanonicalAxis w: Int) -> Int { orientation.voxelAxis(alongWorldAxis: w) }

    /// The canonical axis that native voxel axis `axis` became.
    public func canonicalAxis(ofNativeAxis axis: Int) -> Int { orientation.worldAxis[axis] }

    /// Native (i, j, k) of canonical voxel `c`.
    /// - Complexity: O(1).
    public func nativeIndex(ofCanonical c: [Int]) -> [Int] {
        var n = [0, 0, 0]
        for w in 0..<3 {
            let axis = nativeAxis(ofCanonicalAxis: w)
            n[axis] = orientation.positive[axis] ? c[w] : nativeShape[axis] - 1 - c[w]
        }
        return n
    }

    /// Native linear index (`i + nx * (j + ny * k)`) of canonical voxel (a, b, c): reads a volume in canonical
    /// order without reorienting a copy of it.
    /// - Complexity: O(1).
    @inline(__always) public func nativeLinearIndex(ofCanonical a: Int, _ b: Int, _ c: Int) -> Int {
        origin + a * strides[0] + b * strides[1] + c * strides[2]
    }

    /// The affine of the canonical grid: native affine composed with canonical index → native index.
    public func canonicalAffine(native affine: Affine) -> Affine {
        var p = Affine.identity
        for r in 0..<3 { p[r, r] = 0 }
        for w in 0..<3 {
            let axis = nativeAxis(ofCanonicalAxis: w)
            if orientation.positive[axis] {
                p[axis, w] = 1
            } else {
                p[axis, w] = -1
                p[axis, 3] = Double(nativeShape[axis] - 1)
            }
        }
        return affine * p
    }

    /// The volume in canonical voxel order with the matching affine (`source` dropped: the grid is a new one).
    /// See also: `restored(_:like:)`, its exact inverse.
    /// - Complexity: O(voxels).
    public func reoriented<V>(_ volume: Volume<V>) -> Volume<V> {
        precondition(volume.shape == nativeShape, "volume must be on this frame's native grid")
        let (cx, cy, cz) = (canonicalShape[0], canonicalShape[1], canonicalShape[2])
        var out = [V]()
        out.reserveCapacity(volume.count)
        volume.voxels.withUnsafeBufferPointer { src in
            for c in 0..<cz { for b in 0..<cy {
                var n = origin + b * strides[1] + c * strides[2]
                for _ in 0..<cx { out.append(src[n]); n += strides[0] }
            } }
        }
        return Volume(shape: canonicalShape, affine: canonicalAffine(native: volume.affine), voxels: out)
    }

    /// Puts canonical-order voxels back on the native grid of `native` (shape, affine and source of `native`).
    /// - Complexity: O(voxels).
    public func restored<V, W>(_ canonical: Volume<V>, like native: Volume<W>) -> Volume<V> {
        precondition(canonical.shape == canonicalShape && native.shape == nativeShape, "grids must match this frame")
        var out = canonical.voxels   // any values; every element is overwritten below
        let (cx, cy, cz) = (canonicalShape[0], canonicalShape[1], canonicalShape[2])
        canonical.voxels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var m = 0
                for c in 0..<cz { for b in 0..<cy {
                    var n = origin + b * strides[1] + c * strides[2]
                    for _ in 0..<cx { dst[n] = src[m]; m += 1; n += strides[0] }
                } }
            }
        }
        return Volume(shape: nativeShape, affine: native.affine, voxels: out, source: native.source)
    }
}
