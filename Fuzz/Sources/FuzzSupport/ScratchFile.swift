import Foundation

/// The readers take paths (libnifti and DCMTK open files themselves), so each input is written to a file in a
/// per-process folder on a RAM-backed file system when there is one.
public enum ScratchFile {
    public static let folder: URL = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let url = URL(fileURLWithPath: base).appendingPathComponent("universeg-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// Writes `bytes` to `name` in the scratch folder and returns its URL.
    public static func write(_ bytes: UnsafeRawBufferPointer, _ name: String) -> URL {
        let url = folder.appendingPathComponent(name)
        FileManager.default.createFile(atPath: url.path, contents: Data(bytes))
        return url
    }

    /// The input as text (lossy UTF-8 decoding, as the parsers see any file).
    public static func text(_ start: UnsafeRawPointer, _ count: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    }
}
