/// One volume found in a DICOM study: the slices of a series that share orientation and size, sorted along the
/// slice normal. Produced by `DicomReader.scan`; `DicomReader.readVolume` decodes its voxels.
public struct DicomSeries: Sendable {
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var metadata: DicomSeriesMetadata
    /// [columns, rows, slices]: index axis 0 follows the row direction of ImageOrientationPatient, axis 1 the
    /// column direction, axis 2 ascends along the slice normal.
    public var shape: [Int]
    /// Voxel centre (i, j, k) to RAS+ mm.
    public var affine: Affine
    /// Geometry problems found while stacking: duplicates, missing slices, non-uniform gaps, gantry tilt,
    /// placeholder geometry. Empty when the stack is regular.
    public var warnings: [String]
    /// Per-slice source files, UIDs and stored geometry, for writers (DICOM SEG) and reports.
    public var reference: DicomSeriesReference
    /// Files of this series none of whose slices is in the volume (every one duplicated a kept slice's position),
    /// so that reports can account for every file.
    public var leftOutFiles: [String]
    /// Which volume of its series this is, when the series repeats its slice positions (time points, diffusion
    /// directions, echoes), and the values that identify it.
    public var volume: DicomVolumeInfo
    /// Per-slice decoding parameters, in volume slice order.
    var slices: [DicomSlice]

    /// A one-line label: "MR series 3 'T2 axial' (1.2.3...)".
    public var label: String {
        var parts: [String] = []
        parts.append((metadata.modality ?? "DICOM") + " series" + (metadata.seriesNumber.map { " \($0)" } ?? ""))
        if let description = metadata.seriesDescription { parts.append("'\(description)'") }
        if let volume = volume.label { parts.append(volume) }
        parts.append("(\(seriesInstanceUID.isEmpty ? "no SeriesInstanceUID" : seriesInstanceUID))")
        return parts.joined(separator: " ")
    }
}

/// What scanning a file or folder found: the volumes, and every file that is not part of one, with the reason.
public struct DicomScan: Sendable {
    public var series: [DicomSeries]
    /// Files skipped (DICOMDIR, non-DICOM, no pixels, undecodable), one error each; never fatal for the scan.
    public var skipped: [DicomError]
}
