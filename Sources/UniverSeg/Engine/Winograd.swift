/// Winograd minimal filtering F(m x m, 3 x 3) (Lavin & Gray 2016): a 3x3 convolution computed on tiles of m x m
/// outputs from (m+2) x (m+2) inputs, as (m+2)^2 independent GEMMs over channels:
///   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A.
/// F(2x2) does 16 multiplies per 4 outputs (2.25x fewer than direct) with transform coefficients 0, ±1, ±1/2, so
/// its rounding is that of the direct method; F(4x4) does 36 per 16 (4x fewer) but its coefficients (up to 8 and
/// 1/24) amplify rounding (see docs/engine.md for measured errors).
public enum ConvolutionAlgorithm: String, Sendable, CaseIterable {
    /// im2col + sgemm: the direct method.
    case direct
    /// Winograd F(2x2, 3x3) for layers with at least `Winograd.minimumChannels` input channels.
    case winograd2x2
    /// Winograd F(4x4, 3x3), same rule.
    case winograd4x4
}

/// Transformed weights of one 3x3 layer: U[ξ][c][f], alpha² matrices of channels x features, in fp32 (`u`) or,
/// for bf16 GEMMs, packed in bf16 only (`bf16`; `u` is then empty).
struct WinogradWeights: Sendable {
    let transform: WinogradTransform
    let u: [Float]
    let bf16: BF16Matrix?
}

struct WinogradTransform: Sendable {
    let m: Int         // outputs per tile side
    let alpha: Int     // inputs per tile side (m + 2)
    /// Bᵀ and Aᵀ as matrices: the specialised kernels (F2x2, F4x4) implement these; a test checks that they agree.
    let bt: [Float]    // alpha x alpha
    let g: [Double]    // alpha x 3
    let at: [Float]    // m x alpha

    static let f2x2 = WinogradTransform(
        m: 2, alpha: 4,
        bt: [1, 0, -1, 0,
             0, 1, 1, 0,
             0, -1, 1, 0,
             0, 1, 0, -1],
        g: [1, 0, 0,
            0.5, 0.5, 0.5,
            0.5, -0.5, 0.5,
            0, 0, 1],
        at: [1, 1, 1, 0,
             0, 1, -1, -1])

    static let f4x4 = WinogradTransform(
        m: 4, alpha: 6,
        bt: [4, 0, -5, 0, 1, 0,
             0, -4, -4, 1, 1, 0,
             0, 4, -4, -1, 1, 0,
             0, -2, -1, 2, 1, 0,
             0, 2, -1, -2, 1, 0,
             0, 4, 0, -5, 0, 1],
        g: [1.0 / 4, 0, 0,
            -1.0 / 6, -1.0 / 6, -1.0 / 6,
            -1.0 / 6, 1.0 / 6, -1.0 / 6,
            1.0 / 24, 1.0 / 12, 1.0 / 6,
            1.0 / 24, -1.0 / 12, 1.0 / 6,
            0, 0, 1],
        at: [1, 1, 1, 1, 1, 0,
             0, 1, -1, 2, -2, 0,
             0, 1, 1, 4, 4, 0,
             0, 1, -1, 8, -8, 1])

    /// U[ξ][c][f] = (G g Gᵀ)[ξ] for the packed 3x3 weights `matrix[(tap * channels + c) * features + f]`,
    /// computed in double precision and rounded once. Factored as (G g) then (G g) Gᵀ, with the features of one
    /// input channel as the inner (contiguous, vectorised) loop: every model load transforms every 3x3 layer, so
    /// this is part of start-up.
    /// - Complexity: O(alpha² x channels x features).
    func transformWeights(_ matrix: [Float], channels: Int, features: Int) -> [Float] {
        let alpha = alpha
        var u = [Float](repeating: 0, count: alpha * alpha * channels * features)
        var left = [Double](repeating: 0, count: alpha * 3 * features)  // (G g)[i][v][f] for one input channel
        u.withUnsafeMutableBufferPointer { u in
            matrix.withUnsafeBufferPointer { matrix in
                g.withUnsafeBufferPointer { g in
                    left.withUnsafeMutableBufferPointer { left in
                        for c in 0 ..< channels {
                            for i in 0 ..< alpha {
                                for v in 0 ..< 3 {
                                    let row = left.baseAddress! + (i * 3 + v) * features
                                    let k0 = matrix.baseAddress! + ((0 * 3 + v) * channels + c) * features
                                    let k1 = matrix.baseAddress! + ((1 * 3 + v) * channels + c) * features
                                    let k2 = matrix.baseAddress! + ((2 * 3 + v) * channels + c) * features
                                    let g0 = g[i * 3], g1 = g[i * 3 + 1], g2 = g[i * 3 + 2]
                                    for f in 0 ..< features {
                                        row[f] = g0 * Double(k0[f]) + g1 * Double(k1[f]) + g2 * Double(k2[f])
                                    }
                                }
                            }
                            for i in 0 ..< alpha {
                                let l0 = left.baseAddress! + (i * 3) * features
                                let l1 = l0 + features, l2 = l1 + features
                                for j in 0 ..< alpha {
                                    let out = u.baseAddress! + ((i * alpha + j) * channels + c) * features
                                    let h0 = g[j * 3], h1 = g[j * 3 + 1], h2 = g[j * 3 + 2]
                                    for f in 0 ..< features { out[f] = Float(l0[f] * h0 + l1[f] * h1 + l2[f] * h2) }
                                }
                            }
                        }
                    }
                }
            }
        }
        return u
    }
}

