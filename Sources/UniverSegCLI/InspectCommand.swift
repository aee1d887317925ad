import ArgumentParser
import Foundation
import VolumeIO

/// `universeg inspect PATH [--json]`: lists the volumes in a file or folder and every other file with the reason.
/// The inspection is `InspectionReport.inspect` (VolumeIO); this command only prints it.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List the volumes (DICOM series, NIfTI, NRRD, MetaImage and MGH files) in a file or folder, with their geometry.",
        discussion: """
            For each volume: dims, spacing, orientation letters, world bounding box (RAS+ mm, voxel centres), \
            intensity range and geometry warnings (4D NIfTI: the volume count, and volume 0). Every file that is in \
            no volume (unreadable, not an image, unsupported format such as MINC, duplicate slice) is listed \
            with the reason. \
            Exits with 0 when at least one volume was read.
            """)

    @Argument(help: "A file or folder (searched recursively).")
    var path: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let report = InspectionReport.inspect(URL(fileURLWithPath: path))
        print(json ? report.json() : report.text())
        if report.volumes.isEmpty {
            FileHandle.standardError.write(Data("error: no readable volume in \(path)\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// How `inspect` prints a report.
extension InspectionReport {
    /// Pretty-printed JSON with sorted keys (`inspect --json`).
    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    /// The text report: a summary line, a block per volume, then the skipped files with their reasons.
    func text() -> String {
        var lines = ["\(path): \(volumes.count) volume(s), \(skipped.count) file(s) skipped"]
        for (n, v) in volumes.enumerated() {
            lines.append("")
            lines.append("volume \(n + 1): \(v.format) \(v.description)")
            let more = v.files.count > 1 ? " ... (\(v.files.count) files)" : ""
            lines.append("  files:       \(v.files[0])\(more)")
            let volumes = v.volumeCount > 1 ? ", \(v.volumeCount) volumes (volume 0 shown)" : ""
            lines.append("  dims:        \(v.dims.map(String.init).joined(separator: " x "))\(volumes)")
            lines.append("  spacing:     \(v.spacing.map(Self.number).joined(separator: " x ")) mm")
            lines.append("  orientation: \(v.orientation)")
            lines.append("  bounds RAS:  " + (0..<3).map { a in
                "\(["x", "y", "z"][a]) \(Self.number(v.boundsMin[a]))..\(Self.number(v.boundsMax[a]))"
            }.joined(separator: ", ") + " mm (voxel centres)")
            if let low = v.intensityMin, let high = v.intensityMax {
                lines.append("  intensity:   \(Self.number(low)) .. \(Self.number(high))")
            } else {
                lines.append("  intensity:   no finite voxel")
            }
            for warning in v.warnings { lines.append("  warning: \(warning)") }
        }
        if !skipped.isEmpty {
            lines.append("")
            lines.append("skipped:")
            for u in skipped { lines.append("  \(u.path): \(u.reason)") }
        }
        return lines.joined(separator: "\n")
    }
}
