import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Holds an output folder for a run, a watch, or one shard of a sharded run, so two processes never segment and
/// write the same studies at once (a cron job overlapping the previous one, a `run` beside a `watch`, a shard
/// submitted twice, shards of two different splits).
///
/// One lock file, `.universeg.lock`, arbitrates: a whole run or watch holds all of it exclusively; the shards of an
/// N-way split share byte N, and refuse to start while anything else in the file is held (another split, a whole
/// run). Each shard also holds `.universeg-shard-K-of-N.lock` exclusively, so a second copy of one shard is refused.
/// The lock files name their holder, for the error the next process prints.
final class OutputFolderLock {
    enum Scope: Sendable {
        case whole
        case shard(Shard)
    }

    private let folderLock: RegionLock
    private let shardLock: RegionLock?

    /// Takes the folder (created if needed) for `scope`, or throws naming who holds it. `whileAlone` runs when no
    /// other process holds any part of the folder (always for `.whole`; for a shard, only when no other shard runs):
    /// the moment to remove what killed runs left behind.
    init(_ folder: URL, scope: Scope = .whole, whileAlone: () -> Void = {}) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        folderLock = try RegionLock(path: folder.appendingPathComponent(".universeg.lock").path)
        let holder = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName), since \(Clock.timestamp())\n"
        switch scope {
        case .whole:
            guard folderLock.take(.exclusive, from: 0, length: 0) else {
                throw Self.inUse(folder, by: folderLock.conflict(.exclusive, from: 0, length: 0), note: folderLock.note())
            }
            folderLock.write(note: holder)
            shardLock = nil
            whileAlone()
        case .shard(let shard):
            let lock = try RegionLock(path: folder.appendingPathComponent(".universeg-\(shard.fileTag).lock").path)
            guard lock.take(.exclusive, from: 0, length: 0) else {
                throw PipelineError.unavailable("shard \(shard) is already running (\(lock.note()))", file: folder.path,
                                                hint: "wait for it to end; a finished shard's studies are skipped when it is run again")
            }
            // Alone: every byte from 1 on is ours for a moment (byte 0 is only ever taken with all the others, by a
            // whole run); others see a clearing shard by its lock starting at byte 1.
            let alone = folderLock.take(.exclusive, from: 1, length: 0)
            if alone { whileAlone() }
            // Taking the split's byte (converting it, when alone) and then giving up the rest is never seen
            // half-done by another process: it is refused while the exclusive lock stands, and finds byte N shared
            // afterwards.
            try Self.takeSplitByte(folderLock, count: shard.count, folder: folder)
            if alone {
                if shard.count > 1 { folderLock.release(from: 1, length: shard.count - 1) }   // length 0 would mean "to the end"
                folderLock.release(from: shard.count + 1, length: 0)
            }
            if let other = folderLock.conflict(.exclusive, from: 0, length: shard.count)
                ?? folderLock.conflict(.exclusive, from: shard.count + 1, length: 0) {
                throw Self.inUse(folder, by: other, note: folderLock.note())
            }
            lock.write(note: holder)
            shardLock = lock
        }
    }

    /// Shares byte `count` of the folder lock, waiting while another shard clears leftovers (it holds every byte
    /// from 1 for as long as that takes), but not for a whole run (its lock starts at byte 0).
    private static func takeSplitByte(_ folderLock: RegionLock, count: Int, folder: URL) throws {
        let deadline = Date().addingTimeInterval(300)
        while !folderLock.take(.shared, from: count, length: 1) {
            let holder = folderLock.conflict(.shared, from: count, length: 1)
            if holder != nil && holder != 1 { throw inUse(folder, by: holder, note: folderLock.note()) }
            guard Date() < deadline else {
                throw PipelineError.unavailable("another shard has been clearing leftovers of killed runs for 5 minutes",
                                                file: folder.path, hint: "see which universeg process holds .universeg.lock")
            }
            usleep(50_000)
        }
    }

    /// The error for a folder held by someone else: `start` is where their lock begins (0: a whole run or watch,
    /// N: the shards of an N-way split; a clearing shard's 1 is waited for, never reported).
    private static func inUse(_ folder: URL, by start: Int?, note: String) -> PipelineError {
        if let count = start, count > 0 {
            // Byte 1 is also where a shard clearing leftovers holds the file.
            return PipelineError.unavailable(count == 1 ? "in use by a universeg shard" : "in use by the shards of a \(count)-way split", file: folder.path,
                                             hint: "every shard of one run must use the same count; wait for them to end or use another output folder")
        }
        return PipelineError.unavailable("in use by another universeg run" + (note.isEmpty ? "" : " (\(note))"),
                                         file: folder.path, hint: "wait for it to end or use another output folder")
    }
}