enum Winograd {
    /// Layers with fewer input channels (the first layer's 1 to 3) stay direct: transforms would dominate.
    static let minimumChannels = 16
    /// Tiles per work item: fixed, so results do not depend on the thread count.
    static let tilesPerBlock = 128

    /// Same contract as `Conv.conv3x3`.
    static func conv3x3(_ inputs: [ConvInput], _ g: Geometry, _ weights: PackedConv, _ winograd: WinogradWeights,
                        into out: UnsafeMutablePointer<Float>, addend: UnsafePointer<Float>?, leaky: Bool,
                        workspace: Workspace, threads: Int) {
        let channels = weights.channels, features = weights.features
        let transform = winograd.transform
        let m = transform.m, a2 = transform.alpha * transform.alpha
        let tilesY = (g.height + m - 1) / m, tilesX = (g.width + m - 1) / m
        let tiles = g.count * tilesY * tilesX
        let blocks = (tiles + tilesPerBlock - 1) / tilesPerBlock
        let workers = min(threads, blocks)
        // The alpha² matrices of a block sit `stride` floats apart. The padding keeps them from mapping to the same
        // cache sets (an exact 32 KiB spacing made the 16 or 36 scattered stores thrash L1).
        let vStride = tilesPerBlock * channels + 16, mStride = tilesPerBlock * features + 16
        let vBuffers = (0 ..< workers).map { SharedFloats(workspace.scratch("winograd.v.\($0)", a2 * vStride)) }
        let mBuffers = (0 ..< workers).map { SharedFloats(workspace.scratch("winograd.m.\($0)", a2 * mStride)) }
        let bf16 = winograd.bf16
        let bf16Scratch = bf16 == nil ? []
            : (0 ..< workers).map { SharedFloats(workspace.scratch("bf16.\($0)", BF16.scratchFloats(k: channels))) }
        let output = SharedFloats(out)
        let addendShared = addend.map { SharedFloats($0) }
        BLAS.useCallingThreadOnly()
        winograd.u.withUnsafeBufferPointer { u in
            let uShared = u.baseAddress.map { SharedFloats($0) }
            let bias = weights.bias
            Parallel.forEach(blocks, threads: workers) { worker, block in
                let t0 = block * tilesPerBlock, t1 = min(tiles, t0 + tilesPerBlock), count = t1 - t0
                let v = vBuffers[worker].base, mm = mBuffers[worker].base
                inputTransform(inputs, g, tiles: t0 ..< t1, tilesY: tilesY, tilesX: tilesX, channels: channels,
                               transform: transform, into: v, stride: vStride)
                if let bf16 {
                    bf16.values.withUnsafeBufferPointer { packed in
                        for xi in 0 ..< a2 {
                            BF16.gemm(m: count, a: v + xi * vStride, b: packed.baseAddress! + xi * bf16.stride, k: channels,
                                      n: features, c: mm + xi * mStride, scratch: bf16Scratch[worker].base)
                        }
                    }
                } else {
                    for xi in 0 ..< a2 {
                        BLAS.sgemm(m: count, n: features, k: channels, a: v + xi * vStride,
                                   b: uShared!.base + xi * channels * features, c: mm + xi * mStride)
                    }
                }
                outputTransform(mm, stride: mStride, g, tiles: t0 ..< t1, tilesY: tilesY, tilesX: tilesX, features: features,
                                transform: transform, into: output.base, bias: bias, addend: addendShared?.base, leaky: leaky)
            }
        }
    }

