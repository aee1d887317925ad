/// One target segmented on every slice of one volume: support sets chosen by `SupportSelector`, then the engine,
/// group by group. The job graph's infer stage and `evaluate` both run this, so evaluation scores what users get.
public struct VolumeSegmentation: Sendable {
    /// Foreground probability of every query slice; blank slices stay 0.
    public var probabilities: [ModelSlice]
    /// Every support example used, once each, in first-use order.
    public var supportUsed: [SupportExample]

    /// Blank slices (one intensity throughout) take no part: not segmented, not in the position bins or the
    /// similarity ranking, since the network draws shapes even on an empty image. `progress` is told the number of
    /// slices done so far.
    public init(queries: [ModelSlice], blank: [Bool], positions: [Double], pool: [SupportExample],
                request: SupportSelector.Request, target: String, segmenter: any Segmenter,
                progress: (Int) -> Void = { _ in }) throws {
        precondition(queries.count == blank.count && queries.count == positions.count)
        let active = queries.indices.filter { !blank[$0] }
        let groups = try SupportSelector.plan(queries: active.map { queries[$0] }, positions: active.map { positions[$0] },
                                              pool: pool, request, target: target)
        probabilities = [ModelSlice](repeating: .zero, count: queries.count)
        supportUsed = []
        var seen = Set<String>(), done = 0
        for group in groups {
            let members = group.queries.map { active[$0] }
            let before = done
            let result = try segmenter.probabilities(queries: members.map { queries[$0] },
                                                     supportSets: group.supportSets) { progress(before + $0) }
            guard result.count == members.count else {
                throw PipelineError.unavailable("the engine returned \(result.count) slices for \(members.count) queries")
            }
            for (slot, index) in members.enumerated() { probabilities[index] = result[slot] }
            for example in group.supportSets.joined() where seen.insert("\(example.source):\(example.slice)").inserted {
                supportUsed.append(example)
            }
            done = before + members.count
        }
    }
}
