/// A convolution's weights packed as the right-hand GEMM operand of an im2col convolution:
/// `matrix[(tap * channels + c) * features + f]` for taps in row-major (ky, kx) order, so an im2col row that lists,
/// for each tap, the input pixel's channels in order multiplies straight into it.
struct PackedConv: Sendable {
    let taps: Int          // 9 (3x3) or 1 (1x1)
    let channels: Int      // input channels this packing covers
    let features: Int      // output channels
    /// (taps * channels) x features; empty once the layer runs from other weights (Winograd's, or bf16), to save memory.
    private(set) var matrix: [Float]
    private(set) var bias: [Float]?  // features, or nil when the caller adds its own
    /// Set when this layer runs as a Winograd convolution.
    var winograd: WinogradWeights? = nil
    /// `matrix` in bf16, set when the im2col GEMM of this layer runs in bf16 (`BF16Rule`).
    var bf16: BF16Matrix? = nil

    var rows: Int { taps * channels }

    /// Packs input channels `range` of a PyTorch conv weight (features, inChannels, k, k).
    /// - Complexity: O(features * range.count * k * k).
    init(torch weight: WeightTensor, channels range: Range<Int>, bias: [Float]?) {
        let features = weight.shape[0], inChannels = weight.shape[1], taps = weight.shape[2] * weight.shape[3]
        var matrix = [Float](repeating: 0, count: taps * range.count * features)
        for f in 0 ..< features {
            for (ci, c) in range.enumerated() {
                for t in 0 ..< taps {
                    matrix[(t * range.count + ci) * features + f] = weight.values[(f * inChannels + c) * taps + t]
                }
            }
        }
        self.taps = taps
        self.channels = range.count
        self.features = features
        self.matrix = matrix
        self.bias = bias
    }

    /// The same layer with no bias (the linear part alone); Winograd weights are shared.
    var withoutBias: PackedConv {
        var copy = self
        copy.bias = nil
        return copy
    }

    /// This layer set up for `algorithm` and `precision` (`.bf16` only where the CPU has it). Layers with few input
    /// channels (transforms would dominate) or channel counts that are not multiples of 4 (the transforms run 4
    /// channels at a time) stay direct. In bf16 a GEMM operand is kept in bf16 only (its fp32 copy is dropped).
    func using(_ algorithm: ConvolutionAlgorithm, _ precision: Precision) -> PackedConv {
        var copy = self
        let winogradTransform: WinogradTransform? = switch algorithm {
        case .direct: nil
        case .winograd2x2: .f2x2
        case .winograd4x4: .f4x4
        }
        if let transform = winogradTransform, taps == 9, channels >= Winograd.minimumChannels, channels % 4 == 0,
           features % 4 == 0 {
            let u = transform.transformWeights(matrix, channels: channels, features: features)
            copy.winograd = precision == .bf16
                ? WinogradWeights(transform: transform, u: [], bf16: u.withUnsafeBufferPointer {
                    BF16Matrix($0.baseAddress!, k: channels, n: features, count: transform.alpha * transform.alpha) })
                : WinogradWeights(transform: transform, u: u, bf16: nil)
            copy.matrix = []
        } else if precision == .bf16, rows >= BF16Rule.minimumIm2colDepth {
            copy.bf16 = matrix.withUnsafeBufferPointer { BF16Matrix($0.baseAddress!, k: rows, n: features) }
            copy.matrix = []
        }
        return copy
    }
}

/// One CrossBlock: the cross conv (split into its query and support halves, and whole for the mean pass), then the
/// per-stream convs `target` (query) and `support`.
struct CrossBlockWeights: Sendable {
    let queryChannels: Int
    let supportChannels: Int
    let features: Int
    /// Cross conv over [query, support] channels with bias: applied to [query, mean support] gives the mean interaction.
    let crossFull: PackedConv
    /// Query half with the bias: computed once per query.
    let crossQuery: PackedConv
    /// Support half without bias: computed per support element.
    let crossSupport: PackedConv
    let target: PackedConv
    let support: PackedConv
}

/// The first CrossBlock's layer pairs with no activation between them, each run as one 5x5 convolution on its few
/// input channels (`ComposedConv`).
struct FirstBlockComposites: Sendable {
    /// target(crossFull([query, mean support])): the query path, before its LeakyReLU.
    let query: ComposedConv
    /// support(crossQuery(query)): the query's share of every element's support path (with both biases).
    let queryPart: ComposedConv
    /// support(crossSupport(element)), no biases: each element's own share, computed once per support set.
    let supportPart: ComposedConv

    /// From the first block's fp32 layers as `NetworkWeights` packs them (query channels first in the cross conv).
    init(crossFull: PackedConv, crossQuery: PackedConv, crossSupport: PackedConv, target: PackedConv, support: PackedConv) {
        query = ComposedConv(inner: crossFull, outer: target)
        queryPart = ComposedConv(inner: crossQuery, outer: support)
        supportPart = ComposedConv(inner: crossSupport, outer: support.withoutBias)
    }
}

/// Validated UniverSeg weights of any width and depth (read from the tensor shapes).
///
/// Invariant: `decoder.count == encoder.count - 1`, and every block's channels chain as in the official model.
struct NetworkWeights: Sendable {
    let encoder: [CrossBlockWeights]
    let decoder: [CrossBlockWeights]
    /// The first encoder block's layers as the forward pass runs them (`encoder[0]`'s packings are not run, and
    /// not transformed for the algorithm or precision).
    let first: FirstBlockComposites
    let outWeights: [Float]
    let outBias: Float

    var encoderWidths: [Int] { encoder.map(\.features) }
    var decoderWidths: [Int] { decoder.map(\.features) }

