/// The query-independent part of a support set (see `PreparedSupport`).
struct SupportCache: Sendable {
    let count: Int
    let height: Int
    let width: Int
    /// pixels x 2: the mean over elements of [image, label].
    let meanInput: [Float]
    /// count x pixels x F0: the first block's support conv (no bias) applied to the support half of its cross conv
    /// (no bias). Both convs are linear, so the first block's per-element output is
    /// `LReLU(firstSupportPart[i] + support(crossQuery(query)))`: the per-element work of the most expensive level
    /// (full resolution) is done once per support set, not once per query.
    let firstSupportPart: [Float]
}

/// The UniverSeg forward pass, reorganised so that it computes exactly the official function (up to float32
/// rounding) with far less work. Three identities do it, all from the linearity of convolution, mean and upsampling:
///
/// 1. Split cross conv: conv([q, s_i]) = conv_q(q) + b + conv_s(s_i). The query half runs once, not S times.
/// 2. Mean interaction: the new query is mean_i conv([q, s_i]) = conv([q, mean_i s_i]), one conv on the mean
///    support input instead of S convs and a mean.
/// 3. The last block's support output is never used, and by (2) its query needs only the mean support input.
///    So the last block does no per-element work at all, and a skip or block output consumed only by the last
///    block is kept as a running mean, never per element (at 128x128 these are the largest tensors).
///
/// Plus: the first block's support-side part (its support conv of the cross conv's support half, both linear)
/// depends on the support set only, so `prepare` computes it once and a query adds only its own part.
/// Per-element support work that remains (S x ~1.9 GFLOP direct at 128x128, width 64) runs in element chunks of
/// about `chunkRows` pixels, batched into one GEMM per conv tile.
extension NetworkWeights {
    /// Pixels per batch of support elements: bounds scratch memory while keeping GEMMs large at coarse levels.
    static let chunkRows = 16_384

    private var lastBlockIsEncoder: Bool { decoder.isEmpty }

    func prepare(images: [[Float]], labels: [[Float]], height: Int, width: Int, workspace: Workspace, threads: Int) -> SupportCache {
        let count = images.count, pixels = height * width
        var input = [Float](repeating: 0, count: count * pixels * 2)
        var mean = [Float](repeating: 0, count: pixels * 2)
        for e in 0 ..< count {
            for p in 0 ..< pixels {
                input[(e * pixels + p) * 2] = images[e][p]
                input[(e * pixels + p) * 2 + 1] = labels[e][p]
            }
        }
        for e in 0 ..< count {
            for i in 0 ..< pixels * 2 { mean[i] += input[e * pixels * 2 + i] }
        }
        for i in mean.indices { mean[i] /= Float(count) }
        var first: [Float] = []
        if !(encoder.count == 1 && lastBlockIsEncoder) {
            let block = encoder[0], f = block.features
            first = [Float](repeating: 0, count: count * pixels * f)
            // In element chunks, so the intermediate cross-conv half never exists for the whole set at once.
            let size = chunk(count, pixels)
            let half = workspace.scratch("prepare.crosshalf", size * pixels * f)
            let supportConv = block.support.withoutBias
            input.withUnsafeBufferPointer { src in
                first.withUnsafeMutableBufferPointer { dst in
                    for start in stride(from: 0, to: count, by: size) {
                        let g = Geometry(count: min(size, count - start), height: height, width: width)
                        Conv.conv3x3([ConvInput(src.baseAddress! + start * pixels * 2, channels: 2)], g, block.crossSupport,
                                     into: half, leaky: false, workspace: workspace, threads: threads)
                        Conv.conv3x3([ConvInput(half, channels: f)], g, supportConv, into: dst.baseAddress! + start * pixels * f,
                                     leaky: false, workspace: workspace, threads: threads)
                    }
                }
            }
        }
        return SupportCache(count: count, height: height, width: width, meanInput: mean, firstSupportPart: first)
    }

    /// Logits (height x width) for one query image.
    func forward(query: [Float], support: SupportCache, workspace ws: Workspace, threads: Int) -> [Float] {
        query.withUnsafeBufferPointer { q in
            support.meanInput.withUnsafeBufferPointer { mean in
                support.firstSupportPart.withUnsafeBufferPointer { first in
                    forward(query: q.baseAddress!, support: support, meanInput: mean.baseAddress!,
                            firstSupportPart: first.baseAddress, ws: ws, threads: threads)
                }
            }
        }
    }

    /// One level's outputs: the query map, the support maps per element (only when a later block needs them one by
    /// one) and their mean.
    private struct Stream {
        let query: UnsafeMutablePointer<Float>
        let perElement: UnsafeMutablePointer<Float>?
        let mean: UnsafeMutablePointer<Float>
        let channels: Int
        let geometry: Geometry   // count 1
    }

