import Diagnostics
import Foundation
import VolumeIO

/// One labelled example: `NAME_image.nii.gz` and `NAME_label.nii.gz` (or `.nii`, or another volume format:
/// `.nrrd`, `.nhdr`, `.mha`, `.mhd`, `.mgz`, `.mgh`; the two halves may differ), a volume or a single slice.
/// Support libraries, per-study support folders and evaluation task folders all hold these.
public struct LabelledPair: Sendable, Equatable {
    public var name: String
    public var image: URL
    public var label: URL

    /// The pairs in `folder`, sorted by name. Hidden files and files that are not volumes are ignored; any volume file
    /// that is not half of a complete pair is an error, as is a name given twice (e.g. .nii and .nii.gz): an example
    /// silently left out, or picked by listing order, would change every result made with the folder.
    public static func scan(_ folder: URL) throws(PairFolderError) -> [LabelledPair] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw PairFolderError(folder: folder.path, reason: "no such folder")
        }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
            throw PairFolderError(folder: folder.path, reason: "cannot list the folder")
        }
        var images: [String: URL] = [:], labels: [String: URL] = [:]
        for file in names.sorted() where !file.hasPrefix(".") && VolumeFile.format(of: file) != nil {
            let stem = VolumeFile.stem(file), url = folder.appendingPathComponent(file)
            let name = String(stem.dropLast(6))
            let role = stem.suffix(6).lowercased()   // _image or _label, in any case like the extension
            if role == "_image" || role == "_label" {
                let isImage = role == "_image"
                let previous = isImage ? images.updateValue(url, forKey: name) : labels.updateValue(url, forKey: name)
                if let other = previous {
                    throw PairFolderError(folder: folder.path, reason: "two \(isImage ? "images" : "labels") named \(name): "
                                          + "\(other.lastPathComponent) and \(file)")
                }
            } else {
                throw PairFolderError(folder: folder.path, reason: "\(file) is neither NAME_image nor NAME_label")
            }
        }
        if let name = images.keys.sorted().first(where: { labels[$0] == nil }) {
            throw PairFolderError(folder: folder.path, reason: "\(images[name]!.lastPathComponent) has no \(name)_label.nii.gz")
        }
        if let name = labels.keys.sorted().first(where: { images[$0] == nil }) {
            throw PairFolderError(folder: folder.path, reason: "\(labels[name]!.lastPathComponent) has no \(name)_image.nii.gz")
        }
        return images.keys.sorted().map { LabelledPair(name: $0, image: images[$0]!, label: labels[$0]!) }
    }
}

/// Why a folder of labelled pairs cannot be used.
public struct PairFolderError: UserError, Equatable {
    public var folder: String
    public var reason: String

    public var file: String? { folder }
    public var problem: String { reason }
    public var hint: String? { "a folder of examples holds NAME_image.nii.gz + NAME_label.nii.gz pairs" }
}
