/// Two 3x3 convolutions with no activation between them, `outer(inner(x))` (each zero-padded, each with an
/// optional bias), computed as one 5x5 convolution. Composing linear maps is exact, except on the output's outer
/// ring of pixels: there `outer` read `inner`'s zero padding, while the 5x5 kernel reads what `inner` would give just
/// outside the image. Those ring values are computed (few: 2(H + W) + 4 pixels) and their contribution subtracted.
///
/// Worth it when the input has few channels: the first CrossBlock's layers go from 1 to 3 channels to F and then F
/// to F, so the 5x5 GEMM's depth is 25 x (1 to 3) instead of 9 x (1 to 3) + 9F (docs/engine.md, "First block").
struct ComposedConv: Sendable {
    let channels: Int
    /// Features of `inner`'s output, which `outer` reads.
    let middle: Int
    let features: Int
    /// (25 x channels) x features, rows (tap, channel) with taps row-major over offsets -2...2.
    private let kernel: [Float]
    /// outer(constant inner bias) + outer bias: the value the bias terms add at every pixel before the ring correction.
    private let bias: [Float]?
    /// `inner` as taps x channels x middle and its bias; `outer` as taps x middle x features (PackedConv's layout).
    private let inner: [Float]
    private let innerBias: [Float]?
    private let outer: [Float]

    /// Output pixels per GEMM tile (whole image rows; fixed, so results do not depend on the thread count).
    static let tilePixels = 512

    /// `inner` and `outer` as packed fp32 3x3 layers (before `PackedConv.using` drops their matrices).
    init(inner a: PackedConv, outer b: PackedConv) {
        precondition(a.taps == 9 && b.taps == 9 && b.channels == a.features, "composed convs must chain 3x3 layers")
        let c = a.channels, m = a.features, f = b.features
        var kernel = [Double](repeating: 0, count: 25 * c * f)
        for ta in 0 ..< 9 {
            for tb in 0 ..< 9 {
                let dy = ta / 3 + tb / 3, dx = ta % 3 + tb % 3   // offsets -1...1 each, so the sum is in 0...4 (-2...2)
                let t = dy * 5 + dx
                for ci in 0 ..< c {
                    for mi in 0 ..< m {
                        let w = Double(a.matrix[(ta * c + ci) * m + mi])
                        if w == 0 { continue }
                        let row = (t * c + ci) * f, outerRow = (tb * m + mi) * f
                        for fi in 0 ..< f { kernel[row + fi] += w * Double(b.matrix[outerRow + fi]) }
                    }
                }
            }
        }
        var bias: [Double]? = nil
        if a.bias != nil || b.bias != nil {
            var sum = (b.bias ?? [Float](repeating: 0, count: f)).map(Double.init)
            if let innerBias = a.bias {
                for tb in 0 ..< 9 {
                    for mi in 0 ..< m {
                        for fi in 0 ..< f { sum[fi] += Double(innerBias[mi]) * Double(b.matrix[(tb * m + mi) * f + fi]) }
                    }
                }
            }
            bias = sum
        }
        channels = c
        middle = m
        features = f
        self.kernel = kernel.map(Float.init)
        self.bias = bias?.map(Float.init)
        inner = a.matrix
        innerBias = a.bias
        outer = b.matrix
    }

    /// `out` (NHWC, features channels) = outer(inner(input)), then LeakyReLU(0.01) when `leaky`. `input` is planar:
    /// image n's channel c starts at `(n * channels + c) * pixels`.
    /// - Complexity: O(rows x 25 x channels x features) plus O(count x (H + W) x middle x features) for the ring.
    func apply(planar input: UnsafePointer<Float>, _ g: Geometry, into out: UnsafeMutablePointer<Float>, leaky: Bool,
               workspace: Workspace, threads: Int) {
        let w = g.width, bandRows = max(1, Self.tilePixels / w)
        let bands = (g.height + bandRows - 1) / bandRows
        let k = 25 * channels
        let workers = min(threads, g.count * bands)
        let columns = (0 ..< workers).map { SharedFloats(workspace.scratch("composed.cols.\($0)", k * bandRows * w)) }
        let rings = (0 ..< min(threads, g.count)).map {
            SharedFloats(workspace.scratch("composed.ring.\($0)", (max(g.height, w) + 2) * middle))
        }
        let source = SharedFloats(input), output = SharedFloats(out)
        BLAS.useCallingThreadOnly()
        Parallel.forEach(g.count * bands, threads: workers) { worker, item in
            let n = item / bands, y0 = (item % bands) * bandRows, y1 = min(g.height, y0 + bandRows)
            let pixels = (y1 - y0) * w
            let c = output.base + (n * g.pixels + y0 * w) * features
            im2colTransposed(source.base + n * channels * g.pixels, g, rows: y0 ..< y1, into: columns[worker].base)
            kernel.withUnsafeBufferPointer { kernel in
                BLAS.sgemm(m: pixels, n: features, k: k, a: columns[worker].base, lda: pixels, transposedA: true,
                           b: kernel.baseAddress!, c: c, ldc: features)
            }
            if let bias {
                for p in 0 ..< pixels {
                    for f in 0 ..< features { c[p * features + f] += bias[f] }
                }
            }
        }
        Parallel.forEach(g.count, threads: rings.count) { worker, n in
            correctRing(source.base + n * channels * g.pixels, g, image: output.base + n * g.pixels * features,
                        scratch: rings[worker].base)
        }
        if leaky {
            for i in 0 ..< g.rows * features where out[i] < 0 { out[i] *= 0.01 }
        }
    }

