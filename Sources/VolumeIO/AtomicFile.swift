import Foundation

/// Writes outputs so that a crash never leaves a half-written file: write to a temporary name beside the
/// destination, then rename over it (rename is atomic within one filesystem). A batch of one `StagedFiles`.
public enum AtomicFile {
    /// Calls `write` with a temporary path in the destination's folder, then renames it to `destination`.
    /// The temporary file is removed if `write` or the rename fails.
    public static func write(to destination: URL, _ write: (URL) throws -> Void) throws {
        var files = StagedFiles()
        defer { files.discard() }
        try files.stage(destination, write)
        try files.commit()
    }

    /// Writes `data` atomically to `destination`.
    public static func write(_ data: Data, to destination: URL) throws {
        try write(to: destination) { try data.write(to: $0) }
    }
}
