import VolumeIO

/// Small geometric decisions the pipeline makes from an affine.
enum Geometry {
    /// The world axis (0 = x/R-L, 1 = y/A-P, 2 = z/S-I) an index axis mostly runs along.
    static func dominantWorldAxis(_ affine: Affine, indexAxis: Int) -> Int {
        let column = affine.column(indexAxis)
        return (0..<3).max { abs(column[$0]) < abs(column[$1]) }!
    }

    /// The plane of the slices stored along index axis `axis` (the plane perpendicular to it).
    static func plane(_ affine: Affine, sliceAxis axis: Int) -> SliceOrientation {
        switch dominantWorldAxis(affine, indexAxis: axis) {
        case 0: return .sagittal
        case 1: return .coronal
        default: return .axial
        }
    }

    /// The index axis to slice along: the thickest-spaced one for `.auto` (ties go to k, then j).
    static func sliceAxis(_ choice: SlicingAxis, affine: Affine) -> Int {
        switch choice {
        case .index(let axis): return axis
        case .plane(let plane):
            let world = plane == .sagittal ? 0 : plane == .coronal ? 1 : 2
            return [2, 1, 0].first { dominantWorldAxis(affine, indexAxis: $0) == world } ?? 2
        case .auto:
            let spacing = affine.spacing
            return [2, 1, 0].max { spacing[$0] < spacing[$1] - 1e-6 }!
        }
    }

    /// Where index `index` of `count` along `axis` lies, from 0 to 1, measured toward the positive world direction
    /// (toward R, A or S), so two volumes stored in opposite order still agree.
    static func relativePosition(index: Int, count: Int, affine: Affine, axis: Int) -> Double {
        guard count > 1 else { return 0.5 }
        let t = Double(index) / Double(count - 1)
        let world = dominantWorldAxis(affine, indexAxis: axis)
        return affine.column(axis)[world] >= 0 ? t : 1 - t
    }
}