    /// V[ξ][tile][c] = (Bᵀ d B)[ξ] for each tile's (alpha x alpha) input patch d (zeros outside the image).
    /// `avx512`: F(4x4) in C (`WinogradAVX512`, same results bitwise) instead of the Swift kernels.
    static func inputTransform(_ inputs: [ConvInput], _ g: Geometry, tiles: Range<Int>, tilesY: Int, tilesX: Int,
                               channels: Int, transform tr: WinogradTransform, into v: UnsafeMutablePointer<Float>,
                               stride: Int, avx512: Bool = WinogradAVX512.isSupported) {
        switch tr.m {
        case 2: inputTransform(F2x2.self, inputs, g, tiles: tiles, tilesY: tilesY, tilesX: tilesX, channels: channels, into: v, stride: stride)
        default:
            if avx512 {
                WinogradAVX512.input4x4(inputs, g, tiles: tiles, tilesY: tilesY, tilesX: tilesX, into: v, stride: stride)
            } else {
                inputTransform(F4x4.self, inputs, g, tiles: tiles, tilesY: tilesY, tilesX: tilesX, channels: channels, into: v, stride: stride)
            }
        }
    }

    private static func inputTransform<K: TileKernel>(_: K.Type, _ inputs: [ConvInput], _ g: Geometry, tiles: Range<Int>,
                                                      tilesY: Int, tilesX: Int, channels: Int,
                                                      into v: UnsafeMutablePointer<Float>, stride: Int) {
        let alpha = K.alpha, a2 = alpha * alpha
        withUnsafeTemporaryAllocation(of: Float.self, capacity: a2 * channels) { patch in
            withUnsafeTemporaryAllocation(of: SIMD4<Float>.self, capacity: a2) { lanes in
                let d = patch.baseAddress!, x = lanes.baseAddress!
                for (local, tile) in tiles.enumerated() {
                    let n = tile / (tilesY * tilesX), rest = tile - n * tilesY * tilesX
                    let y0 = (rest / tilesX) * K.m - 1, x0 = (rest % tilesX) * K.m - 1
                    for i in 0 ..< alpha {
                        for j in 0 ..< alpha {
                            let y = y0 + i, xx = x0 + j
                            var dst = d + (i * alpha + j) * channels
                            if y < 0 || y >= g.height || xx < 0 || xx >= g.width {
                                dst.update(repeating: 0, count: channels)
                            } else {
                                let pixel = (n * g.height + y) * g.width + xx
                                for input in inputs {
                                    dst.update(from: input.data.base + pixel * input.channels, count: input.channels)
                                    dst += input.channels
                                }
                            }
                        }
                    }
                    let raw = UnsafeRawPointer(d), out = UnsafeMutableRawPointer(v)
                    for c in Swift.stride(from: 0, to: channels, by: 4) {
                        for xi in 0 ..< a2 { x[xi] = raw.loadUnaligned(fromByteOffset: (xi * channels + c) * 4, as: SIMD4<Float>.self) }
                        for i in 0 ..< alpha { K.input(x + i * alpha, 1) }
                        for j in 0 ..< alpha { K.input(x + j, alpha) }
                        for xi in 0 ..< a2 {
                            out.storeBytes(of: x[xi], toByteOffset: (xi * stride + local * channels + c) * 4, as: SIMD4<Float>.self)
                        }
                    }
                }
            }
        }
    }

    /// Y = Aᵀ M A per tile, then bias, addend and activation; outputs beyond the image edge are dropped.
    /// `avx512` as for `inputTransform`.
    static func outputTransform(_ mm: UnsafeMutablePointer<Float>, stride: Int, _ g: Geometry, tiles: Range<Int>, tilesY: Int,
                                tilesX: Int, features: Int, transform tr: WinogradTransform,
                                into out: UnsafeMutablePointer<Float>, bias: [Float]?,
                                addend: UnsafeMutablePointer<Float>?, leaky: Bool, avx512: Bool = WinogradAVX512.isSupported) {
        (bias ?? [Float](repeating: 0, count: features)).withUnsafeBufferPointer { b in
            switch tr.m {
            case 2: outputTransform(F2x2.self, mm, stride: stride, g, tiles: tiles, tilesY: tilesY, tilesX: tilesX, features: features,
                                    into: out, bias: b.baseAddress!, addend: addend, leaky: leaky)
            default:
                if avx512 {
                    WinogradAVX512.output4x4(mm, stride: stride, g, tiles: tiles, tilesY: tilesY, tilesX: tilesX, features: features,
                                             into: out, bias: b.baseAddress!, addend: addend, leaky: leaky)
                } else {
                    outputTransform(F4x4.self, mm, stride: stride, g, tiles: tiles, tilesY: tilesY, tilesX: tilesX, features: features,
                                    into: out, bias: b.baseAddress!, addend: addend, leaky: leaky)
                }
            }
        }
    }

