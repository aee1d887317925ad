import Foundation
import VolumeIO

/// What `universeg inspect` found under a path: every volume it could read, and every file that is in none of them
/// (unreadable, not an image, unsupported format, duplicate slice), with why. Each file is in one or the other.
struct InspectReport: Codable, Equatable {
    struct VolumeEntry: Codable, Equatable {
        /// "DICOM" or "NIfTI".
        var format: String
        var description: String
        var files: [String]
        /// Voxels along index axes i, j, k.
        var dims: [Int]
        /// 3D volumes in the file (a 4D NIfTI has several; the other fields describe volume 0). 1 for DICOM.
        var volumeCount: Int
        /// mm along index axes i, j, k.
        var spacing: [Double]
        /// Positive end of each index axis in RAS+ ("LPS").
        var orientation: String
        /// Smallest and largest RAS+ coordinate (mm) of the voxel centres.
        var boundsMin: [Double]
        var boundsMax: [Double]
        /// Smallest and largest finite voxel value after rescale; nil when no voxel is finite.
        var intensityMin: Double?
        var intensityMax: Double?
        var warnings: [String]
        var modality: String?
        var seriesInstanceUID: String?
    }

    /// A file that is in no volume, and the reason in one line.
    struct Skipped: Codable, Equatable {
        var path: String
        var reason: String
    }

    var path: String
    var volumes: [VolumeEntry]
    var skipped: [Skipped]

    /// Inspects a file or folder: NIfTI files by name (.nii, .nii.gz, .hdr/.img), everything else through the
    /// DICOM scan; a file that is neither gets the DICOM parser's reason, or names its format when we know it.
    /// Reads every volume's voxels (for the intensity range), one at a time.
    static func make(_ url: URL) -> InspectReport {
        var report = InspectReport(path: url.path, volumes: [], skipped: [])
        guard FileManager.default.fileExists(atPath: url.path) else {
            report.skipped.append(Skipped(path: url.path, reason: "no such file or folder"))
            return report
        }
        let files = FileListing.regularFiles(under: url)
        let nifti = inspectNifti(files.filter { NiftiFileName.isReadable($0) || isPairData($0) })
        report.volumes += nifti.volumes
        report.skipped += nifti.skipped
        let scan = DicomReader.scan(files: files.filter { !NiftiFileName.isReadable($0) && !isPairData($0) })
        for series in scan.series {
            do throws(DicomError) {
                let volume = try DicomReader.readVolume(series)
                report.volumes.append(entry(volume, format: "DICOM", description: series.label,
                                            files: series.reference.distinctFiles, warnings: series.warnings,
                                            modality: series.metadata.modality, seriesUID: series.seriesInstanceUID))
            } catch {
                report.skipped.append(Skipped(path: error.path, reason: error.reason))
            }
            report.skipped += series.leftOutFiles.map {
                Skipped(path: $0, reason: "duplicates slice positions of \(series.label); left out of that volume")
            }
        }
        report.skipped += scan.skipped.map { skipped in
            let other = skipped.kind == .unreadable ? OtherImageFormat.reason(for: skipped.path) : nil
            return Skipped(path: skipped.path, reason: other ?? skipped.reason)
        }
        report.skipped.sort { $0.path < $1.path }
        return report
    }

    static func entry(_ volume: Volume<Float>, format: String, description: String, files: [String],
                      warnings: [String], modality: String?, seriesUID: String?, volumeCount: Int = 1) -> VolumeEntry {
        let s = volume.shape
        let corners = [0, s[2] - 1].flatMap { k in [0, s[1] - 1].flatMap { j in [0, s[0] - 1].map { i in
            volume.affine.apply([Double(i), Double(j), Double(k)]) } } }
        var low = Float.infinity, high = -Float.infinity, nonFinite = 0
        for v in volume.voxels {
            if v.isFinite { low = min(low, v); high = max(high, v) } else { nonFinite += 1 }
        }
        var warnings = warnings
        if nonFinite > 0 { warnings.append("\(nonFinite) voxel(s) are NaN or infinite (left out of the intensity range)") }
        return VolumeEntry(format: format, description: description, files: files, dims: s, volumeCount: volumeCount,
                           spacing: volume.spacing, orientation: volume.orientation,
                           boundsMin: (0..<3).map { a in corners.map { $0[a] }.min()! },
                           boundsMax: (0..<3).map { a in corners.map { $0[a] }.max()! },
                           intensityMin: low <= high ? Double(low) : nil, intensityMax: low <= high ? Double(high) : nil,
                           warnings: warnings,
                           modality: modality, seriesInstanceUID: seriesUID)
    }

    // MARK: - Rendering

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

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

    static func number(_ x: Double) -> String { String(format: "%.6g", x) }
}
