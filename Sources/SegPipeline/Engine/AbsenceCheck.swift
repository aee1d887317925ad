/// Is what the network drew in a volume the target at all? The network always draws something like its support,
/// even where the structure is absent; this checks the drawing in reverse. The query slices with the largest
/// predicted areas, with their predictions as labels, become a support set, and the network segments labelled
/// support slices with it: a drawing of the real structure finds the real structure again (high Dice against the
/// known labels), a false shape on something else does not.
public struct AbsenceCheck: Sendable, Equatable {
    /// Below this mean reverse Dice, the target is judged absent and the volume's prediction is dropped.
    public var threshold: Double
    /// Query slices used as the reverse support set, and labelled slices it is tried on.
    public var supportSize = 8
    public var probes = 4

    public init(threshold: Double) { self.threshold = threshold }

    /// The mean reverse Dice, or nil when nothing was predicted (no check needed) or no labelled slice exists.
    static func score(queries: [ModelSlice], probabilities: [ModelSlice], pool: [SupportExample],
                      supportSize: Int, probes probeCount: Int, segmenter: any Segmenter) throws -> Double? {
        let drawn = probabilities.indices.map { k in probabilities[k].pixels.reduce(0) { $1 >= 0.5 ? $0 + 1 : $0 } }
        let chosen = drawn.indices.filter { drawn[$0] > 0 }.sorted { (drawn[$0], $1) > (drawn[$1], $0) }.prefix(supportSize)
        guard !chosen.isEmpty else { return nil }
        let reverse = chosen.map { k in
            SupportExample(image: queries[k], mask: ModelMask(pixels: probabilities[k].pixels), source: "query", slice: k,
                           position: 0, foreground: drawn[k], pixelSize: 0)
        }
        // The labelled slices with the most foreground: where a real structure is clearest.
        let labelled = pool.filter { $0.foreground > 0 }.sorted { $0.foreground > $1.foreground }
        let probes = evenlySpread(labelled, count: probeCount)
        guard !probes.isEmpty else { return nil }
        let found = try segmenter.probabilities(queries: probes.map(\.image), supportSets: [reverse]) { _ in }
        let dice = zip(found, probes).map { prediction, probe in
            Dice.score(probabilities: prediction.pixels, mask: probe.mask.pixels)
        }
        return dice.reduce(0, +) / Double(dice.count)
    }

    /// `count` items spread over `items` (all of them when there are fewer).
    private static func evenlySpread<T>(_ items: [T], count: Int) -> [T] {
        guard items.count > count else { return items }
        return (0..<count).map { items[$0 * items.count / count] }
    }
}
