import Diagnostics
import Foundation
import VolumeIO

/// One labelled example: `NAME_image.nii.gz` and `NAME_label.nii.gz` (or `.nii`, or another volume format:
/// `.nrrd`, `.nhdr`, `.mha`, `.mhd`, `.mgz`, `.mgh`; the two halves may differ), a volume or a single slice; or
/// a subfolder holding a DICOM series and a DICOM SEG referencing it (`DicomSegPairs`).
/// Support libraries, per-study support folders and evaluation task folders all hold these.
public struct LabelledPair: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// `image` and `label` are volume files (NIfTI, NRRD, MetaImage, MGH).
        case files
        /// `image` is a folder holding the series with this SeriesInstanceUID; `label` is the SEG file.
        case dicomSeg(seriesInstanceUID: String)
    }

    public var name: String
    public var image: URL
    public var label: URL
    public var source: Source = .files
    /// Which slices of the label were annotated (`Annotation`: its sidecar, the folder's `library.yaml`, or all).
    public var annotation: Annotation = .all
    /// The sidecar that declared `annotation`, if any.
    public var sidecar: URL?

    public init(name: String, image: URL, label: URL, annotation: Annotation = .all, sidecar: URL? = nil,
                source: Source = .files) {
        self.source = source
        self.name = name
        self.image = image
        self.label = label
        self.annotation = annotation
        self.sidecar = sidecar
    }

    /// The pairs in `folder`, sorted by name. Hidden files and files that are not volumes are ignored; any volume file
    /// that is not half of a complete pair is an error, as is a name given twice (e.g. .nii and .nii.gz): an example
    /// silently left out, or picked by listing order, would change every result made with the folder. Sidecars
    /// (`NAME_annotated.yaml`, `library.yaml`) set each pair's `annotation`; one that names no pair is an error.
    public static func scan(_ folder: URL) throws(PairFolderError) -> [LabelledPair] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw PairFolderError(folder: folder.path, reason: "no such folder")
        }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
            throw PairFolderError(folder: folder.path, reason: "cannot list the folder")
        }
        var images: [String: URL] = [:], labels: [String: URL] = [:], sidecars: [String: URL] = [:]
        var segPairs: [LabelledPair] = []
        for file in names.sorted() where !file.hasPrefix(".") {
            var isSubfolder: ObjCBool = false
            let url = folder.appendingPathComponent(file)
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isSubfolder), isSubfolder.boolValue {
                segPairs += try DicomSegPairs.pairs(in: url, name: file)
            }
        }
        for file in names.sorted() where !file.hasPrefix(".") && file.hasSuffix(Annotation.pairSidecarSuffix) {
            sidecars[String(file.dropLast(Annotation.pairSidecarSuffix.count))] = folder.appendingPathComponent(file)
        }
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
        if let name = sidecars.keys.sorted().first(where: { images[$0] == nil }) {
            throw PairFolderError(folder: folder.path, reason: "\(sidecars[name]!.lastPathComponent) belongs to no pair "
                                  + "(no \(name)_image.nii.gz and \(name)_label.nii.gz)")
        }
        let libraryFile = folder.appendingPathComponent(Annotation.librarySidecarName)
        let libraryDefault = FileManager.default.fileExists(atPath: libraryFile.path)
            ? try readSidecar(libraryFile, perPair: false) : nil
        var pairs: [LabelledPair] = []
        for name in images.keys.sorted() {
            var pair = LabelledPair(name: name, image: images[name]!, label: labels[name]!)
            if let own = sidecars[name] {
                pair.annotation = try readSidecar(own, perPair: true)
                pair.sidecar = own
            } else if let libraryDefault {
                pair.annotation = libraryDefault
                pair.sidecar = libraryFile
            }
            pairs.append(pair)
        }
        for pair in segPairs {
            if pairs.contains(where: { $0.name == pair.name }) {
                throw PairFolderError(folder: folder.path, reason: "two pairs named \(pair.name): NIfTI files and the folder \(pair.image.lastPathComponent)/")
            }
            pairs.append(pair)
        }
        return pairs.sorted { $0.name < $1.name }
    }

    private static func readSidecar(_ file: URL, perPair: Bool) throws(PairFolderError) -> Annotation {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw PairFolderError(folder: file.path, reason: "cannot read the sidecar as UTF-8 text")
        }
        do {
            return try Annotation.parse(text, file: file.path, perPair: perPair)
        } catch let error as PipelineSpecError {
            throw PairFolderError(folder: error.file ?? file.path, reason: error.problem,
                                  advice: error.diagnostics.first?.hint ?? Self.sidecarHint)
        } catch {
            throw PairFolderError(folder: file.path, reason: "\(error)")
        }
    }

    static let sidecarHint = "a sidecar holds 'annotated: all | labelled | slices', 'axis: axial' and, for slices, "
        + "'slices: [12, 18]' (see docs/support-libraries.md)"
}

/// Why a folder of labelled pairs cannot be used.
public struct PairFolderError: UserError, Equatable {
    public var folder: String
    public var reason: String
    /// A hint other than the folder layout's (sidecar errors).
    public var advice: String?

    public init(folder: String, reason: String, advice: String? = nil) {
        self.folder = folder
        self.reason = reason
        self.advice = advice
    }

    public var file: String? { folder }
    public var problem: String { reason }
    public var hint: String? { advice ?? "a folder of examples holds NAME_image.nii.gz + NAME_label.nii.gz pairs" }
}
