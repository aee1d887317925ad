/// Chooses the support examples each query slice is segmented with.
///
/// Query slices are split into groups that share support sets, so the engine prepares each set once per group:
/// - `random`: one group; each ensemble member draws `size` slices containing the target (seeded; all of them
///   when fewer exist).
/// - `position` (the default): `groups` bins along the slicing axis; each bin takes the examples nearest its slices'
///   mean relative position (both volumes measured from their inferior/posterior/left end), empty masks included,
///   so slices beyond the structure learn "nothing here".
/// - `aligned`: as `position`, with each support volume's positions first aligned to the study's by image
///   similarity (`alignedPositions`), for support that covers another stretch of the body.
/// - `similarity`: the same bins, ranked instead by normalized cross-correlation between the bin's mean query image
///   and each example (at 32 x 32).
/// For the binned strategies with an ensemble (K > 1), each member draws `size` examples from the best 2 x `size`,
/// so members differ.
public enum SupportSelector {
    public struct Group: Sendable {
        /// Indices of the query slices this group covers.
        public var queries: [Int]
        /// One support set per ensemble member.
        public var supportSets: [[SupportExample]]
    }

    public struct Request: Sendable {
        public var strategy: SupportStrategy
        public var size: Int
        public var ensemble: Int
        public var groups: Int
        public var seed: UInt64
        /// Study and target names, mixed into the seed so each gets its own repeatable draw.
        public var streamName: [String]

        public init(strategy: SupportStrategy, size: Int, ensemble: Int, groups: Int, seed: UInt64, streamName: [String]) {
            self.strategy = strategy
            self.size = size
            self.ensemble = ensemble
            self.groups = groups
            self.seed = seed
            self.streamName = streamName
        }
    }

    public static func plan(queries: [ModelSlice], positions: [Double], pool: [SupportExample],
                            _ request: Request, target: String) throws -> [Group] {
        precondition(queries.count == positions.count)
        guard !queries.isEmpty else { return [] }
        guard pool.contains(where: { $0.foreground > 0 }) else {
            throw PipelineError.noSupport(target: target, reason: "no support slice contains the target's labels")
        }
        var rng = SeededGenerator(seed: request.seed, request.streamName)
        guard request.strategy != .random else {
            // Only slices that show the target, all of them when fewer exist: topping up with empty slices pulls
            // predictions toward "nothing here", which erases small structures (the same rule as `evaluate`).
            let positives = pool.filter { $0.foreground > 0 }
            let count = min(request.size, positives.count)
            let sets = (0..<request.ensemble).map { _ in draw(count, from: positives, filler: [], using: &rng) }
            return [Group(queries: Array(queries.indices), supportSets: sets)]
        }
        let binCount = max(1, min(request.groups, queries.count))
        var bins = [[Int]](repeating: [], count: binCount)
        for (index, position) in positions.enumerated() {
            bins[min(binCount - 1, Int(position * Double(binCount)))].append(index)
        }
        let ranking = Ranking(strategy: request.strategy, queries: queries, positions: positions, pool: pool)
        return bins.filter { !$0.isEmpty }.map { members in
            let examples = ranking.ranked(for: members).map { pool[$0] }
            let sets: [[SupportExample]]
            if request.ensemble == 1 {
                sets = [draw(request.size, from: Array(examples.prefix(request.size)), filler: examples, using: &rng)]
            } else {
                let window = Array(examples.prefix(2 * request.size))
                sets = (0..<request.ensemble).map { _ in draw(request.size, from: window, filler: examples, using: &rng) }
            }
            return Group(queries: members, supportSets: sets)
        }
    }

    /// Orders the pool for a group of query slices, best first, by the strategy's measure.
    struct Ranking {
        let strategy: SupportStrategy
        let queries: [ModelSlice]
        let positions: [Double]
        let pool: [SupportExample]
        let thumbnails: [[Float]]
        /// `aligned`: each query slice's position in each support volume.
        let aligned: [String: [Double]]

        init(strategy: SupportStrategy, queries: [ModelSlice], positions: [Double], pool: [SupportExample]) {
            self.strategy = strategy
            self.queries = queries
            self.positions = positions
            self.pool = pool
            thumbnails = strategy == .position ? [] : pool.map { SupportSelector.thumbnail($0.image) }
            aligned = strategy == .aligned
                ? SupportSelector.alignedPositions(queries: queries, positions: positions, pool: pool, thumbnails: thumbnails)
                : [:]
        }