    init(_ tensors: [String: WeightTensor], file: String, algorithm: ConvolutionAlgorithm = .direct,
         precision: Precision = .fp32) throws {
        var unused = Set(tensors.keys)
        var first: FirstBlockComposites? = nil   // set by the first `block` call (encoder block 0)
        func tensor(_ key: String, _ expected: [Int?]) throws -> WeightTensor {
            guard let t = tensors[key] else { throw UniverSegError(file: file, "missing weight '\(key)'") }
            let matches = t.shape.count == expected.count && zip(t.shape, expected).allSatisfy { $1 == nil || $0 == $1 }
            guard matches else {
                let want = expected.map { $0.map(String.init) ?? "*" }.joined(separator: ", ")
                throw UniverSegError(file: file, "weight '\(key)' has shape \(t.shape.shapeText), expected [\(want)]")
            }
            unused.remove(key)
            return t
        }
        func block(_ prefix: String, query cq: Int, support cs: Int) throws -> CrossBlockWeights {
            let crossW = try tensor("\(prefix).cross.cross_conv.weight", [nil, cq + cs, 3, 3])
            let f = crossW.shape[0]
            guard f > 0 else { throw UniverSegError(file: file, "weight '\(prefix).cross.cross_conv.weight' has no features") }
            let crossB = try tensor("\(prefix).cross.cross_conv.bias", [f]).values
            let targetW = try tensor("\(prefix).target.vmapped.conv.weight", [f, f, 3, 3])
            let targetB = try tensor("\(prefix).target.vmapped.conv.bias", [f]).values
            let supportW = try tensor("\(prefix).support.vmapped.conv.weight", [f, f, 3, 3])
            let supportB = try tensor("\(prefix).support.vmapped.conv.bias", [f]).values
            let crossFull = PackedConv(torch: crossW, channels: 0 ..< cq + cs, bias: crossB)
            let crossQuery = PackedConv(torch: crossW, channels: 0 ..< cq, bias: crossB)
            let crossSupport = PackedConv(torch: crossW, channels: cq ..< cq + cs, bias: nil)
            let target = PackedConv(torch: targetW, channels: 0 ..< f, bias: targetB)
            let support = PackedConv(torch: supportW, channels: 0 ..< f, bias: supportB)
            // Encoder block 0 runs as `first`'s composites, so its own packings are kept as loaded: transforming
            // them for Winograd and bf16 would be start-up work for layers the forward pass never runs.
            let runsComposed = first == nil
            if runsComposed {
                first = FirstBlockComposites(crossFull: crossFull, crossQuery: crossQuery, crossSupport: crossSupport,
                                             target: target, support: support)
            }
            func ready(_ conv: PackedConv) -> PackedConv { runsComposed ? conv : conv.using(algorithm, precision) }
            return CrossBlockWeights(
                queryChannels: cq, supportChannels: cs, features: f,
                crossFull: ready(crossFull), crossQuery: ready(crossQuery), crossSupport: ready(crossSupport),
                target: ready(target), support: ready(support))
        }

        guard tensors["enc_blocks.0.cross.cross_conv.weight"] != nil else {
            let some = tensors.keys.sorted().prefix(3).joined(separator: ", ")
            throw UniverSegError(file: file, "not UniverSeg weights: no 'enc_blocks.0.cross.cross_conv.weight' "
                + "(\(tensors.count) tensors, e.g. \(some.isEmpty ? "none" : some))")
        }
        var encoder: [CrossBlockWeights] = []
        var cq = 1, cs = 2  // query image; support image + label
        while tensors["enc_blocks.\(encoder.count).cross.cross_conv.weight"] != nil {
            let b = try block("enc_blocks.\(encoder.count)", query: cq, support: cs)
            encoder.append(b)
            cq = b.features
            cs = b.features
        }
        var decoder: [CrossBlockWeights] = []
        while tensors["dec_blocks.\(decoder.count).cross.cross_conv.weight"] != nil {
            let j = decoder.count
            let skipLevel = encoder.count - 2 - j
            guard skipLevel >= 0 else {
                throw UniverSegError(file: file, "weights have \(encoder.count) encoder blocks but a 'dec_blocks.\(j)': "
                    + "a UniverSeg decoder has one block fewer than the encoder")
            }
            let skip = encoder[skipLevel].features
            let b = try block("dec_blocks.\(j)", query: cq + skip, support: cs + skip)
            decoder.append(b)
            cq = b.features
            cs = b.features
        }
        guard decoder.count == encoder.count - 1 else {
            throw UniverSegError(file: file, "weights have \(encoder.count) encoder blocks and \(decoder.count) decoder blocks; "
                + "UniverSeg needs \(encoder.count - 1) decoder blocks to return to full resolution")
        }
        let outW = try tensor("out_conv.conv.weight", [1, cq, 1, 1])
        let outB = try tensor("out_conv.conv.bias", [1])
        if let extra = unused.sorted().first {
            throw UniverSegError(file: file, "unexpected weight '\(extra)' (not part of a UniverSeg model with "
                + "encoder widths \(encoder.map(\.features)) and decoder widths \(decoder.map(\.features)))")
        }
        if let bad = tensors.first(where: { !$0.value.values.allSatisfy(\.isFinite) })?.key {
            throw UniverSegError(file: file, "weight '\(bad)' contains NaN or infinite values")
        }
        self.encoder = encoder
        self.decoder = decoder
        self.first = first!   // the check for 'enc_blocks.0' above guarantees a first block
        self.outWeights = outW.values
        self.outBias = outB.values[0]
    }
}