    private func forward(query: UnsafePointer<Float>, support: SupportCache, meanInput: UnsafePointer<Float>,
                         firstSupportPart: UnsafePointer<Float>?, ws: Workspace, threads: Int) -> [Float] {
        ws.beginPass()
        let levels = encoder.count, blocks = encoder.count + decoder.count
        let count = support.count
        let inverse = 1 / Float(count)
        var g = Geometry(count: 1, height: support.height, width: support.width)

        // Encoder.
        var queryIn = [ConvInput(query, channels: 1)]
        var meanIn = [ConvInput(meanInput, channels: 2)]
        var supportIn: UnsafeMutablePointer<Float>? = nil
        var supportChannels = 2
        var skips: [Stream] = []
        // Level 0's pooled per-element maps (the largest per-element tensor) are dead once level 1 has read them;
        // the per-element maps made after that are placed in their memory (peak RSS, docs/engine.md "Memory").
        var recycled: Recycled? = nil
        for l in 0 ..< levels {
            let b = encoder[l], f = b.features, p = g.pixels
            let isBottleneck = l == levels - 1
            // Who consumes this level's support output: decoder block (levels - 2 - l) as a skip, or, for the
            // bottleneck, decoder block 0. It needs elements one by one only if it has a support path itself.
            let consumer = isBottleneck ? levels : levels + (levels - 2 - l)
            let keepPerElement = hasSupportPath(block: consumer, blocks: blocks)
            let qOut = ws.buffer("enc.q.\(l)", p * f)
            let outStore = keepPerElement ? recycled?.take(count * p * f) ?? ws.buffer("enc.s.\(l)", count * p * f) : nil
            let outMean = ws.buffer("enc.mean.\(l)", p * f)
            Elementwise.fill(outMean, count: p * f, with: 0)
            let pooled = isBottleneck ? nil : recycled?.take(count * p / 4 * f) ?? ws.buffer("enc.pooled.\(l)", count * p / 4 * f)
            let pooledMean = ws.buffer("enc.pooledmean.\(l)", p / 4 * f)
            Elementwise.fill(pooledMean, count: p / 4 * f, with: 0)

            let elementInput = supportIn, cs = supportChannels
            crossBlock(b, g, query: queryIn, supportMean: meanIn, queryOut: qOut,
                       perElement: hasSupportPath(block: l, blocks: blocks), count: count,
                       cachedSupportPart: l == 0 ? firstSupportPart : nil,
                       supportInputs: { range in [ConvInput(elementInput! + range.lowerBound * p * cs, channels: cs)] },
                       destination: { range in outStore.map { $0 + range.lowerBound * p * f } },
                       sink: { out, range in
                           Elementwise.accumulate(out, images: range.count, size: p * f, into: outMean)
                           if let pooled {
                               let dst = pooled + range.lowerBound * p / 4 * f
                               Resample.maxPool2x2(out, g.with(count: range.count), channels: f, into: dst)
                               Elementwise.accumulate(dst, images: range.count, size: p / 4 * f, into: pooledMean)
                           }
                       }, ws: ws, threads: threads)
            if l >= 1, case .none = recycled, let elementInput { recycled = Recycled(elementInput, count: count * p * cs) }
            Elementwise.scale(outMean, count: p * f, by: inverse)
            Elementwise.scale(pooledMean, count: p / 4 * f, by: inverse)
            skips.append(Stream(query: qOut, perElement: outStore, mean: outMean, channels: f, geometry: g))
            if !isBottleneck {
                let qPooled = ws.buffer("enc.qpooled.\(l)", p / 4 * f)
                Resample.maxPool2x2(qOut, g, channels: f, into: qPooled)
                queryIn = [ConvInput(qPooled, channels: f)]
                meanIn = [ConvInput(pooledMean, channels: f)]
                supportIn = pooled
                supportChannels = f
                g = g.halved
            }
        }

        // Decoder: upsample the previous level, concatenate the skip (by reading both as conv inputs).
        var previous = skips[levels - 1]
        for (j, b) in decoder.enumerated() {
            let skip = skips[levels - 2 - j]
            let g = skip.geometry, p = g.pixels, f = b.features, cp = previous.channels, cskip = skip.channels
            let upQuery = ws.scratch("dec.upquery", p * cp)
            Resample.upsample2x(previous.query, previous.geometry, channels: cp, into: upQuery)
            let upMean = ws.scratch("dec.upmean", p * cp)
            Resample.upsample2x(previous.mean, previous.geometry, channels: cp, into: upMean)

            let block = levels + j
            let keepPerElement = hasSupportPath(block: block + 1, blocks: blocks)
            let qOut = ws.buffer("dec.q.\(j)", p * f)
            let outStore = keepPerElement ? recycled?.take(count * p * f) ?? ws.buffer("dec.s.\(j)", count * p * f) : nil
            let outMean = ws.buffer("dec.mean.\(j)", p * f)
            Elementwise.fill(outMean, count: p * f, with: 0)
            let hasPath = hasSupportPath(block: block, blocks: blocks)
            let upSupport = hasPath ? ws.scratch("dec.upsupport", chunk(count, p) * p * cp) : nil
            let prev = previous
            crossBlock(b, g, query: [ConvInput(upQuery, channels: cp), ConvInput(skip.query, channels: cskip)],
                       supportMean: [ConvInput(upMean, channels: cp), ConvInput(skip.mean, channels: cskip)],
                       queryOut: qOut, perElement: hasPath, count: count, cachedSupportPart: nil,
                       supportInputs: { range in
                           Resample.upsample2x(prev.perElement! + range.lowerBound * p / 4 * cp,
                                               prev.geometry.with(count: range.count), channels: cp, into: upSupport!)
                           return [ConvInput(upSupport!, channels: cp),
                                   ConvInput(skip.perElement! + range.lowerBound * p * cskip, channels: cskip)]
                       },
                       destination: { range in outStore.map { $0 + range.lowerBound * p * f } },
                       sink: { out, range in Elementwise.accumulate(out, images: range.count, size: p * f, into: outMean) },
                       ws: ws, threads: threads)
            Elementwise.scale(outMean, count: p * f, by: inverse)
            previous = Stream(query: qOut, perElement: outStore, mean: outMean, channels: f, geometry: g)
        }

        // 1x1 output conv on the query.
        let p = previous.geometry.pixels, f = previous.channels
        var logits = [Float](repeating: outBias, count: p)
        for i in 0 ..< p {
            let row = previous.query + i * f
            var sum: Float = 0
            for c in 0 ..< f { sum += row[c] * outWeights[c] }
            logits[i] += sum
        }
        return logits
    }

