import Foundation

/// Writes outputs so that a crash never leaves a half-written file: write to a temporary name beside the
/// destination, then rename over it (rename is atomic within one filesystem).
public enum AtomicFile {
    /// Calls `write` with a temporary path in the destination's folder, then renames it to `destination`.
    /// The temporary file is removed if `write` throws.
    public static func write(to destination: URL, _ write: (URL) throws -> Void) throws {
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = temporaryURL(for: destination)
        do {
            try write(temporary)
            if rename(temporary.path, destination.path) != 0 {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination.path,
                                                               NSLocalizedDescriptionKey: String(cString: strerror(errno))])
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// A hidden, unique name beside `destination`, ending in its name so libraries that infer the format from the
    /// extension (".nii.gz") still do.
    static func temporaryURL(for destination: URL) -> URL {
        destination.deletingLastPathComponent()
            .appendingPathComponent(".tmp-\(UUID().uuidString.prefix(8))-\(destination.lastPathComponent)")
    }

    /// Writes `data` atomically to `destination`.
    public static func write(_ data: Data, to destination: URL) throws {
        try write(to: destination) { try data.write(to: $0) }
    }
}
