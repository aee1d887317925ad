/// The query-independent part of a support set (see `PreparedSupport`).
struct SupportCache: Sendable {
    let count: Int
    let height: Int
    let width: Int
    /// 2 x pixels, planar: the mean over elements of the support images, then of the labels.
    let meanInput: [Float]
    let first: FirstBlockSupport
}

/// What the first block's support path starts from. Its per-element output is
/// `LReLU(supportPart(element) + support(crossQuery(query)))` (both convs linear), and `supportPart` depends on the
/// support set only.
enum FirstBlockSupport: Sendable {
    /// count x pixels x F0: supportPart of every element, computed once for many queries (4 MiB per element at
    /// 128x128, width 64).
    case cached([Float])
    /// count x 2 x pixels, planar (each element's image, then its label): for a set used by one query, which computes
    /// supportPart one chunk of elements at a time and so never holds the whole cache.
    case inputs([Float])
    /// The model has no per-element work in its first block (a single-block network).
    case unused

    var byteCount: Int {
        switch self {
        case .cached(let values), .inputs(let values): values.count * MemoryLayout<Float>.size
        case .unused: 0
        }
    }
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
/// Plus, in the first block, whose inputs have 1 to 3 channels: its cross conv and the conv after it have no
/// activation between them, so each pair runs as one 5x5 convolution (`ComposedConv`); and the support side's pair
/// depends on the support set only, so `prepare` computes it once and a query adds only its own part.
/// Per-element support work that remains (S x ~1.9 GFLOP direct at 128x128, width 64) runs in element chunks of
/// about `chunkRows` pixels, batched into one GEMM per conv tile.
extension NetworkWeights {
    /// Pixels per batch of support elements: bounds scratch memory while keeping GEMMs large at coarse levels.
    static let chunkRows = 16_384

    func prepare(images: [[Float]], labels: [[Float]], height: Int, width: Int, cachingFirstBlock: Bool,
                 workspace: Workspace, threads: Int) -> SupportCache {
        let count = images.count, pixels = height * width
        // Planar: element e's image plane, then its label plane.
        var input = [Float](repeating: 0, count: count * pixels * 2)
        var mean = [Float](repeating: 0, count: pixels * 2)
        for e in 0 ..< count {
            for p in 0 ..< pixels {
                input[2 * e * pixels + p] = images[e][p]
                input[(2 * e + 1) * pixels + p] = labels[e][p]
            }
        }
        for e in 0 ..< count {
            for i in 0 ..< pixels * 2 { mean[i] += input[e * pixels * 2 + i] }
        }
        for i in mean.indices { mean[i] /= Float(count) }
        let support: FirstBlockSupport
        if !hasSupportPath(block: 0, blocks: encoder.count + decoder.count) {
            support = .unused
        } else if !cachingFirstBlock {
            support = .inputs(input)
        } else {
            let size = count * pixels * encoder[0].features
            support = .cached([Float](unsafeUninitializedCapacity: size) { dst, initialized in
                HugePages.advise(UnsafeMutableRawPointer(dst.baseAddress!), byteCount: size * 4)
                input.withUnsafeBufferPointer { src in
                    first.supportPart.apply(planar: src.baseAddress!, Geometry(count: count, height: height, width: width),
                                            into: dst.baseAddress!, leaky: false, workspace: workspace, threads: threads)
                }
                initialized = size
            })
        }
        return SupportCache(count: count, height: height, width: width, meanInput: mean, first: support)
    }

    /// Logits (height x width) for one query image.
    func forward(query: [Float], support: SupportCache, workspace ws: Workspace, threads: Int) -> [Float] {
        query.withUnsafeBufferPointer { q in
            support.meanInput.withUnsafeBufferPointer { mean in
                let run = { (first: FirstSupportPointer?) in
                    forward(query: q.baseAddress!, support: support, meanInput: mean.baseAddress!, firstSupport: first,
                            ws: ws, threads: threads)
                }
                switch support.first {
                case .cached(let values): return values.withUnsafeBufferPointer { run((cached: true, data: $0.baseAddress!)) }
                case .inputs(let values): return values.withUnsafeBufferPointer { run((cached: false, data: $0.baseAddress!)) }
                case .unused: return run(nil)
                }
            }
        }
    }

