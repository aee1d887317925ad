import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Holds an output folder for one `run` or `watch` at a time, so two processes never segment and write the same
/// studies at once (a cron job overlapping the previous one, a `run` beside a `watch`).
///
/// An flock(2) on `.universeg.lock` in the folder: the kernel drops it when the process ends, however it ends, so
/// a killed run never leaves the folder held. The file names the holder, for the error the next process prints.
final class OutputFolderLock {
    private let descriptor: Int32

    /// Takes the folder (created if needed), or throws naming the process that holds it.
    init(_ folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent(".universeg.lock").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw PipelineError.unavailable("cannot create the lock file (\(String(cString: strerror(errno))))", file: path)
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw PipelineError.unavailable("in use by another universeg run" + (holder.map { $0.isEmpty ? "" : " (\($0))" } ?? ""),
                                            file: folder.path, hint: "wait for it to end or use another output folder")
        }
        let note = "pid \(getpid()), since \(Clock.timestamp())\n"
        _ = ftruncate(fd, 0)
        _ = note.withCString { pwrite(fd, $0, strlen($0), 0) }
        descriptor = fd
    }

    deinit { close(descriptor) }
}
