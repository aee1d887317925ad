import ArgumentParser
import Foundation

/// Checks of the paths given on the command line, made in `validate()` so that a path that cannot work is a usage
/// error (exit 64, one line) before a model is loaded or a voxel read, instead of a failure minutes later.
enum PathCheck {
    enum Kind { case file, folder, fileOrFolder }

    /// Throws unless `path` is not empty and names an existing file or folder of `kind` (links followed).
    static func existing(_ path: String, _ kind: Kind, option: String) throws {
        try notEmpty(path, option: option)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            let what = switch kind { case .file: "file"; case .folder: "folder"; case .fileOrFolder: "file or folder" }
            throw ValidationError("\(option): no such \(what): \(path)")
        }
        if kind == .file && isFolder.boolValue { throw ValidationError("\(option): \(path) is a folder, not a file") }
        if kind == .folder && !isFolder.boolValue { throw ValidationError("\(option): \(path) is a file, not a folder") }
    }

    /// Throws unless a file can be written at `path`: not empty, not an existing folder, and the nearest existing
    /// folder above it (missing folders are created by the writers) is a folder this process may write in.
    static func outputFile(_ path: String, option: String) throws {
        try notEmpty(path, option: option)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw ValidationError("\(option): \(path) is a folder; give a file name")
        }
        try writableAncestor(of: URL(fileURLWithPath: path).deletingLastPathComponent(), option: option, path: path)
    }

    /// Throws unless `path` is, or can be created as, a folder this process may write in.
    static func outputFolder(_ path: String, option: String) throws {
        try notEmpty(path, option: option)
        try writableAncestor(of: URL(fileURLWithPath: path), option: option, path: path)
    }

    static func notEmpty(_ path: String, option: String) throws {
        if path.isEmpty { throw ValidationError("\(option): the path is empty") }
    }

    private static func writableAncestor(of folder: URL, option: String, path: String) throws {
        var existing = folder.standardizedFileURL
        while !FileManager.default.fileExists(atPath: existing.path), existing.pathComponents.count > 1 {
            existing.deleteLastPathComponent()
        }
        var isFolder: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: existing.path, isDirectory: &isFolder)
        guard isFolder.boolValue else {
            throw ValidationError("\(option): \(path) cannot be created: \(existing.path) is a file, not a folder")
        }
        // A file created and removed at once: permission bits alone do not tell (root, read-only mounts, /proc).
        let probe = existing.appendingPathComponent(".universeg-write-check-\(getpid())").path
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw ValidationError("\(option): \(path) cannot be written: \(existing.path): \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        unlink(probe)
    }
}