        /// Pool indices, best first for the query slices `members`; ties go to the earlier example.
        func ranked(for members: [Int]) -> [Int] {
            func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
            switch strategy {
            case .similarity:
                let probe = SupportSelector.thumbnail(SupportSelector.mean(members.map { queries[$0] }))
                let scores = thumbnails.map { SupportSelector.correlation(probe, $0) }
                return pool.indices.sorted { (-scores[$0], $0) < (-scores[$1], $1) }
            default:
                // Where the group lies in each support volume: its own mean position, or the aligned one.
                let own = mean(members.map { positions[$0] })
                let centres = aligned.mapValues { along in mean(members.map { along[$0] }) }
                let distance = pool.map { abs($0.position - (centres[$0.source] ?? own)) }
                return pool.indices.sorted { (distance[$0], $0) < (distance[$1], $1) }
            }
        }
    }

    /// For each support volume (by source name), each query slice's position in that volume: the position of its
    /// most alike slice there, smoothed by a running median over up to 7 neighbouring query slices (a symmetric
    /// window, so a steady run of matches stays as it is) so one odd match does not move a slice far. Query slices
    /// with no alike slice (flat images) take their own position.
    static func alignedPositions(queries: [ModelSlice], positions: [Double], pool: [SupportExample],
                                 thumbnails: [[Float]]) -> [String: [Double]] {
        let probes = queries.map(thumbnail)
        var result: [String: [Double]] = [:]
        for source in Set(pool.map(\.source)) {
            let members = pool.indices.filter { pool[$0].source == source }
            let matched = probes.indices.map { q -> Double in
                var best = 0.0, matchedPosition = positions[q]
                for i in members {
                    let score = correlation(probes[q], thumbnails[i])
                    if score > best { best = score; matchedPosition = pool[i].position }
                }
                return matchedPosition
            }
            result[source] = matched.indices.map { q in
                let half = min(3, q, matched.count - 1 - q)
                let window = matched[(q - half)...(q + half)].sorted()
                return window[window.count / 2]
            }
        }
        return result
    }

    /// `count` examples: a random subset of `preferred`, topped up from `filler`, repeating when both run short.
    static func draw(_ count: Int, from preferred: [SupportExample], filler: [SupportExample],
                     using rng: inout SeededGenerator) -> [SupportExample] {
        var chosen = rng.distinctIndices(count, of: preferred.count).map { preferred[$0] }
        if chosen.count < count {
            let rest = filler.filter { candidate in !chosen.contains { $0.source == candidate.source && $0.slice == candidate.slice } }
            chosen += rng.distinctIndices(count - chosen.count, of: rest.count).map { rest[$0] }
        }
        let base = chosen.isEmpty ? preferred + filler : chosen
        while chosen.count < count, !base.isEmpty { chosen.append(base[Int.random(in: 0..<base.count, using: &rng)]) }
        return chosen
    }

    static func mean(_ slices: [ModelSlice]) -> ModelSlice {
        var sum = [Float](repeating: 0, count: ModelSlice.side * ModelSlice.side)
        for slice in slices { for i in sum.indices { sum[i] += slice.pixels[i] } }
        let scale = 1 / Float(max(1, slices.count))
        return ModelSlice(pixels: sum.map { $0 * scale })
    }

    /// 32 x 32 box-averaged copy.
    static func thumbnail(_ slice: ModelSlice) -> [Float] {
        let side = ModelSlice.side, small = 32, factor = side / small
        var out = [Float](repeating: 0, count: small * small)
        for y in 0..<side { for x in 0..<side { out[(y / factor) * small + x / factor] += slice.pixels[y * side + x] } }
        return out
    }

    /// Pearson correlation; 0 when either image is flat.
    static func correlation(_ a: [Float], _ b: [Float]) -> Double {
        let n = Double(a.count)
        let ma = a.reduce(0) { $0 + Double($1) } / n, mb = b.reduce(0) { $0 + Double($1) } / n
        var ab = 0.0, aa = 0.0, bb = 0.0
        for i in a.indices {
            let da = Double(a[i]) - ma, db = Double(b[i]) - mb
            ab += da * db; aa += da * da; bb += db * db
        }
        return aa > 0 && bb > 0 ? ab / (aa * bb).squareRoot() : 0
    }
}
