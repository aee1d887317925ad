import Foundation

/// Keeps outputs off inputs: "inputs are never modified", not even by a destination that names one.
///
/// An output may not be an input file, nor lie inside an input folder (a study's DICOM folder, a support library):
/// a file added there is read back as part of the input next time (a SEG taken for a slice, a label map for half
/// a support pair). Paths are compared after resolving symbolic links.
public enum InputGuard {
    /// The input (file or folder) that `output` would overwrite or land inside, or nil when it is clear of all.
    public static func input(containing output: URL, inputs: [URL]) -> URL? {
        let target = resolved(output)
        return inputs.first { input in
            let root = resolved(input)
            return target == root || target.hasPrefix(root.hasSuffix("/") ? root : root + "/")
        }
    }

    /// The path with symbolic links resolved, also when the last components do not exist yet.
    static func resolved(_ url: URL) -> String {
        var existing = url.standardizedFileURL
        var missing: [String] = []
        while !FileManager.default.fileExists(atPath: existing.path), existing.pathComponents.count > 1 {
            missing.insert(existing.lastPathComponent, at: 0)
            existing.deleteLastPathComponent()
        }
        var path = existing.resolvingSymlinksInPath().path
        for component in missing { path = (path as NSString).appendingPathComponent(component) }
        return path
    }
}
