import Foundation

/// Which files a folder scan looks at.
public enum FileListing {
    /// Regular files under `url` (or `url` itself when it is not a folder), sorted, skipping hidden names.
    public static func regularFiles(under url: URL) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return [url.path] }
        guard isDirectory.boolValue else { return [url.path] }
        guard let enumerator = FileManager.default.enumerator(
            at: url, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles]) else { return [] }
        var files: [String] = []
        for case let file as URL in enumerator
        where (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            files.append(file.path)
        }
        return files.sorted()
    }
}
