import Diagnostics
import Foundation
import VolumeIO

/// `universeg support add`: puts one image + label pair into a library under its naming (`NAME_image`,
/// `NAME_label`, and `NAME_annotated.yaml` for a sparse annotation), copied or linked. Nothing in the library is
/// ever overwritten, and a pair that `PairCheck` finds unusable, or whose image the library already holds, is
/// refused, so a library only ever gains pairs a run can use.
public enum SupportAdd {
    public struct Request: Sendable {
        public var library: URL
        public var image: URL
        public var label: URL
        /// The pair's name; nil takes the image file's name without extension and a trailing `_image`.
        public var name: String?
        public var annotation: Annotation
        /// Symbolic links to the files (absolute paths) instead of copies.
        public var link: Bool

        public init(library: URL, image: URL, label: URL, name: String? = nil, annotation: Annotation = .all, link: Bool = false) {
            self.library = library
            self.image = image
            self.label = label
            self.name = name
            self.annotation = annotation
            self.link = link
        }
    }

    /// Adds the pair and returns it as the library now lists it, with its check.
    public static func add(_ request: Request) throws -> (pair: LabelledPair, check: PairCheck) {
        let fm = FileManager.default
        for input in [request.image, request.label] {
            guard let ext = NiftiFileName.extension(of: input.lastPathComponent), ext == ".nii" || ext == ".nii.gz" else {
                throw SupportAddError(input.path, "not a .nii or .nii.gz file", hint: "export the image and label as NIfTI (.nii.gz)")
            }
        }
        let name = request.name ?? defaultName(of: request.image)
        guard isValidName(name) else {
            throw SupportAddError(request.image.path, "'\(name)' cannot name a pair",
                                  hint: "give --name with letters, digits, '.', '-' or '_' (not ending in _image or _label)")
        }
        var isFolder: ObjCBool = false
        if !fm.fileExists(atPath: request.library.path, isDirectory: &isFolder) {
            do { try fm.createDirectory(at: request.library, withIntermediateDirectories: false) } catch {
                throw SupportAddError(request.library.path, "cannot create the library folder",
                                      hint: "check that its parent folder exists and is writable")
            }
        } else if !isFolder.boolValue {
            throw SupportAddError(request.library.path, "not a folder", hint: "a support library is a folder of pairs")
        }
        let existing = try LabelledPair.scan(request.library)
        let taken = (try? fm.contentsOfDirectory(atPath: request.library.path)) ?? []
        if let clash = taken.sorted().first(where: { owns(name: name, file: $0) }) {
            throw SupportAddError(request.library.appendingPathComponent(clash).path, "the library already has a pair named \(name)",
                                  hint: "give another --name; nothing in a library is overwritten")
        }

        // The same rules `support check` applies, before anything is written.
        let image = try NiftiReader.readImage(request.image, volumeIndex: 0)
        let label = try NiftiReader.readLabels(request.label, volumeIndex: 0)
        var check = PairCheck(name: name, image: request.image.path, label: request.label.path,
                              annotation: request.annotation.description, sidecar: nil)
        check.fill(image: image, label: label, annotation: request.annotation,
                   annotated: request.annotation.resolved(on: label))
        if let problem = check.problems.first(where: { $0.severity == .unusable }) {
            throw SupportAddError(request.label.path, problem.message, hint: "the pair was not added")
        }
        let fingerprint = ImageFingerprint.of(image)
        if let twin = existing.first(where: { (try? ImageFingerprint.of($0)) == fingerprint }) {
            throw SupportAddError(request.image.path, "the library already holds this image as pair \(twin.name)",
                                  hint: "a duplicate weighs one case twice; to change its annotation, edit \(twin.name)\(Annotation.pairSidecarSuffix)")
        }

        let imageExt = NiftiFileName.extension(of: request.image.lastPathComponent)!
        let labelExt = NiftiFileName.extension(of: request.label.lastPathComponent)!
        var placed: [(source: URL?, text: String?, destination: URL)] = [
            (request.image, nil, request.library.appendingPathComponent("\(name)_image\(imageExt)")),
            (request.label, nil, request.library.appendingPathComponent("\(name)_label\(labelExt)")),
        ]
        if request.annotation != .all {
            placed.append((nil, request.annotation.sidecarText,
                           request.library.appendingPathComponent(name + Annotation.pairSidecarSuffix)))
        }
        // Each file is written under a hidden temporary name, then linked to its own name (a link never replaces a
        // file); should one fail, the ones already placed are removed, so the library never holds half a pair.
        var done: [URL] = []
        do {
            for item in placed {
                if let source = item.source, request.link {
                    try fm.createSymbolicLink(atPath: item.destination.path, withDestinationPath: source.standardizedFileURL.path)
                } else {
                    let temporary = request.library.appendingPathComponent(".tmp-add-\(UUID().uuidString.prefix(8))-\(item.destination.lastPathComponent)")
                    defer { try? fm.removeItem(at: temporary) }
                    if let source = item.source { try fm.copyItem(at: source, to: temporary) } else { try Data(item.text!.utf8).write(to: temporary) }
                    try fm.linkItem(at: temporary, to: item.destination)
                }
                done.append(item.destination)
            }
        } catch {
            for url in done { try? fm.removeItem(at: url) }
            throw SupportAddError(request.library.path, "cannot write the pair: \(ErrorText.problem(error))", hint: "nothing was added")
        }
        let pair = try LabelledPair.scan(request.library).first { $0.name == name }!
        check.image = pair.image.path
        check.label = pair.label.path
        check.sidecar = pair.sidecar?.path
        return (pair, check)
    }

    /// The image file's name without its extension and a trailing `_image` (any case).
    static func defaultName(of image: URL) -> String {
        let stem = NiftiFileName.stem(image.lastPathComponent)
        return stem.lowercased().hasSuffix("_image") ? String(stem.dropLast(6)) : stem
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
            && !["_image", "_label"].contains { name.lowercased().hasSuffix($0) }
    }

    /// Whether `file` in a library belongs to pair `name` (its image, label or sidecar, in any extension).
    static func owns(name: String, file: String) -> Bool {
        if file == name + Annotation.pairSidecarSuffix { return true }
        guard VolumeFile.format(of: file) != nil else { return false }
        let stem = VolumeFile.stem(file)
        return stem.count == name.count + 6 && stem.hasPrefix(name) && ["_image", "_label"].contains(stem.suffix(6).lowercased())
    }
}

/// Why `support add` refused a pair; nothing was written.
public struct SupportAddError: UserError, Equatable {
    public var file: String?
    public var problem: String
    public var hint: String?

    init(_ file: String?, _ problem: String, hint: String?) {
        self.file = file
        self.problem = problem
        self.hint = hint
    }
}
