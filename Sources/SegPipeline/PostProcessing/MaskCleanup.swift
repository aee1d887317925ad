/// 3D clean-up of one target's mask on the native grid, applied after thresholding.
///
/// Each slice is segmented on its own, so nothing else ties a mask together: a false shape on one slice far from
/// the structure survives as a small island, and a slice that missed part of a structure leaves a hole.
public struct MaskCleanup: Sendable, Equatable {
    /// Keep only the largest connected component (26-connected).
    public var largestComponent: Bool
    /// Drop components smaller than this many millilitres (0: keep all).
    public var minComponentML: Double
    /// Fill cavities: background regions (6-connected) that do not reach the volume's border.
    public var fillHoles: Bool

    public init(largestComponent: Bool = false, minComponentML: Double = 0, fillHoles: Bool = false) {
        self.largestComponent = largestComponent
        self.minComponentML = minComponentML
        self.fillHoles = fillHoles
    }

    public static let none = MaskCleanup()

    public var isNone: Bool { self == .none }

    /// The steps in words, for reports: e.g. ["largest component", "holes filled"].
    public var steps: [String] {
        var parts: [String] = []
        if largestComponent { parts.append("largest component") }
        if minComponentML > 0 { parts.append("components >= \(minComponentML) mL") }
        if fillHoles { parts.append("holes filled") }
        return parts
    }

    /// The cleaned mask. `shape` is the grid (i fastest), `voxelML` one voxel's volume in millilitres.
    public func apply(_ mask: [Bool], shape: [Int], voxelML: Double) -> [Bool] {
        precondition(shape.count == 3 && mask.count == shape.reduce(1, *))
        var out = mask
        if largestComponent || minComponentML > 0 {
            let (component, sizes) = Self.components(of: out, shape: shape, diagonal: true)
            let largest = sizes.indices.max { sizes[$0] < sizes[$1] }
            let keep = sizes.indices.map { c in
                (!largestComponent || c == largest) && Double(sizes[c]) * voxelML >= minComponentML
            }
            for i in out.indices where out[i] { out[i] = keep[component[i]] }
        }
        if fillHoles {
            let background = out.map { !$0 }
            let (component, sizes) = Self.components(of: background, shape: shape, diagonal: false)
            var reachesBorder = [Bool](repeating: false, count: sizes.count)
            forEachBorderVoxel(shape) { i in if background[i] { reachesBorder[component[i]] = true } }
            for i in out.indices where background[i] && !reachesBorder[component[i]] { out[i] = true }
        }
        return out
    }

    /// Connected components of the true voxels: a component index per voxel (meaningful where `mask` is true)
    /// and each component's size. `diagonal`: 26-connectivity, else 6 (faces only).
    static func components(of mask: [Bool], shape: [Int], diagonal: Bool) -> (component: [Int], sizes: [Int]) {
        let (nx, ny, nz) = (shape[0], shape[1], shape[2])
        var offsets: [(Int, Int, Int)] = []
        for dz in -1...1 { for dy in -1...1 { for dx in -1...1 {
            let steps = abs(dx) + abs(dy) + abs(dz)
            if steps > 0 && (diagonal || steps == 1) { offsets.append((dx, dy, dz)) }
        } } }
        var component = [Int](repeating: -1, count: mask.count), sizes: [Int] = [], stack: [Int] = []
        for seed in mask.indices where mask[seed] && component[seed] < 0 {
            let label = sizes.count
            var size = 0
            component[seed] = label
            stack.append(seed)
            while let i = stack.popLast() {
                size += 1
                let (x, y, z) = (i % nx, (i / nx) % ny, i / (nx * ny))
                for (dx, dy, dz) in offsets {
                    let (a, b, c) = (x + dx, y + dy, z + dz)
                    guard a >= 0, a < nx, b >= 0, b < ny, c >= 0, c < nz else { continue }
                    let j = a + nx * (b + ny * c)
                    if mask[j] && component[j] < 0 { component[j] = label; stack.append(j) }
                }
            }
            sizes.append(size)
        }
        return (component, sizes)
    }

    private func forEachBorderVoxel(_ shape: [Int], _ body: (Int) -> Void) {
        let (nx, ny, nz) = (shape[0], shape[1], shape[2])
        for z in 0..<nz { for y in 0..<ny { for x in 0..<nx
            where x == 0 || y == 0 || z == 0 || x == nx - 1 || y == ny - 1 || z == nz - 1 {
            body(x + nx * (y + ny * z))
        } } }
    }
}