    /// Memory of dead per-element maps, handed out again front to back for maps made later in the same pass.
    private struct Recycled {
        private var next: UnsafeMutablePointer<Float>
        private var left: Int
        init(_ base: UnsafeMutablePointer<Float>, count: Int) { (next, left) = (base, count) }

        /// `count` floats, 64-byte aligned like workspace buffers, or nil when they no longer fit.
        mutating func take(_ count: Int) -> UnsafeMutablePointer<Float>? {
            let size = (count + 15) / 16 * 16
            guard size <= left else { return nil }
            defer { next += size; left -= size }
            return next
        }
    }

    /// Block index in 0..<blocks (encoder first). Every block but the last has per-element support work; an index
    /// past the last block (no consumer) has none.
    private func hasSupportPath(block: Int, blocks: Int) -> Bool { block < blocks - 1 }

    private func chunk(_ count: Int, _ pixels: Int) -> Int { max(1, min(count, Self.chunkRows / pixels)) }

    /// One CrossBlock. Query path: `queryOut = LReLU(target(crossFull([query, supportMean])))`. Support path (when
    /// `perElement`), per chunk of elements: `LReLU(support(crossQuery(query) + crossSupport(s_i)))`, written where
    /// `destination` says (or to scratch) and then handed to `sink`.
    private func crossBlock(_ b: CrossBlockWeights, _ g: Geometry, query: [ConvInput], supportMean: [ConvInput],
                            queryOut: UnsafeMutablePointer<Float>, perElement: Bool, count: Int,
                            cachedSupportPart: UnsafePointer<Float>?,
                            supportInputs: (Range<Int>) -> [ConvInput],
                            destination: (Range<Int>) -> UnsafeMutablePointer<Float>?,
                            sink: (UnsafePointer<Float>, Range<Int>) -> Void,
                            ws: Workspace, threads: Int) {
        let f = b.features, p = g.pixels
        let meanInteraction = ws.scratch("block.meaninteraction", p * f)
        Conv.conv3x3(query + supportMean, g, b.crossFull, into: meanInteraction, leaky: false, workspace: ws, threads: threads)
        Conv.conv3x3([ConvInput(meanInteraction, channels: f)], g, b.target, into: queryOut, leaky: true, workspace: ws, threads: threads)
        guard perElement else { return }

        let fromQuery = ws.scratch("block.fromquery", p * f)
        Conv.conv3x3(query, g, b.crossQuery, into: fromQuery, leaky: false, workspace: ws, threads: threads)
        let size = chunk(count, p)
        let scratch = ws.scratch("block.out", size * p * f)
        if let cachedSupportPart {
            // support(crossQuery(q) + crossSupport(s_i)) = support(crossQuery(q)) + cached part i (both linear).
            let queryPart = ws.scratch("block.querypart", p * f)
            Conv.conv3x3([ConvInput(fromQuery, channels: f)], g, b.support, into: queryPart, leaky: false, workspace: ws, threads: threads)
            for start in stride(from: 0, to: count, by: size) {
                let range = start ..< min(count, start + size)
                let out = destination(range) ?? scratch
                for e in 0 ..< range.count {
                    Elementwise.addLeaky(cachedSupportPart + (range.lowerBound + e) * p * f, queryPart, count: p * f,
                                         into: out + e * p * f)
                }
                sink(out, range)
            }
            return
        }
        let interaction = ws.scratch("block.interaction", size * p * f)
        for start in stride(from: 0, to: count, by: size) {
            let range = start ..< min(count, start + size)
            let gc = g.with(count: range.count)
            Conv.conv3x3(supportInputs(range), gc, b.crossSupport, into: interaction, addend: fromQuery, leaky: false,
                         workspace: ws, threads: threads)
            let out = destination(range) ?? scratch
            Conv.conv3x3([ConvInput(interaction, channels: f)], gc, b.support, into: out, leaky: true, workspace: ws, threads: threads)
            sink(out, range)
        }
    }
}
