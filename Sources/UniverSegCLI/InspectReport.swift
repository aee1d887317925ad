import Foundation
import VolumeIO

/// What `universeg inspect` found under a path: every volume it could read, and every file it could not, with why.
struct InspectReport: Codable, Equatable {
    struct VolumeEntry: Codable, Equatable {
        /// "DICOM" or "NIfTI".
        var format: String
        var description: String
        var files: [String]
        /// Voxels along index axes i, j, k.
        var dims: [Int]
        /// mm along index axes i, j, k.
        var spacing: [Double]
        /// Positive end of each index axis in RAS+ ("LPS").
        var orientation: String
        /// Smallest and largest RAS+ coordinate (mm) of the voxel centres.
        var boundsMin: [Double]
        var boundsMax: [Double]
        /// Smallest and largest voxel value after rescale.
        var intensityMin: Double
        var intensityMax: Double
        var warnings: [String]
        var modality: String?
        var seriesInstanceUID: String?
    }

    struct Unreadable: Codable, Equatable {
        var path: String
        var reason: String
    }

    var path: String
    var volumes: [VolumeEntry]
    var unreadable: [Unreadable]

    /// Inspects a file or folder: NIfTI files by name (.nii, .nii.gz), everything else through the DICOM scan.
    /// Reads every volume's voxels (for the intensity range), one at a time.
    static func make(_ url: URL) -> InspectReport {
        var report = InspectReport(path: url.path, volumes: [], unreadable: [])
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            report.unreadable.append(Unreadable(path: url.path, reason: "no such file or folder"))
            return report
        }
        let files = isDirectory.boolValue ? listFiles(url) : [url.path]
        let nifti = files.filter(isNifti)
        for path in nifti {
            report.unreadable.append(Unreadable(path: path, reason: "NIfTI files are not supported by this build yet"))
        }
        let scan = DicomReader.scan(files: files.filter { !isNifti($0) })
        for series in scan.series {
            do throws(DicomError) {
                let volume = try DicomReader.readVolume(series)
                report.volumes.append(entry(volume, format: "DICOM", description: series.label,
                                            files: series.reference.distinctFiles, warnings: series.warnings,
                                            modality: series.metadata.modality, seriesUID: series.seriesInstanceUID))
            } catch {
                report.unreadable.append(Unreadable(path: error.path, reason: error.reason))
            }
        }
        report.unreadable += scan.skipped.map { Unreadable(path: $0.path, reason: $0.reason) }
        report.unreadable.sort { $0.path < $1.path }
        return report
    }

    static func isNifti(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".nii") || lower.hasSuffix(".nii.gz")
    }

    private static func entry(_ volume: Volume<Float>, format: String, description: String, files: [String],
                              warnings: [String], modality: String?, seriesUID: String?) -> VolumeEntry {
        let s = volume.shape
        let corners = [0, s[2] - 1].flatMap { k in [0, s[1] - 1].flatMap { j in [0, s[0] - 1].map { i in
            volume.affine.apply([Double(i), Double(j), Double(k)]) } } }
        var low = Float.infinity, high = -Float.infinity
        for v in volume.voxels where v.isFinite { low = min(low, v); high = max(high, v) }
        return VolumeEntry(format: format, description: description, files: files, dims: s,
                           spacing: volume.spacing, orientation: volume.orientation,
                           boundsMin: (0..<3).map { a in corners.map { $0[a] }.min()! },
                           boundsMax: (0..<3).map { a in corners.map { $0[a] }.max()! },
                           intensityMin: Double(low), intensityMax: Double(high), warnings: warnings,
                           modality: modality, seriesInstanceUID: seriesUID)
    }

    private static func listFiles(_ url: URL) -> [String] {
        guard let enumerator = FileManager.default.enumerator(
            at: url, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles]) else { return [] }
        var files: [String] = []
        for case let file as URL in enumerator
        where (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            files.append(file.path)
        }
        return files.sorted()
    }

    // MARK: - Rendering

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    func text() -> String {
        var lines = ["\(path): \(volumes.count) volume(s), \(unreadable.count) file(s) not readable"]
        for (n, v) in volumes.enumerated() {
            lines.append("")
            lines.append("volume \(n + 1): \(v.format) \(v.description)")
            let more = v.files.count > 1 ? " ... (\(v.files.count) files)" : ""
            lines.append("  files:       \(v.files[0])\(more)")
            lines.append("  dims:        \(v.dims.map(String.init).joined(separator: " x "))")
            lines.append("  spacing:     \(v.spacing.map(Self.number).joined(separator: " x ")) mm")
            lines.append("  orientation: \(v.orientation)")
            lines.append("  bounds RAS:  " + (0..<3).map { a in
                "\(["x", "y", "z"][a]) \(Self.number(v.boundsMin[a]))..\(Self.number(v.boundsMax[a]))"
            }.joined(separator: ", ") + " mm (voxel centres)")
            lines.append("  intensity:   \(Self.number(v.intensityMin)) .. \(Self.number(v.intensityMax))")
            for warning in v.warnings { lines.append("  warning: \(warning)") }
        }
        if !unreadable.isEmpty {
            lines.append("")
            lines.append("not readable:")
            for u in unreadable { lines.append("  \(u.path): \(u.reason)") }
        }
        return lines.joined(separator: "\n")
    }

    private static func number(_ x: Double) -> String { String(format: "%.6g", x) }
}
