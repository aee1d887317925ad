import Foundation
import VolumeIO

/// What one shard saw when it started (`shards/plan-shard-K-of-N.json`), so the run's summary can be made from the
/// output folder alone and name studies that no shard finished, even those of a shard that never ran.
public struct ShardPlan: Codable, Sendable, Equatable {
    public var pipeline: String
    public var pipelineFingerprint: String
    public var shard: Int
    public var shardCount: Int
    /// Every study of the run (all shards'), done before or not; the rule says which are this shard's.
    public var studies: [String]
    public var startedAt: String
    public var host: String

    public static func folder(in outputFolder: URL) -> URL { outputFolder.appendingPathComponent("shards") }

    public func write(to outputFolder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let url = Self.folder(in: outputFolder).appendingPathComponent("plan-shard-\(shard)-of-\(shardCount).json")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(try encoder.encode(self), to: url)
    }

    /// The plans of the most recent split (the count of the newest plan): plans of an older split are history.
    public static func latest(in outputFolder: URL) -> [ShardPlan] {
        let folder = Self.folder(in: outputFolder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let plans = names.filter { $0.hasPrefix("plan-shard-") && $0.hasSuffix(".json") }.compactMap {
            (try? Data(contentsOf: folder.appendingPathComponent($0))).flatMap { try? JSONDecoder().decode(ShardPlan.self, from: $0) }
        }
        guard let newest = plans.max(by: { $0.startedAt < $1.startedAt }) else { return [] }
        return plans.filter { $0.shardCount == newest.shardCount }.sorted { $0.shard < $1.shard }
    }
}
