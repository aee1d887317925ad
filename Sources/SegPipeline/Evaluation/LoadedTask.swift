import Foundation
import VolumeIO

/// A task with every volume read and sliced, and its support pool: the support slices that show foreground.
public struct LoadedTask: Sendable {
    /// A slice of one of the task's volumes.
    public struct SliceRef: Sendable, Hashable {
        public var volume: Int
        public var slice: Int
    }

    public var task: EvaluationTask
    public var support: [SlicedVolume]
    public var query: [SlicedVolume]
    /// Support slices with foreground on the model grid, volume by volume in slice order.
    public var pool: [SliceRef]

    /// Reads and slices every volume. Throws when no support slice or no query slice shows foreground (there
    /// would be nothing to learn from, or nothing to score in 2D).
    public init(_ task: EvaluationTask) throws {
        self.task = task
        let support = try task.support.map { try SlicedVolume.load($0, config: task.config) }
        let query = try task.query.map { try SlicedVolume.load($0, config: task.config) }
        self.support = support
        self.query = query
        pool = support.indices.flatMap { v in support[v].foregroundSlices.map { SliceRef(volume: v, slice: $0) } }
        let target = task.config.labels.map { "label values \($0.sorted())" } ?? "labels > 0"
        guard !pool.isEmpty else {
            throw EvaluationError(task.folder.appendingPathComponent("support").path, "no support slice shows foreground (\(target))")
        }
        guard query.contains(where: { !$0.foregroundSlices.isEmpty }) else {
            throw EvaluationError(task.folder.appendingPathComponent("query").path, "no query slice shows foreground (\(target))")
        }
    }

    /// The support set of ensemble member `member` for support size `size`: pool indices, sorted.
    ///
    /// `size` distinct slices drawn uniformly without replacement from the pool, with a generator seeded by
    /// (`seed`, size, member), so a member's set does not depend on how many members or sizes a run has. When the
    /// pool has `size` slices or fewer, the set is the whole pool (no slice is repeated: a duplicate adds no
    /// information and only reweights UniverSeg's mean over support elements), and every member gets that set.
    public func draw(size: Int, member: Int, seed: UInt64) -> [Int] {
        precondition(size >= 1)
        guard pool.count > size else { return Array(pool.indices) }
        var generator = SeededGenerator(seed: seed, ["support", String(size), String(member)])
        return generator.distinctIndices(size, of: pool.count).sorted()
    }

    /// Notes on the task as built, e.g. support and query cut with different fields of view.
    var warnings: [String] {
        let note = FieldOfView.mismatch(supportPixelSizes: pool.map { support[$0.volume].slices.mapping.pixelSize },
                                        studyPixel: query.map(\.slices.mapping.pixelSize).sorted()[query.count / 2],
                                        support: "the support")
        return note.map { [$0] } ?? []
    }

    /// Model images and labels of a support set (pool indices).
    func supportArrays(_ set: [Int]) -> (images: [[Float]], labels: [[Float]]) {
        (set.map { support[pool[$0].volume].slices.slices[pool[$0].slice] },
         set.map { support[pool[$0].volume].masks[pool[$0].slice] })
    }

    /// Every query slice with foreground: what the 2D Dice is averaged over.
    var foregroundQuerySlices: [SliceRef] {
        query.indices.flatMap { q in query[q].foregroundSlices.map { SliceRef(volume: q, slice: $0) } }
    }

    /// Every slice of every query volume: what the 3D Dice needs.
    var allQuerySlices: [SliceRef] {
        query.indices.flatMap { q in query[q].masks.indices.map { SliceRef(volume: q, slice: $0) } }
    }
}