    /// The transposed im2col of image rows `rows`: row (tap, channel) holds that input channel shifted by the tap's
    /// offset (zeros outside the image), one column per output pixel. Planar input makes each a run of copies.
    private func im2colTransposed(_ image: UnsafePointer<Float>, _ g: Geometry, rows: Range<Int>,
                                  into cols: UnsafeMutablePointer<Float>) {
        let h = g.height, w = g.width, pixels = rows.count * w
        for t in 0 ..< 25 {
            let dy = t / 5 - 2, dx = t % 5 - 2
            let x0 = max(0, -dx), x1 = min(w, w - dx)
            for ci in 0 ..< channels {
                let plane = image + ci * g.pixels
                var dst = cols + (t * channels + ci) * pixels
                for y in rows {
                    let sy = y + dy
                    if sy < 0 || sy >= h || x0 >= x1 {
                        dst.update(repeating: 0, count: w)
                    } else {
                        dst.update(repeating: 0, count: x0)
                        (dst + x0).update(from: plane + sy * w + x0 + dx, count: x1 - x0)
                        (dst + x1).update(repeating: 0, count: w - x1)
                    }
                    dst += w
                }
            }
        }
    }

    /// Subtracts, on the output's border, `outer` applied to `inner`'s values on the ring just outside the image
    /// (with its bias): the two-layer form saw zeros there. The ring is split into top and bottom rows (with
    /// corners) and left and right columns (without), so no ring pixel counts twice.
    private func correctRing(_ image: UnsafePointer<Float>, _ g: Geometry, image out: UnsafeMutablePointer<Float>,
                             scratch: UnsafeMutablePointer<Float>) {
        let h = g.height, w = g.width, m = middle, f = features
        let line = scratch   // (length + 2) x middle: the ring values along one side, index 0 is position -1
        inner.withUnsafeBufferPointer { inner in
            outer.withUnsafeBufferPointer { outer in
                // Each side: the ring's fixed coordinate, the inner taps that reach into the image from there (ky or
                // kx fixed), and the outer taps that reach the ring from the output border.
                for side in 0 ..< 4 {
                    let horizontal = side < 2
                    let length = horizontal ? w : h
                    // Ring pixel at position i (-1...length) along the side; input pixel for inner tap (ty, tx).
                    let ringY = side == 0 ? -1 : side == 1 ? h : 0, ringX = side == 2 ? -1 : side == 3 ? w : 0
                    line.update(repeating: 0, count: (length + 2) * m)
                    let positions = horizontal ? -1 ... length : 0 ... length - 1
                    for i in positions {
                        let y = horizontal ? ringY : i, x = horizontal ? i : ringX
                        let value = line + (i + 1) * m
                        if let innerBias { for mi in 0 ..< m { value[mi] = innerBias[mi] } }
                        for ty in 0 ..< 3 {
                            for tx in 0 ..< 3 {
                                let sy = y + ty - 1, sx = x + tx - 1
                                guard sy >= 0, sy < h, sx >= 0, sx < w else { continue }
                                for ci in 0 ..< channels {
                                    let v = image[ci * g.pixels + sy * w + sx]
                                    let weights = inner.baseAddress! + ((ty * 3 + tx) * channels + ci) * m
                                    for mi in 0 ..< m { value[mi] += v * weights[mi] }
                                }
                            }
                        }
                    }
                    // Output border pixel j along the side reads ring position j + o for o in -1...1, through the
                    // outer tap pointing outward (ky = 0 for top, 2 for bottom; kx likewise for left and right).
                    let borderStart = horizontal ? (side == 0 ? 0 : (h - 1) * w) : (side == 2 ? 0 : w - 1)
                    let stride = horizontal ? 1 : w
                    for o in -1 ... 1 {
                        let tap = switch side {
                        case 0: o + 1
                        case 1: 6 + o + 1
                        case 2: (o + 1) * 3
                        default: (o + 1) * 3 + 2
                        }
                        BLAS.sgemm(m: length, n: f, k: m, alpha: -1, a: line + (o + 1) * m, lda: m,
                                   b: outer.baseAddress! + tap * m * f, beta: 1, c: out + borderStart * f, ldc: stride * f)
                    }
                }
            }
        }
    }
}
