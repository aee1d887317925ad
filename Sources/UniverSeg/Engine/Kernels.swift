/// Shape of a batch of NHWC feature maps: `count` images of `height` x `width` pixels. Element (n, y, x, c) of a
/// tensor with C channels sits at `((n * height + y) * width + x) * C + c`; one image's pixels form consecutive rows.
struct Geometry {
    let count: Int
    let height: Int
    let width: Int
    var pixels: Int { height * width }
    var rows: Int { count * height * width }
    var halved: Geometry { Geometry(count: count, height: height / 2, width: width / 2) }
    func with(count: Int) -> Geometry { Geometry(count: count, height: height, width: width) }
}

/// One input of a convolution: an NHWC tensor with the output's geometry. Several inputs are read as if their
/// channels were concatenated in order (UniverSeg's channel concatenations are never materialised).
struct ConvInput {
    let data: SharedFloats
    let channels: Int
    init(_ data: UnsafePointer<Float>, channels: Int) {
        self.data = SharedFloats(data)
        self.channels = channels
    }
}

enum Conv {
    /// Output pixels per GEMM. Fixed (never derived from the thread count) so results are bitwise identical for
    /// any number of threads. 512 rows keep the im2col tile (512 x 9C floats) in L2/L3 and gave OpenBLAS's
    /// default (Cooperlake) sgemm the same speed as its Zen/Haswell kernels (docs/engine.md).
    static let tileRows = 512

    /// 3x3 convolution with zero padding 1 over the channel-concatenation of `inputs`:
    /// `out[row, f] = act(sum(...) + bias[f] + addend[row mod pixels, f])`, where `addend` (pixels x features,
    /// shared by all images) and the weights' bias are each optional and `act` is LeakyReLU(0.01) or identity.
    /// Row tiles run in parallel; each tile is an im2col copy followed by one sgemm and the epilogue.
    /// - Complexity: O(rows * 9 * channels * features).
    static func conv3x3(_ inputs: [ConvInput], _ g: Geometry, _ weights: PackedConv, into out: UnsafeMutablePointer<Float>,
                        addend: UnsafePointer<Float>? = nil, leaky: Bool, workspace: Workspace, threads: Int) {
        let channels = inputs.reduce(0) { $0 + $1.channels }
        precondition(weights.taps == 9 && weights.channels == channels, "conv inputs do not match the packed weights")
        if let winograd = weights.winograd {
            Winograd.conv3x3(inputs, g, weights, winograd, into: out, addend: addend, leaky: leaky, workspace: workspace, threads: threads)
            return
        }
        let k = 9 * channels, features = weights.features
        let tiles = (g.rows + tileRows - 1) / tileRows
        let workers = min(threads, tiles)
        let columns = (0 ..< workers).map { SharedFloats(workspace.scratch("im2col.\($0)", tileRows * k)) }
        let output = SharedFloats(out)
        let addendShared = addend.map { SharedFloats($0) }
        let bf16 = weights.bf16
        let bf16Scratch = bf16 == nil ? [] : (0 ..< workers).map { SharedFloats(workspace.scratch("bf16.\($0)", BF16.scratchFloats(k: k))) }
        BLAS.useCallingThreadOnly()
        weights.matrix.withUnsafeBufferPointer { matrix in
            let b = matrix.baseAddress.map { SharedFloats($0) }
            let bias = weights.bias
            Parallel.forEach(tiles, threads: workers) { worker, tile in
                let r0 = tile * tileRows, r1 = min(g.rows, r0 + tileRows)
                let cols = columns[worker].base
                im2col(inputs, g, rows: r0 ..< r1, channels: channels, into: cols)
                let c = output.base + r0 * features
                if let bf16 {
                    bf16.values.withUnsafeBufferPointer { packed in
                        BF16.gemm(m: r1 - r0, a: cols, b: packed.baseAddress!, k: k, n: features, c: c,
                                  scratch: bf16Scratch[worker].base)
                    }
                } else {
                    BLAS.sgemm(m: r1 - r0, n: features, k: k, a: cols, b: b!.base, c: c)
                }
                epilogue(c, rows: r0 ..< r1, pixels: g.pixels, features: features, bias: bias,
                         addend: addendShared?.base, leaky: leaky)
            }
        }
    }

    /// Writes, for each output row, the 3x3 neighbourhood of all input channels (zeros outside the image).
    private static func im2col(_ inputs: [ConvInput], _ g: Geometry, rows: Range<Int>, channels: Int,
                               into cols: UnsafeMutablePointer<Float>) {
        let h = g.height, w = g.width, pixels = g.pixels
        var dst = cols
        for row in rows {
            let n = row / pixels, p = row - n * pixels, y = p / w, x = p - y * w
            for sy in y - 1 ... y + 1 {
                for sx in x - 1 ... x + 1 {
                    if sy < 0 || sy >= h || sx < 0 || sx >= w {
                        dst.update(repeating: 0, count: channels)
                    } else {
                        let pixel = n * pixels + sy * w + sx
                        var at = dst
                        for input in inputs {
                            at.update(from: input.data.base + pixel * input.channels, count: input.channels)
                            at += input.channels
                        }
                    }
                    dst += channels
                }
            }
        }
    }