    private static func outputTransform<K: TileKernel>(_: K.Type, _ mm: UnsafeMutablePointer<Float>, stride: Int, _ g: Geometry,
                                                       tiles: Range<Int>, tilesY: Int, tilesX: Int, features: Int,
                                                       into out: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>,
                                                       addend: UnsafeMutablePointer<Float>?, leaky: Bool) {
        let alpha = K.alpha, a2 = alpha * alpha, m = K.m
        let slope = SIMD4<Float>(repeating: 0.01), zero = SIMD4<Float>(repeating: 0)
        withUnsafeTemporaryAllocation(of: SIMD4<Float>.self, capacity: a2) { lanes in
            let x = lanes.baseAddress!, raw = UnsafeRawPointer(mm)
            let biasRaw = UnsafeRawPointer(bias), outRaw = UnsafeMutableRawPointer(out)
            for (local, tile) in tiles.enumerated() {
                let n = tile / (tilesY * tilesX), rest = tile - n * tilesY * tilesX
                let y0 = (rest / tilesX) * m, x0 = (rest % tilesX) * m
                let rows = min(m, g.height - y0), cols = min(m, g.width - x0)
                for f in Swift.stride(from: 0, to: features, by: 4) {
                    for xi in 0 ..< a2 { x[xi] = raw.loadUnaligned(fromByteOffset: (xi * stride + local * features + f) * 4, as: SIMD4<Float>.self) }
                    for j in 0 ..< alpha { K.output(x + j, alpha) }
                    for i in 0 ..< m { K.output(x + i * alpha, 1) }
                    let b = biasRaw.loadUnaligned(fromByteOffset: f * 4, as: SIMD4<Float>.self)
                    for i in 0 ..< rows {
                        for j in 0 ..< cols {
                            let pixel = (y0 + i) * g.width + x0 + j
                            var value = x[i * alpha + j] + b
                            if let addend {
                                value += UnsafeRawPointer(addend).loadUnaligned(fromByteOffset: (pixel * features + f) * 4, as: SIMD4<Float>.self)
                            }
                            if leaky { value.replace(with: value * slope, where: value .< zero) }
                            outRaw.storeBytes(of: value, toByteOffset: ((n * g.pixels + pixel) * features + f) * 4, as: SIMD4<Float>.self)
                        }
                    }
                }
            }
        }
    }
}

/// The 1-D transforms of one Winograd variant, applied in place to `alpha` vectors at p[0], p[s], p[2s], ...
/// (Bᵀ for the input; Aᵀ for the output, which leaves its m results in the first m slots).
protocol TileKernel {
    static var m: Int { get }
    static var alpha: Int { get }
    static func input(_ p: UnsafeMutablePointer<SIMD4<Float>>, _ s: Int)
    static func output(_ p: UnsafeMutablePointer<SIMD4<Float>>, _ s: Int)
}

enum F2x2: TileKernel {
    static let m = 2, alpha = 4

    @inline(__always)
    static func input(_ p: UnsafeMutablePointer<SIMD4<Float>>, _ s: Int) {
        let d0 = p[0], d1 = p[s], d2 = p[2 * s], d3 = p[3 * s]
        p[0] = d0 - d2
        p[s] = d1 + d2
        p[2 * s] = d2 - d1
        p[3 * s] = d1 - d3
    }

    @inline(__always)
    static func output(_ p: UnsafeMutablePointer<SIMD4<Float>>, _ s: Int) {
        let m0 = p[0], m1 = p[s], m2 = p[2 * s], m3 = p[3 * s]
        p[0] = m0 + m1 + m2
        p[s] = m1 - m2 - m3
    }
}

enum F4x4: TileKernel {
    static let m = 4, alpha = 6

    @inline(__always)
    static func input(_ p: UnsafeMutablePointer<SIMD4<Float>>, _ s: Int) {
        let d0 = p[0], d1 = p[s], d2 = p[2 * s], d3 = p[3 * s], d4 = p[4 * s], d5 = p[5 * s]
        let four: Float = 4, five: Float = 5, two: Float = 2
        let a = d4 - four * d2, b = d3 - four * d1      // shared by rows 1 and 2
        let c = d4 - d2, e = two * (d3 - d1)            // shared by rows 3 and 4
        p[0] = four * d0 - five * d2 + d4
        p[s] = a + b
        p[2 * s] = a - b
        p[3 * s] = c + e
        p[4 * s] = c - e
        p[5 * s] = four * d1 - five * d3 + d5
    }

    @inline(__always)
    static func output(_ p: UnsafeMutablePointer<SIMD4<Float>>, _ s: Int) {
        let m0 = p[0], m1 = p[s], m2 = p[2 * s], m3 = p[3 * s], m4 = p[4 * s], m5 = p[5 * s]
        let sum12 = m1 + m2, diff12 = m1 - m2, sum34 = m3 + m4, diff34 = m3 - m4
        let two: Float = 2, four: Float = 4, eight: Float = 8
        p[0] = m0 + sum12 + sum34
        p[s] = diff12 + two * diff34
        p[2 * s] = sum12 + four * sum34
        p[3 * s] = diff12 + eight * diff34 + m5
    }
}
