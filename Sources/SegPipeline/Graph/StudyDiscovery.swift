import Foundation
import VolumeIO

/// Finds the studies in an input folder: each sub-folder, or each volume file at the top (NIfTI, NRRD, MetaImage or
/// MGH holding its own voxels), whose name matches.
public enum StudyDiscovery {
    /// The studies a run or watch of `spec` sees: those of `studies(_:excluding:)` in its input folder, leaving
    /// out the folders the tool itself writes there (the output folder, done/, failed/). The one list of them.
    public static func studies(for spec: PipelineSpec) throws -> [StudyInput] {
        try studies(spec.inputs, excluding: [spec.outputs.folder, spec.watch.doneFolder, spec.watch.failedFolder])
    }

    /// Studies in `inputs.folder`, sorted by name. Hidden entries and the folders in `excluding` (done/, failed/,
    /// an output folder) are never studies.
    public static func studies(_ inputs: InputSpec, excluding: [URL] = []) throws -> [StudyInput] {
        let folder = inputs.folder
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw PipelineError.unreadable(folder.path, reason: "cannot list the input folder")
        }
        let excluded = Set(excluding.map { $0.standardizedFileURL.path })
        var studies: [StudyInput] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let url = folder.appendingPathComponent(name)
            if excluded.contains(url.standardizedFileURL.path) { continue }
            guard fnmatch(inputs.match, name, 0) == 0 else { continue }
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else { continue }
            if isFolder.boolValue {
                studies.append(stamp(url, name: name, isFolder: true))
            } else if VolumeFile.isSelfContained(name) {
                studies.append(stamp(url, name: VolumeFile.stem(name), isFolder: false))
            }
        }
        return studies
    }

    /// Studies that cannot be told apart, each with the reason: two entries with one study name ("a/" and
    /// "a.nii.gz"; the ledger and the watcher know studies by name), or names that `naming` turns into the same
    /// output path ("a b" and "a_b"). Processing them would overwrite one study's outputs with another's, so
    /// none of them is processed; the others are unaffected.
    public static func conflicts(_ studies: [StudyInput], naming: String) -> [URL: String] {
        let byOutput = Dictionary(grouping: studies) {
            NamingPattern.expand(naming, study: $0.name, series: "{series}", pipeline: "{pipeline}")
        }
        var reasons: [URL: String] = [:]
        for (output, group) in byOutput where group.count > 1 {
            let names = group.map { "'\($0.location.lastPathComponent)'" }.joined(separator: " and ")
            let why = Set(group.map(\.name)).count == 1 ? "are both study '\(group[0].name)'"
                                                         : "would write the same outputs (\(output))"
            for study in group {
                reasons[study.location] = "\(names) \(why); rename one of them (none of them is processed)"
            }
        }
        return reasons
    }

    /// A study with the sizes and times of all its files (hidden files skipped). A symbolic link to a file counts
    /// as that file (stamped with the target's size and time), so studies can be linked into an input folder.
    public static func stamp(_ url: URL, name: String, isFolder: Bool) -> StudyInput {
        var files: [FileStamp] = []
        func add(_ file: URL, relative: String) {
            if let stamp = FileStamp.of(file, as: relative) { files.append(stamp) }
        }
        if isFolder {
            if let walker = FileManager.default.enumerator(atPath: url.path) {
                while let relative = walker.nextObject() as? String {
                    if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
                    add(url.appendingPathComponent(relative), relative: relative)
                }
            }
        } else {
            add(url, relative: url.lastPathComponent)
        }
        return StudyInput(name: name, location: url, isFolder: isFolder, files: files.sorted { $0.path < $1.path })
    }

    /// The image files of a study: the file itself, or the top-level files of its folder in `format` (any readable
    /// format when nil, see `VolumeFile`) matching `pattern` in any letter case (so `*.nii.gz` finds `T1.NII.GZ`,
    /// as the reader opens it), minus label files (`*_label.*`, 3D Slicer's `*.seg.nrrd`).
    public static func imageFiles(of study: StudyInput, pattern: String, format: VolumeFileFormat? = nil) -> [URL] {
        guard study.isFolder else { return [study.location] }
        let pattern = pattern.lowercased()
        return study.files.map(\.path).filter { path in
            guard !path.contains("/"), let found = VolumeFile.format(of: path), format == nil || found == format else { return false }
            let lower = path.lowercased()
            return fnmatch(pattern, lower, 0) == 0 && !VolumeFile.stem(lower).hasSuffix("_label") && !lower.hasSuffix(".seg.nrrd")
        }.map { study.location.appendingPathComponent($0) }
    }
}