    private static func epilogue(_ c: UnsafeMutablePointer<Float>, rows: Range<Int>, pixels: Int, features: Int,
                                 bias: [Float]?, addend: UnsafeMutablePointer<Float>?, leaky: Bool) {
        let count = rows.count * features
        if let bias {
            bias.withUnsafeBufferPointer { b in
                for r in 0 ..< rows.count {
                    let row = c + r * features
                    for f in 0 ..< features { row[f] += b[f] }
                }
            }
        }
        if let addend {
            for (r, row) in rows.enumerated() {
                let dst = c + r * features, src = addend + (row % pixels) * features
                for f in 0 ..< features { dst[f] += src[f] }
            }
        }
        if leaky {
            for i in 0 ..< count where c[i] < 0 { c[i] *= 0.01 }
        }
    }
}

enum Resample {
    /// 2x2 max pooling, stride 2 (H and W even).
    /// - Complexity: O(rows * channels).
    static func maxPool2x2(_ src: UnsafePointer<Float>, _ g: Geometry, channels c: Int, into dst: UnsafeMutablePointer<Float>) {
        let w = g.width, oh = g.height / 2, ow = g.width / 2
        for n in 0 ..< g.count {
            for y in 0 ..< oh {
                for x in 0 ..< ow {
                    let a = src + ((n * g.height + 2 * y) * w + 2 * x) * c, b = a + w * c
                    let o = dst + ((n * oh + y) * ow + x) * c
                    for i in 0 ..< c { o[i] = max(max(a[i], a[i + c]), max(b[i], b[i + c])) }
                }
            }
        }
    }

    /// Bilinear x2 upsampling with align_corners=True, computed as PyTorch's CPU kernel does (float coefficients).
    /// - Complexity: O(4 * rows * channels).
    static func upsample2x(_ src: UnsafePointer<Float>, _ g: Geometry, channels c: Int, into dst: UnsafeMutablePointer<Float>) {
        let h = g.height, w = g.width, oh = 2 * h, ow = 2 * w
        let ys = coefficients(input: h, output: oh), xs = coefficients(input: w, output: ow)
        for n in 0 ..< g.count {
            let image = src + n * h * w * c
            for oy in 0 ..< oh {
                let (y0, y1, ly) = ys[oy]
                for ox in 0 ..< ow {
                    let (x0, x1, lx) = xs[ox]
                    let p00 = image + (y0 * w + x0) * c, p01 = image + (y0 * w + x1) * c
                    let p10 = image + (y1 * w + x0) * c, p11 = image + (y1 * w + x1) * c
                    let o = dst + ((n * oh + oy) * ow + ox) * c
                    let hy0 = 1 - ly, wx0 = 1 - lx
                    for i in 0 ..< c {
                        o[i] = hy0 * (wx0 * p00[i] + lx * p01[i]) + ly * (wx0 * p10[i] + lx * p11[i])
                    }
                }
            }
        }
    }

    /// For each output index: the two source indices and the weight of the second.
    private static func coefficients(input: Int, output: Int) -> [(Int, Int, Float)] {
        let scale: Float = output > 1 ? Float(input - 1) / Float(output - 1) : 0
        return (0 ..< output).map { o in
            let position = scale * Float(o)
            let i0 = min(Int(position), input - 1)
            let i1 = i0 < input - 1 ? i0 + 1 : i0
            return (i0, i1, position - Float(i0))
        }
    }
}

enum Elementwise {
    /// acc[i] += src[i] for every image of a batch: `acc` holds one image (`size` floats).
    static func accumulate(_ src: UnsafePointer<Float>, images: Int, size: Int, into acc: UnsafeMutablePointer<Float>) {
        for n in 0 ..< images {
            let s = src + n * size
            for i in 0 ..< size { acc[i] += s[i] }
        }
    }

    static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        for i in 0 ..< count { x[i] *= factor }
    }

    /// out = LReLU(a + b), the leaky slope of every block (0.01).
    static func addLeaky(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
        for i in 0 ..< count {
            let x = a[i] + b[i]
            out[i] = x < 0 ? x * 0.01 : x
        }
    }

    static func fill(_ x: UnsafeMutablePointer<Float>, count: Int, with value: Float) {
        x.update(repeating: value, count: count)
    }
}
