/// One 2D image of a series: a single-frame file, or one frame of a multi-frame file. Geometry is LPS, as stored.
struct DicomSlice: Sendable, Equatable {
    var path: String
    var frame: Int
    var sopClassUID: String
    var sopInstanceUID: String
    var rows: Int
    var columns: Int
    /// ImagePositionPatient: centre of the first transmitted pixel, LPS mm.
    var position: [Double]?
    /// ImageOrientationPatient: row direction (along a row, increasing column) then column direction cosines.
    var orientation: [Double]?
    /// PixelSpacing [between rows, between columns] mm.
    var pixelSpacing: [Double]?
    var sliceThickness: Double?
    var spacingBetweenSlices: Double?
    /// Modality LUT: value = slope * stored + intercept. A missing or zero slope reads as 1.
    var rescaleSlope: Double
    var rescaleIntercept: Double
    /// MONOCHROME1: low values are bright; the reader inverts within the stored range.
    var invert: Bool
    var bitsStored: Int
    var isSigned: Bool
    /// The position was derived (a multi-frame file without per-frame positions), not stated.
    var positionIsAssumed: Bool = false
    /// Set when the slice is one tile of a Siemens mosaic frame; `rows` and `columns` are then the tile's.
    var mosaicTile: MosaicTile?
    /// What tells repeated acquisitions of one position apart (time, diffusion, echo).
    var volumeKeys = DicomVolumeKeys()
    var instanceNumber: Int?

    /// Smallest and largest stored values BitsStored and PixelRepresentation allow.
    var storedRange: (min: Double, max: Double) {
        let bits = Double(bitsStored)
        return isSigned ? (-pow2(bits - 1), pow2(bits - 1) - 1) : (0, pow2(bits) - 1)
    }

    private func pow2(_ x: Double) -> Double { Double(sign: .plus, exponent: Int(x), significand: 1) }
}

/// Where one slice of a Siemens mosaic lies in its tiled frame: tile `index` (row-major) of a grid of
/// `tilesPerRow` x `tilesPerRow` tiles, each `rows` x `columns` of the slice.
struct MosaicTile: Sendable, Equatable {
    var index: Int
    var tilesPerRow: Int
    var mosaicRows: Int
    var mosaicColumns: Int
}

/// The series-level identity and description of one parsed file, plus its slices.
struct DicomFileHeader: Sendable {
    var path: String
    var studyInstanceUID: String
    var seriesInstanceUID: String
    var frameOfReferenceUID: String
    var metadata: DicomSeriesMetadata
    var slices: [DicomSlice]
    /// Notes about this file that belong on its series (e.g. assumed frame positions).
    var notes: [String]
}
