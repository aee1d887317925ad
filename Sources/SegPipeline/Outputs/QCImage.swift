import VolumeIO

/// Renders a QC picture: up to `panels` slices side by side, the image in grey with each target's mask outlined in
/// its colour, over a strip that shows which slices along the axis hold any label and, below it, ticks in each
/// target's colour at the slices to annotate next (its least-confident slices). Slices are cut in `plane` of the
/// volume's canonical (RAS) frame, so the storage order does not matter, and shown in millimetre proportions:
/// screen-up toward A (axial) or S, screen-right toward the patient's left when the picture spans left-right
/// (radiological), else toward A.
public enum QCImage {
    public struct Picture: Sendable {
        public var width: Int
        public var height: Int
        public var rgb: [UInt8]
        /// Index of each panel's slice along the plane's normal in the canonical frame (toward R, A or S).
        public var slices: [Int]
    }

    /// - Parameters:
    ///   - values: output label values in target order.
    ///   - colors: their outline colours, in the same order (repeating when shorter).
    ///   - panelSide: the longer side of each panel in pixels.
    ///   - annotateNext: per target (in `values` order), slice indices in the file along the plane's normal to mark
    ///     as the ones to annotate next; no marks, no band.
    /// - Complexity: one pass over the labels and the image's intensity window; no copy of either volume (a CT's
    ///   worth of voxels is hundreds of MB).
    public static func render(image: Volume<Float>, labels: Volume<Int32>, plane: AnatomicalPlane, values: [Int32],
                              colors: [DisplayColor] = TargetLegend.palette,
                              panels: Int = 5, panelSide: Int = 256, annotateNext: [[Int]] = []) -> Picture {
        precondition(image.shape == labels.shape, "image and labels must share a grid")
        let frame = CanonicalFrame(shape: image.shape, affine: image.affine)
        let axis = plane.normalAxis
        let slices = chooseSlices(labels: labels, frame: frame, axis: axis, count: panels)
        let area = labelledArea(labels, frame: frame, axis: axis)
        let window = IntensityNormalization.percentile(lower: 1, upper: 99).window(for: image.voxels)
        let rendered = slices.map { renderPanel(image: image, labels: labels, frame: frame, axis: axis, slice: $0,
                                                values: values, colors: colors, window: window, side: panelSide) }
        let gap = 4
        let panelHeight = rendered.map(\.height).max() ?? 1
        let width = max(1, rendered.reduce(0) { $0 + $1.width } + gap * max(0, rendered.count - 1))
        let first = colors.first ?? TargetLegend.palette[0]
        let nativeAxis = frame.nativeAxis(ofCanonicalAxis: axis), n = area.count
        let marks = annotateNext.enumerated().flatMap { target, native in
            let colour = colors.isEmpty ? first : colors[target % colors.count]
            return native.filter { (0..<n).contains($0) }.map { k in
                (slice: frame.orientation.positive[nativeAxis] ? k : n - 1 - k, colour: (colour.red, colour.green, colour.blue))
            }
        }
        let strip = sliceStrip(area: area, shown: slices, width: width, colour: (first.red, first.green, first.blue),
                               marks: marks)
        let height = panelHeight + strip.height
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        rgb.replaceSubrange((panelHeight * width * 3)..., with: strip.rgb)
        var x0 = 0
        for panel in rendered {
            for y in 0..<panel.height {
                let src = y * panel.width * 3, dst = (y * width + x0) * 3
                rgb.replaceSubrange(dst..<(dst + panel.width * 3), with: panel.rgb[src..<(src + panel.width * 3)])
            }
            x0 += panel.width + gap
        }
        return Picture(width: width, height: height, rgb: rgb, slices: slices)
    }

    /// Up to `count` slice indices along canonical `axis`: the first and last slices holding any label (where a
    /// false shape on a slice without the structure shows), the fullest, and the rest evenly spread over the
    /// labelled slices; evenly over the whole axis when nothing was found.
    static func chooseSlices(labels: Volume<Int32>, frame: CanonicalFrame, axis: Int, count: Int) -> [Int] {
        let area = labelledArea(labels, frame: frame, axis: axis)
        let labelled = area.indices.filter { area[$0] > 0 }
        let pool = labelled.isEmpty ? Array(area.indices) : labelled
        guard count < pool.count else { return pool }
        var chosen = Set<Int>()
        if let first = labelled.first, let last = labelled.last, let fullest = labelled.max(by: { area[$0] < area[$1] }) {
            for k in [first, last, fullest] where chosen.count < count { chosen.insert(k) }
        }
        // Evenly spread picks fill the remaining panels, skipping slices already shown.
        let spread = (0..<count).map { pool[($0 * 2 + 1) * pool.count / (2 * count)] }
        for k in spread.sorted(by: { abs($0 - pool[pool.count / 2]) < abs($1 - pool[pool.count / 2]) })
        where chosen.count < count {
            chosen.insert(k)
        }
        for k in pool where chosen.count < count { chosen.insert(k) }
        return chosen.sorted()
    }

