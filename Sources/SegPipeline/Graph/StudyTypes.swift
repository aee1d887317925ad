import Foundation
import VolumeIO

/// One entry of the input folder taken as a study: a sub-folder, or a single volume file.
public struct StudyInput: Sendable, Equatable {
    /// The entry's name without its volume file extension; used in output names and the ledger.
    public var name: String
    public var location: URL
    public var isFolder: Bool
    /// Every file of the study with its size and modification time, for the ledger and the watcher's settle check.
    public var files: [FileStamp]

    public init(name: String, location: URL, isFolder: Bool, files: [FileStamp]) {
        self.name = name
        self.location = location
        self.isFolder = isFolder
        self.files = files
    }

    /// Changes whenever a file of the study is added, removed, resized or touched.
    public var fingerprint: String {
        FNV1a.hex(files.map { "\($0.path)|\($0.size)|\($0.modified)" }.joined(separator: "\n"))
    }
}

public struct FileStamp: Sendable, Equatable {
    /// Relative to the study's location (the file name for a single-file study).
    public var path: String
    public var size: Int64
    /// Seconds since 1970, as the file system reports.
    public var modified: Double

    /// `file`'s size and time, recorded under `path`; a symbolic link counts as its target. Nil unless a regular file.
    public static func of(_ file: URL, as path: String) -> FileStamp? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: file.resolvingSymlinksInPath().path),
              (attributes[.type] as? FileAttributeType) == .typeRegular else { return nil }
        return FileStamp(path: path, size: (attributes[.size] as? NSNumber)?.int64Value ?? 0,
                         modified: (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
    }
}

public enum SeriesFormat: String, Sendable, Codable {
    case nifti, dicom, nrrd
    case metaImage = "metaimage"
    case mgh

    init(_ format: VolumeFileFormat) {
        switch format {
        case .nifti: self = .nifti
        case .nrrd: self = .nrrd
        case .metaImage: self = .metaImage
        case .mgh: self = .mgh
        }
    }
}

/// One image series of a study that could be segmented, described by its header only.
public struct SeriesCandidate: Sendable {
    /// A stable name for output naming: the SeriesInstanceUID's tail or SeriesNumber for DICOM, the file stem for NIfTI.
    public var id: String
    public var format: SeriesFormat
    /// DICOM Modality, or nil when unknown (NIfTI).
    public var modality: String?
    /// SeriesDescription for DICOM; the file name for NIfTI.
    public var description: String
    /// Shape of the volume it would be read as.
    public var shape: [Int]
    public var affine: Affine
    /// The files that make up the series (one NIfTI file, or the DICOM instances).
    public var files: [URL]
    /// The scanned DICOM series (slice order, decoding parameters), for reading its voxels; nil for NIfTI.
    public var dicom: DicomSeries?
    /// Problems noticed in the headers (e.g. missing DICOM slices), copied into the report.
    public var warnings: [String] = []

    public init(id: String, format: SeriesFormat, modality: String?, description: String, shape: [Int], affine: Affine,
                files: [URL], dicom: DicomSeries? = nil) {
        self.id = id
        self.format = format
        self.modality = modality
        self.description = description
        self.shape = shape
        self.affine = affine
        self.files = files
        self.dicom = dicom
    }
}

/// A 2D image on the model's grid (128 x 128, row-major, x fastest).
public struct ModelSlice: Sendable, Equatable {
    public static let side = SlicingOptions.modelSide
    public var pixels: [Float]

    public init(pixels: [Float]) {
        precondition(pixels.count == Self.side * Self.side, "a model slice has 128 x 128 pixels")
        self.pixels = pixels
    }

    public static var zero: ModelSlice { ModelSlice(pixels: [Float](repeating: 0, count: side * side)) }
}

/// A binary mask on the model grid, a byte per pixel: a support pool holds one per slice and target for a whole
/// library, and bytes take a quarter of the memory of the floats the engine reads.
public struct ModelMask: Sendable, Equatable {
    private var bytes: [UInt8]

    /// `pixels`: 128 x 128 values, foreground where >= 0.5 (support masks are binary, as UniverSeg was trained).
    public init(pixels: [Float]) {
        precondition(pixels.count == ModelSlice.side * ModelSlice.side, "a model mask has 128 x 128 pixels")
        bytes = pixels.map { $0 >= 0.5 ? 1 : 0 }
    }

    /// The mask as the engine takes it: 0 or 1 per pixel.
    public var pixels: [Float] { bytes.map(Float.init) }
    public var foreground: Int { bytes.reduce(0) { $0 + Int($1) } }

    public static var zero: ModelMask { ModelMask(pixels: ModelSlice.zero.pixels) }
}

/// One support example on the model grid: an image slice and its binary mask for one target.
public struct SupportExample: Sendable, Equatable {
    public var image: ModelSlice
    public var mask: ModelMask
    /// The pair it came from and its slice index there, for the report.
    public var source: String
    public var slice: Int
    /// The slice centre's relative position along the slicing axis, in (0, 1): 0 toward the left, posterior or
    /// inferior end, 1 toward the other (VolumeIO's `SliceMapping.relativePositions`, so storage order doesn't matter).
    public var position: Double
    /// Foreground pixels in the mask.
    public var foreground: Int
    /// Millimetres per model pixel (the slice's field of view / 128): support and study are compared pixel for
    /// pixel, so their ratio is how much larger the anatomy looks in one than in the other.
    public var pixelSize: Double
}
