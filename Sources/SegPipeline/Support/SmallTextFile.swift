import Foundation

/// Reads the small text files a user names (pipeline definitions, task.yaml) with a reason a user can act on
/// when that fails, and a size limit: a definition is a few kilobytes, so a path to a huge file or to a device
/// such as /dev/zero is refused before it is read instead of filling memory.
public enum SmallTextFile {
    /// The largest definition file read: 1 MiB.
    public static let maximumBytes = 1 << 20

    /// The text of `url`, or the reason it cannot be read ("no such file", "is a folder, not a file", ...).
    public static func read(_ url: URL) -> Result<String, Problem> {
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            return .failure(Problem(errno == ENOENT ? "no such file" : "cannot read it: \(String(cString: strerror(errno)))"))
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: return .failure(Problem("is a folder, not a file"))
        default: return .failure(Problem("is not a regular file (a device, pipe or socket)"))
        }
        guard info.st_size <= maximumBytes else {
            return .failure(Problem("is \(info.st_size) bytes; a definition file is at most \(maximumBytes) bytes"))
        }
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            return .failure(Problem("cannot read it: \(String(cString: strerror(errno)))"))
        }
        defer { try? handle.close() }
        // Read at most one byte past the limit: the file may have grown since stat.
        let data: Data
        do { data = try handle.read(upToCount: maximumBytes + 1) ?? Data() } catch {
            return .failure(Problem("cannot read it: \(error.localizedDescription)"))
        }
        guard data.count <= maximumBytes else { return .failure(Problem("is larger than \(maximumBytes) bytes")) }
        guard let text = String(data: data, encoding: .utf8) else { return .failure(Problem("is not UTF-8 text")) }
        return .success(text)
    }

    /// Why a file could not be read, without the file's name (the caller's error carries it).
    public struct Problem: Error, Sendable {
        public var reason: String
        init(_ reason: String) { self.reason = reason }
    }
}
