import Foundation

/// One of N parts of a run: shard K processes exactly the studies whose name hashes to K.
///
/// The rule: `FNV-1a-64(UTF-8 bytes of the study name) mod N`. It depends on nothing but the name and N, so every
/// node computes the same split without talking to the others, every study is in exactly one shard, and adding or
/// removing a study never moves another one (changing N does; finished studies are still skipped, because every
/// shard reads every shard's ledger).
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw ShardError("the shard count must be at least 1, not \(count)") }
        guard (0..<count).contains(index) else {
            throw ShardError("shard index \(index) is outside 0...\(count - 1) (shards are numbered from 0)")
        }
        self.index = index
        self.count = count
    }

    /// The shard that owns `study` (a study's name, as in the ledger and output names) among `count`.
    public static func index(of study: String, count: Int) -> Int {
        Int(FNV1a.hash(study.utf8) % UInt64(count))
    }

    public func owns(_ study: String) -> Bool { Self.index(of: study, count: count) == index }

    /// `K/N` as users write it.
    public var description: String { "\(index)/\(count)" }
    /// The shard's part of file names: `shard-K-of-N`.
    public var fileTag: String { "shard-\(index)-of-\(count)" }

    /// Parses `K/N`, `auto/N` or `auto`. `auto` takes the index from the scheduler: SLURM_ARRAY_TASK_ID (SLURM job
    /// arrays) or JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs); the count is N when given, else the SLURM array's
    /// own size, accepted only for a whole array numbered from 0 (a resubmitted single element would otherwise
    /// count as an array of one).
    public static func parse(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Shard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2, let first = parts.first else { throw ShardError("'\(text)' is not K/N, auto/N or auto") }
        var count: Int?
        if parts.count == 2 {
            guard let n = Int(parts[1]) else { throw ShardError("'\(parts[1])' in '\(text)' is not a shard count") }
            count = n
        }
        guard first == "auto" else {
            guard let k = Int(first), let count else { throw ShardError("'\(text)' is not K/N, auto/N or auto") }
            return try Shard(index: k, count: count)
        }
        let slurm = environment["SLURM_ARRAY_TASK_ID"], kubernetes = environment["JOB_COMPLETION_INDEX"]
        guard let raw = slurm ?? kubernetes else {
            throw ShardError("--shard auto needs SLURM_ARRAY_TASK_ID (a SLURM job array) or JOB_COMPLETION_INDEX "
                             + "(a Kubernetes Indexed Job) in the environment; neither is set")
        }
        let variable = slurm != nil ? "SLURM_ARRAY_TASK_ID" : "JOB_COMPLETION_INDEX"
        guard let k = Int(raw) else { throw ShardError("\(variable)='\(raw)' is not a number") }
        if let count { return try Shard(index: k, count: count) }
        guard slurm != nil else {
            throw ShardError("a Kubernetes Indexed Job does not tell the shard count: give it as --shard auto/N")
        }
        guard let n = environment["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init),
              environment["SLURM_ARRAY_TASK_MIN"].flatMap(Int.init) == 0,
              environment["SLURM_ARRAY_TASK_MAX"].flatMap(Int.init) == n - 1 else {
            throw ShardError("this SLURM array is not numbered 0...N-1 as a whole (a resubmitted element?): "
                             + "give the shard count as --shard auto/N")
        }
        return try Shard(index: k, count: n)
    }
}

public struct ShardError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
