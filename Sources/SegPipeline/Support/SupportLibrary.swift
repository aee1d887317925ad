import Foundation

/// One labelled example of a support library: `NAME_image.nii.gz` and `NAME_label.nii.gz` (or `.nii`).
public struct SupportPair: Sendable, Equatable {
    public var name: String
    public var image: URL
    public var label: URL
}

/// A folder of labelled examples. Volumes (3D) and single slices (one voxel thick) are both accepted.
public enum SupportLibrary {
    /// The pairs in `folder`, sorted by name. Files that are not part of a complete pair are ignored.
    /// Throws when the folder cannot be listed.
    public static func scan(_ folder: URL) throws -> [SupportPair] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw PipelineError.unreadable(folder.path, reason: "cannot list the support library")
        }
        var images: [String: URL] = [:], labels: [String: URL] = [:]
        for file in names where !file.hasPrefix(".") {
            guard NiftiFileName.extension(of: file) != nil else { continue }
            let stem = NiftiFileName.stem(file)
            if stem.hasSuffix("_image") {
                images[String(stem.dropLast(6))] = folder.appendingPathComponent(file)
            } else if stem.hasSuffix("_label") {
                labels[String(stem.dropLast(6))] = folder.appendingPathComponent(file)
            }
        }
        return images.keys.sorted().compactMap { name in
            labels[name].map { SupportPair(name: name, image: images[name]!, label: $0) }
        }
    }

    /// The examples a study uses: the pipeline's libraries, joined or replaced by the study's own folder.
    public static func pairs(libraries: [URL], studyFolder: URL?, mode: PerStudySupportMode) throws -> [SupportPair] {
        var own: [SupportPair] = []
        if let studyFolder {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: studyFolder.path, isDirectory: &isFolder), isFolder.boolValue {
                own = try scan(studyFolder)
            }
        }
        if mode == .replace && !own.isEmpty { return own }
        var all = try libraries.flatMap { try scan($0) }
        // A study's own example of the same name overrides the library's.
        let ownNames = Set(own.map(\.name))
        all.removeAll { ownNames.contains($0.name) }
        return all + own
    }
}
