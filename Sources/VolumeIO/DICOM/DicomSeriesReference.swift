/// What a DICOM SEG writer (and anyone mapping results back to the source) needs about the series a volume came from.
///
/// Per-slice arrays hold one entry per source slice, ascending along the normal: source slice s is frame
/// `frames[s]` of `files[s]` and lies at volume slice `sliceIndices[s]` (index axis 2). That is s itself unless
/// slices are missing from the series, whose volume slices have no source. Single-frame files have frame 0; an
/// enhanced multi-frame file appears once per frame.
/// Geometry is kept as stored in the files (DICOM LPS), so a writer can reproduce it exactly.
public struct DicomSeriesReference: Sendable, Equatable {
    /// Source file of each slice.
    public var files: [String]
    /// 0-based frame of each slice inside its file.
    public var frames: [Int]
    /// SOPClassUID and SOPInstanceUID of each slice's file.
    public var sopClassUIDs: [String]
    public var sopInstanceUIDs: [String]
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    /// Empty when the source has none.
    public var frameOfReferenceUID: String
    /// ImagePositionPatient of each slice, LPS mm, as stored (or derived for frames that state no position).
    public var imagePositions: [[Double]]
    /// ImageOrientationPatient shared by all slices: row direction then column direction cosines, LPS.
    public var imageOrientation: [Double]
    /// PixelSpacing as DICOM orders it: [spacing between rows, spacing between columns] mm.
    public var pixelSpacing: [Double]
    /// Distance between slice centres along the slice normal, mm (from the positions; SliceThickness if one slice).
    public var sliceSpacing: Double
    public var rows: Int
    public var columns: Int
    /// Volume slice of each source slice (strictly increasing).
    public var sliceIndices: [Int]
    /// The slices are tiles of Siemens mosaic frames: a source frame holds many slices, so no frame-per-slice object
    /// (a DICOM SEG) can reference them.
    public var isMosaic = false
    /// Slices of the volume, including places of missing source slices.
    public var sliceCount: Int { (sliceIndices.last ?? -1) + 1 }

    public init(files: [String], frames: [Int], sopClassUIDs: [String], sopInstanceUIDs: [String],
                studyInstanceUID: String, seriesInstanceUID: String, frameOfReferenceUID: String,
                imagePositions: [[Double]], imageOrientation: [Double], pixelSpacing: [Double], sliceSpacing: Double,
                rows: Int, columns: Int, sliceIndices: [Int]? = nil) {
        precondition(sliceIndices.map { $0.count == files.count } ?? true, "one volume slice per source slice")
        self.files = files
        self.frames = frames
        self.sopClassUIDs = sopClassUIDs
        self.sopInstanceUIDs = sopInstanceUIDs
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.frameOfReferenceUID = frameOfReferenceUID
        self.imagePositions = imagePositions
        self.imageOrientation = imageOrientation
        self.pixelSpacing = pixelSpacing
        self.sliceSpacing = sliceSpacing
        self.rows = rows
        self.columns = columns
        self.sliceIndices = sliceIndices ?? Array(files.indices)
    }

    /// Distinct source files in slice order.
    public var distinctFiles: [String] {
        var seen = Set<String>()
        return files.filter { seen.insert($0).inserted }
    }
}
