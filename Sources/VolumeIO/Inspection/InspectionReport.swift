import Foundation

/// What is under a path, as `universeg inspect` lists it: every volume that could be read, and every file that is in
/// none of them (unreadable, not an image, unsupported format, duplicate slice), with why. Each file is in one or the
/// other. Codable: the JSON field names are `inspect --json`'s.
public struct InspectionReport: Codable, Equatable, Sendable {
    public struct VolumeEntry: Codable, Equatable, Sendable {
        /// "DICOM", "NIfTI", "NRRD", "MetaImage" or "MGH".
        public var format: String
        public var description: String
        public var files: [String]
        /// Voxels along index axes i, j, k.
        public var dims: [Int]
        /// 3D volumes in the file (a 4D NIfTI has several; the other fields describe volume 0). 1 for DICOM.
        public var volumeCount: Int
        /// mm along index axes i, j, k.
        public var spacing: [Double]
        /// Positive end of each index axis in RAS+ ("LPS").
        public var orientation: String
        /// Smallest and largest RAS+ coordinate (mm) of the voxel centres.
        public var boundsMin: [Double]
        public var boundsMax: [Double]
        /// Smallest and largest finite voxel value after rescale; nil when no voxel is finite.
        public var intensityMin: Double?
        public var intensityMax: Double?
        public var warnings: [String]
        public var modality: String?
        public var seriesInstanceUID: String?
        /// Which volume of its DICOM series this is, with the values that identify it, when the series repeats its
        /// slice positions (time points, diffusion directions, echoes); nil otherwise.
        public var volume: DicomVolumeInfo?
    }

    /// A file that is in no volume, and the reason in one line.
    public struct Skipped: Codable, Equatable, Sendable {
        public var path: String
        public var reason: String
    }

    public var path: String
    public var volumes: [VolumeEntry]
    public var skipped: [Skipped]

    /// Inspects a file or folder (searched recursively): NIfTI files by name (.nii, .nii.gz, .hdr/.img pairs, see
    /// `NiftiFileName`), NRRD, MetaImage and MGH files by name (`VolumeFile`), everything else through the DICOM scan; a file that is neither gets the DICOM parser's
    /// reason, or names its format when we know it (`OtherImageFormat`). Reads every volume's voxels (for the
    /// intensity range), one at a time. Never throws: what cannot be read is listed in `skipped`.
    public static func inspect(_ url: URL) -> InspectionReport {
        var report = InspectionReport(path: url.path, volumes: [], skipped: [])
        guard FileManager.default.fileExists(atPath: url.path) else {
            report.skipped.append(Skipped(path: url.path, reason: "no such file or folder"))
            return report
        }
        let files = FileListing.regularFiles(under: url)
        let isNifti = { (path: String) in NiftiFileName.isReadable(path) || NiftiFileName.isPairData(path) }
        let nifti = inspectNifti(files.filter(isNifti))
        report.volumes += nifti.volumes
        report.skipped += nifti.skipped
        let isOtherVolume = { (path: String) in VolumeFile.format(of: path).map { $0 != .nifti } ?? false }
        let others = inspectVolumeFiles(files.filter(isOtherVolume))
        report.volumes += others.volumes
        report.skipped += others.skipped
        let scan = DicomReader.scan(files: files.filter { !isNifti($0) && !isOtherVolume($0) && !others.dataFiles.contains($0) })
        for series in scan.series {
            do throws(DicomError) {
                let volume = try DicomReader.readVolume(series)
                var item = entry(volume, format: "DICOM", description: series.label,
                                 files: series.reference.distinctFiles, warnings: series.warnings,
                                 modality: series.metadata.modality, seriesUID: series.seriesInstanceUID)
                item.volume = series.volume.count > 1 ? series.volume : nil
                report.volumes.append(item)
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

    /// One volume's entry: bounds from the eight corner voxel centres, the finite intensity range, and a warning
    /// when some voxels are not finite.
    static func entry(_ volume: Volume<Float>, format: String, description: String, files: [String],
                      warnings: [String], modality: String?, seriesUID: String?, volumeCount: Int = 1) -> VolumeEntry {
        let corners = cornerCentres(volume.affine, shape: volume.shape)
        var low = Float.infinity, high = -Float.infinity, nonFinite = 0
        for v in volume.voxels {
            if v.isFinite { low = min(low, v); high = max(high, v) } else { nonFinite += 1 }
        }
        var warnings = warnings
        if nonFinite > 0 { warnings.append("\(nonFinite) voxel(s) are NaN or infinite (left out of the intensity range)") }
        return VolumeEntry(format: format, description: description, files: files, dims: volume.shape,
                           volumeCount: volumeCount, spacing: volume.spacing, orientation: volume.orientation,
                           boundsMin: (0..<3).map { a in corners.map { $0[a] }.min()! },
                           boundsMax: (0..<3).map { a in corners.map { $0[a] }.max()! },
                           intensityMin: low <= high ? Double(low) : nil, intensityMax: low <= high ? Double(high) : nil,
                           warnings: warnings,
                           modality: modality, seriesInstanceUID: seriesUID)
    }

    /// World positions (RAS+ mm) of the eight corner voxel centres of a grid, i fastest.
    static func cornerCentres(_ affine: Affine, shape: [Int]) -> [[Double]] {
        [0, shape[2] - 1].flatMap { k in [0, shape[1] - 1].flatMap { j in [0, shape[0] - 1].map { i in
            affine.apply([Double(i), Double(j), Double(k)]) } } }
    }

    /// A number as reports print it: `%.6g`.
    public static func number(_ x: Double) -> String { String(format: "%.6g", x) }
}
