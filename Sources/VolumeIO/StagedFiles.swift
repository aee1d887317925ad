import Foundation

/// Files that should appear together or not at all: a study's label map, SEG, probabilities, QC image and report.
/// Each is written under a temporary name beside its destination; `commit()` renames them all into place once
/// every write has succeeded. Until then the destinations keep what they held (a previous run's outputs stay
/// whole), and `discard()` removes the temporaries of a batch that failed.
public struct StagedFiles {
    private var staged: [(temporary: URL, destination: URL)] = []

    public init() {}

    /// Calls `write` with a temporary path in `destination`'s folder (same extension) and keeps it for `commit()`.
    /// Throws what `write` throws, after removing its partial file.
    public mutating func stage(_ destination: URL, _ write: (URL) throws -> Void) throws {
        let folder = destination.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = Self.temporaryURL(for: destination)
        do {
            try write(temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        staged.append((temporary, destination))
    }

    /// Renames every staged file onto its destination (each rename is atomic within one filesystem). A destination
    /// that is a folder would stop the renames halfway, so that is checked for all of them first.
    public mutating func commit() throws {
        for (_, destination) in staged {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: destination.path, isDirectory: &isFolder), isFolder.boolValue {
                throw CocoaError(.fileWriteFileExists, userInfo: [NSFilePathErrorKey: destination.path,
                                                                  NSLocalizedDescriptionKey: "\(destination.path) is a folder"])
            }
        }
        while !staged.isEmpty {
            let (temporary, destination) = staged[0]
            if rename(temporary.path, destination.path) != 0 {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination.path,
                                                               NSLocalizedDescriptionKey: String(cString: strerror(errno))])
            }
            staged.removeFirst()
        }
    }

    /// A hidden, unique name beside `destination`, ending in its name so libraries that infer the format from the
    /// extension (".nii.gz") still do. BatchRun removes leftovers of killed runs by the `.tmp-` prefix.
    static func temporaryURL(for destination: URL) -> URL {
        destination.deletingLastPathComponent()
            .appendingPathComponent(".tmp-\(UUID().uuidString.prefix(8))-\(destination.lastPathComponent)")
    }

    /// Removes the temporaries not yet committed.
    public mutating func discard() {
        for (temporary, _) in staged { try? FileManager.default.removeItem(at: temporary) }
        staged = []
    }
}
