import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Byte-range locks on one open file: Linux open-file-description (OFD) locks, which belong to this handle rather
/// than to the process (two handles in one process exclude each other, and closing another handle on the file
/// releases nothing). The kernel drops them when the process ends, however it ends; NFS carries them to the server.
final class RegionLock {
    enum Kind { case shared, exclusive }

    let path: String
    private let descriptor: Int32

    init(path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw PipelineError.unavailable("cannot open the lock file (\(String(cString: strerror(errno))))", file: path)
        }
        self.path = path
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Takes `kind` on `length` bytes from `start` (length 0: to the end of every possible file) without waiting;
    /// false when another handle holds a conflicting lock. Taking a region this handle already holds converts it.
    func take(_ kind: Kind, from start: Int, length: Int) -> Bool {
        var request = Self.request(kind == .shared ? F_RDLCK : F_WRLCK, start, length)
        return fcntl(descriptor, Self.setLock, &request) == 0
    }

    func release(from start: Int, length: Int) {
        var request = Self.request(F_UNLCK, start, length)
        _ = fcntl(descriptor, Self.setLock, &request)
    }

    /// The start of a lock another handle holds that would stop `kind` on the region, or nil when it is free.
    func conflict(_ kind: Kind, from start: Int, length: Int) -> Int? {
        var probe = Self.request(kind == .shared ? F_RDLCK : F_WRLCK, start, length)
        guard fcntl(descriptor, Self.getLock, &probe) == 0, Int32(probe.l_type) != F_UNLCK else { return nil }
        return Int(probe.l_start)
    }

    /// Replaces the file's text (a note naming the holder, for the error the next process prints).
    func write(note: String) {
        _ = ftruncate(descriptor, 0)
        _ = note.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    func note() -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func request(_ type: Int32, _ start: Int, _ length: Int) -> Glibc.flock {
        var request = Glibc.flock()
        request.l_type = Int16(type)
        request.l_whence = Int16(SEEK_SET)
        request.l_start = off_t(start)
        request.l_len = off_t(length)
        return request
    }

    // F_OFD_GETLK and F_OFD_SETLK (linux/fcntl.h); Glibc's Swift module does not export them.
    private static let getLock: Int32 = 36
    private static let setLock: Int32 = 37
}