    /// Labelled voxels in each slice along canonical `axis` (indices toward R, A or S).
    static func labelledArea(_ labels: Volume<Int32>, frame: CanonicalFrame, axis: Int) -> [Int] {
        let n = frame.canonicalShape[axis]
        let nativeAxis = frame.nativeAxis(ofCanonicalAxis: axis), flipped = !frame.orientation.positive[nativeAxis]
        let stride = labels.shape[..<nativeAxis].reduce(1, *)
        var area = [Int](repeating: 0, count: n)
        labels.voxels.withUnsafeBufferPointer { voxels in
            for index in voxels.indices where voxels[index] != 0 {
                let s = index / stride % n
                area[flipped ? n - 1 - s : s] += 1
            }
        }
        return area
    }

    /// A strip under the panels, one column band per slice along the axis: lit (in the first target's colour)
    /// where the slice holds any label, dark where not, with a white tick over each slice shown above. Labels on
    /// slices far from the rest stand out as a separate band. With `marks`, a band below ticks each marked slice
    /// (canonical index) in its colour.
    static func sliceStrip(area: [Int], shown: [Int], width: Int, colour: (UInt8, UInt8, UInt8),
                           marks: [(slice: Int, colour: (UInt8, UInt8, UInt8))] = []) -> Panel {
        let height = marks.isEmpty ? 10 : 14, n = max(1, area.count)
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for x in 0..<width {
            let k = min(n - 1, x * n / width)
            let tick = shown.contains(k)
            let mark = marks.last { $0.slice == k }?.colour
            for y in 0..<height {
                let p = (y * width + x) * 3
                let pixel: (UInt8, UInt8, UInt8) = y >= 10 ? (y > 10 ? mark ?? (0, 0, 0) : (0, 0, 0))
                    : tick && y < 3 ? (255, 255, 255)
                    : y < 3 ? (0, 0, 0) : (k < area.count && area[k] > 0 ? colour : (48, 48, 48))
                rgb[p] = pixel.0; rgb[p + 1] = pixel.1; rgb[p + 2] = pixel.2
            }
        }
        return Panel(width: width, height: height, rgb: rgb)
    }

    struct Panel { var width: Int; var height: Int; var rgb: [UInt8] }

    /// One slice along canonical `axis` (indices grow toward R, A, S): columns run along the lower canonical
    /// in-plane axis, rows along the higher.
    static func renderPanel(image: Volume<Float>, labels: Volume<Int32>, frame: CanonicalFrame, axis: Int, slice: Int,
                            values: [Int32], colors: [DisplayColor], window: IntensityWindow, side: Int) -> Panel {
        let (u, v) = inPlaneAxes(axis)
        let nu = frame.canonicalShape[u], nv = frame.canonicalShape[v]
        let spacing = image.spacing
        let mmU = Double(nu) * spacing[frame.nativeAxis(ofCanonicalAxis: u)]
        let mmV = Double(nv) * spacing[frame.nativeAxis(ofCanonicalAxis: v)]
        let scale = Double(side) / max(mmU, mmV)
        let width = max(1, Int((mmU * scale).rounded())), height = max(1, Int((mmV * scale).rounded()))
        // Screen rows grow downward, so A/S-up flips rows; radiological display puts the patient's left
        // (decreasing R) on the right, so an R-L column axis flips too.
        let flipU = u == 0, flipV = true

        // Native linear index of the voxel under each screen pixel (nearest neighbour).
        func voxel(_ x: Int, _ y: Int) -> Int {
            var a = min(nu - 1, x * nu / width), b = min(nv - 1, y * nv / height)
            if flipU { a = nu - 1 - a }
            if flipV { b = nv - 1 - b }
            var canonical = [0, 0, 0]
            canonical[axis] = slice; canonical[u] = a; canonical[v] = b
            return frame.nativeLinearIndex(ofCanonical: canonical[0], canonical[1], canonical[2])
        }
        var labelAt = [Int32](repeating: 0, count: width * height)
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let n = voxel(x, y)
                let grey = UInt8((window.normalize(image.voxels[n]) * 255).rounded())
                let p = (y * width + x) * 3
                rgb[p] = grey; rgb[p + 1] = grey; rgb[p + 2] = grey
                labelAt[y * width + x] = labels.voxels[n]
            }
        }
        // Outline: labelled pixels with a 4-neighbour of another value, thickened to 2 pixels for visibility.
        for y in 0..<height {
            for x in 0..<width {
                let value = labelAt[y * width + x]
                guard value != 0, let target = values.firstIndex(of: value) else { continue }
                let neighbours = [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)]
                let edge = neighbours.contains { nx, ny in
                    nx < 0 || ny < 0 || nx >= width || ny >= height || labelAt[ny * width + nx] != value
                }
                guard edge else { continue }
                let colour = colors.isEmpty ? TargetLegend.palette[0] : colors[target % colors.count]
                for (px, py) in [(x, y), (x + 1, y), (x, y + 1)] where px < width && py < height {
                    let p = (py * width + px) * 3
                    rgb[p] = colour.red; rgb[p + 1] = colour.green; rgb[p + 2] = colour.blue
                }
            }
        }
        return Panel(width: width, height: height, rgb: rgb)
    }

    static func inPlaneAxes(_ axis: Int) -> (Int, Int) {
        let others = (0..<3).filter { $0 != axis }
        return (others[0], others[1])
    }
}