    /// `FirstBlockSupport`'s floats during a pass: the cached supportPart of every element, or the planar inputs.
    private typealias FirstSupportPointer = (cached: Bool, data: UnsafePointer<Float>)

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
                         firstSupport: FirstSupportPointer?, ws: Workspace, threads: Int) -> [Float] {
        ws.beginPass()
        let levels = encoder.count, blocks = encoder.count + decoder.count
        let count = support.count
        let inverse = 1 / Float(count)
        var g = Geometry(count: 1, height: support.height, width: support.width)

        // Encoder.
        // Level 0 runs composed from the planar inputs (`firstCrossBlock`); these are the NHWC inputs of level 1 on.
        var queryIn: [ConvInput] = []
        var meanIn: [ConvInput] = []
        var supportIn: UnsafeMutablePointer<Float>? = nil
        var supportChannels = 2
        var skips: [Stream] = []
        for l in 0 ..< levels {
            let b = encoder[l], f = b.features, p = g.pixels
            let isBottleneck = l == levels - 1
            // Who consumes this level's support output: decoder block (levels - 2 - l) as a skip, or, for the
            // bottleneck, decoder block 0. It needs elements one by one only if it has a support path itself.
            let consumer = isBottleneck ? levels : levels + (levels - 2 - l)
            let keepPerElement = hasSupportPath(block: consumer, blocks: blocks)
            let qOut = ws.buffer("enc.q.\(l)", p * f)
            // The per-element input (the level above's pooled maps) is dead after this level, so a kept output no
            // wider than it overwrites it, chunk by chunk: each chunk's input is read before its output is written,
            // and the output of chunk i lies within the inputs of chunks 0...i (docs/engine.md, "Memory now").
            let inPlace = l >= 1 && f <= supportChannels ? supportIn : nil
            let outStore = keepPerElement ? inPlace ?? ws.buffer("enc.s.\(l)", count * p * f) : nil
            let outMean = ws.buffer("enc.mean.\(l)", p * f)
            Elementwise.fill(outMean, count: p * f, with: 0)
            let pooled = isBottleneck ? nil : ws.buffer("enc.pooled.\(l)", count * p / 4 * f)
            let pooledMean = ws.buffer("enc.pooledmean.\(l)", p / 4 * f)
            Elementwise.fill(pooledMean, count: p / 4 * f, with: 0)

            let elementInput = supportIn, cs = supportChannels
            let destination = { (range: Range<Int>) in outStore.map { $0 + range.lowerBound * p * f } }
            let sink = { (out: UnsafePointer<Float>, range: Range<Int>) in
                Elementwise.accumulate(out, images: range.count, size: p * f, into: outMean)
                if let pooled {
                    let dst = pooled + range.lowerBound * p / 4 * f
                    Resample.maxPool2x2(out, g.with(count: range.count), channels: f, into: dst)
                    Elementwise.accumulate(dst, images: range.count, size: p / 4 * f, into: pooledMean)
                }
            }
            if l == 0 {
                firstCrossBlock(first, g, query: query, supportMean: meanInput, queryOut: qOut,
                                perElement: hasSupportPath(block: l, blocks: blocks), count: count,
                                firstSupport: firstSupport,
                                destination: destination, sink: sink, ws: ws, threads: threads)
            } else {
                crossBlock(b, g, query: queryIn, supportMean: meanIn, queryOut: qOut,
                           perElement: hasSupportPath(block: l, blocks: blocks), count: count,
                           supportInputs: { range in [ConvInput(elementInput! + range.lowerBound * p * cs, channels: cs)] },
                           destination: destination, sink: sink, ws: ws, threads: threads)
            }
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
            let outStore = keepPerElement ? ws.buffer("dec.s.\(j)", count * p * f) : nil
            let outMean = ws.buffer("dec.mean.\(j)", p * f)
            Elementwise.fill(outMean, count: p * f, with: 0)
            let hasPath = hasSupportPath(block: block, blocks: blocks)
            let upSupport = hasPath ? ws.scratch("dec.upsupport", chunk(count, p) * p * cp) : nil
            let prev = previous
            crossBlock(b, g, query: [ConvInput(upQuery, channels: cp), ConvInput(skip.query, channels: cskip)],
                       supportMean: [ConvInput(upMean, channels: cp), ConvInput(skip.mean, channels: cskip)],
                       queryOut: qOut, perElement: hasPath, count: count,
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

    /// Block index in 0..<blocks (encoder first). Every block but the last has per-element support work; an index
    /// past the last block (no consumer) has none.
    private func hasSupportPath(block: Int, blocks: Int) -> Bool { block < blocks - 1 }

    private func chunk(_ count: Int, _ pixels: Int) -> Int { max(1, min(count, Self.chunkRows / pixels)) }

    /// One CrossBlock. Query path: `queryOut = LReLU(target(crossFull([query, supportMean])))`. Support path (when
    /// `perElement`), per chunk of elements: `LReLU(support(crossQuery(query) + crossSupport(s_i)))`, written where
    /// `destination` says (or to scratch) and then handed to `sink`.
    private func crossBlock(_ b: CrossBlockWeights, _ g: Geometry, query: [ConvInput], supportMean: [ConvInput],
                            queryOut: UnsafeMutablePointer<Float>, perElement: Bool, count: Int,
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

    /// The first CrossBlock from planar inputs, its layer pairs composed (`FirstBlockComposites`). Query path:
    /// `queryOut = LReLU(target(crossFull([query, supportMean])))`; support path (when `perElement`): element i's
    /// output is `LReLU(supportPart(i) + support(crossQuery(query)))`, handed to `destination` and `sink` per chunk.
    /// `firstSupport` points at the cached supportPart of every element, or at the planar inputs to compute it from.
    private func firstCrossBlock(_ composites: FirstBlockComposites, _ g: Geometry, query: UnsafePointer<Float>,
                                 supportMean: UnsafePointer<Float>, queryOut: UnsafeMutablePointer<Float>,
                                 perElement: Bool, count: Int, firstSupport: FirstSupportPointer?,
                                 destination: (Range<Int>) -> UnsafeMutablePointer<Float>?,
                                 sink: (UnsafePointer<Float>, Range<Int>) -> Void, ws: Workspace, threads: Int) {
        let f = composites.query.features, p = g.pixels
        let planes = ws.scratch("first.planes", 3 * p)
        planes.update(from: query, count: p)
        (planes + p).update(from: supportMean, count: 2 * p)
        composites.query.apply(planar: planes, g, into: queryOut, leaky: true, workspace: ws, threads: threads)
        guard perElement, let firstSupport else { return }

        let queryPart = ws.scratch("first.querypart", p * f)
        composites.queryPart.apply(planar: query, g, into: queryPart, leaky: false, workspace: ws, threads: threads)
        let size = chunk(count, p)
        let scratch = ws.scratch("block.out", size * p * f)
        for start in stride(from: 0, to: count, by: size) {
            let range = start ..< min(count, start + size)
            let out = destination(range) ?? scratch
            if firstSupport.cached {
                for e in 0 ..< range.count {
                    Elementwise.addLeaky(firstSupport.data + (range.lowerBound + e) * p * f, queryPart, count: p * f,
                                         into: out + e * p * f)
                }
            } else {
                composites.supportPart.apply(planar: firstSupport.data + range.lowerBound * 2 * p, g.with(count: range.count),
                                             into: out, leaky: false, workspace: ws, threads: threads)
                for e in 0 ..< range.count {
                    Elementwise.addLeaky(out + e * p * f, queryPart, count: p * f, into: out + e * p * f)
                }
            }
            sink(out, range)
        }
    }
}
