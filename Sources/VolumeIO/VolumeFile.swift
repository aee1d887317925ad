import Foundation

/// The volume file formats recognised by name.
public enum VolumeFileFormat: String, Sendable, CaseIterable, Codable {
    case nifti = "NIfTI"
    case nrrd = "NRRD"
    case metaImage = "MetaImage"
    case mgh = "MGH"
}

/// What every volume file's header says, whatever its format (no voxels are read).
public struct VolumeFileHeader: Sendable {
    public var format: VolumeFileFormat
    public var path: String
    public var shape: [Int]
    public var affine: Affine
    /// 3D volumes in the file (MGH frames, NIfTI's 4th dimension); the readers read the first.
    public var volumeCount: Int
    /// The files holding the voxels besides `path` (a .nhdr's or .mhd's data file).
    public var dataFiles: [String]
    /// Geometry a user should know about (a guessed orientation, a non-anatomical space, several frames).
    public var warnings: [String]
    /// The format's own words for the storage, e.g. "short, gzip, space left-posterior-superior".
    public var storage: String
}

/// One way to read a volume file of any format, chosen by its name: study discovery, inspection and support
/// libraries use it; each format's reader stays the home of its rules.
public enum VolumeFile {
    /// File name endings (lower case) and their formats, longest first where one ends another.
    static let extensions: [(suffix: String, format: VolumeFileFormat)] = [
        (".nii.gz", .nifti), (".nii", .nifti), (".nrrd", .nrrd), (".nhdr", .nrrd), (".mha", .metaImage),
        (".mhd", .metaImage), (".mgh.gz", .mgh), (".mgz", .mgh), (".mgh", .mgh),
    ]
    /// Headers whose voxels are in another file, so they cannot be a study by themselves.
    static let detachedHeaders = [".nhdr", ".mhd"]

    /// The format of a file by its name (any letter case), or nil. NIfTI means single files (.nii, .nii.gz).
    public static func format(of name: String) -> VolumeFileFormat? {
        let lower = name.lowercased()
        return extensions.first { lower.hasSuffix($0.suffix) }?.format
    }

    /// The extension `name` ends with, as written there, or nil.
    public static func `extension`(of name: String) -> String? {
        let lower = name.lowercased()
        return extensions.first { lower.hasSuffix($0.suffix) }.map { String(name.suffix($0.suffix.count)) }
    }

    /// `name` without its volume extension; `name` itself when it has none.
    public static func stem(_ name: String) -> String {
        `extension`(of: name).map { String(name.dropLast($0.count)) } ?? name
    }

    /// Whether the file holds its own voxels (every readable name except .nhdr and .mhd headers).
    public static func isSelfContained(_ name: String) -> Bool {
        let lower = name.lowercased()
        return format(of: name) != nil && !detachedHeaders.contains { lower.hasSuffix($0) }
    }

    public static func readImage(_ url: URL) throws -> Volume<Float> {
        switch try checkedFormat(url) {
        case .nifti: try NiftiReader.readImage(url, volumeIndex: 0)
        case .nrrd: try NrrdReader.readImage(url)
        case .metaImage: try MetaImageReader.readImage(url)
        case .mgh: try MghReader.readImage(url)
        }
    }

    public static func readLabels(_ url: URL) throws -> Volume<Int32> {
        switch try checkedFormat(url) {
        case .nifti: try NiftiReader.readLabels(url, volumeIndex: 0)
        case .nrrd: try NrrdReader.readLabels(url)
        case .metaImage: try MetaImageReader.readLabels(url)
        case .mgh: try MghReader.readLabels(url)
        }
    }

    public static func readHeader(_ url: URL) throws -> VolumeFileHeader {
        let path = url.path
        switch try checkedFormat(url) {
        case .nifti:
            let h = try NiftiReader.readHeader(url)
            return VolumeFileHeader(format: .nifti, path: path, shape: h.shape, affine: h.affine, volumeCount: h.volumeCount,
                                    dataFiles: [], warnings: [], storage: "NIfTI-\(h.version), \(h.datatype.name)")
        case .nrrd:
            let h = try NrrdReader.readHeader(url)
            return VolumeFileHeader(format: .nrrd, path: path, shape: h.shape, affine: h.affine, volumeCount: 1,
                                    dataFiles: h.dataFile == path ? [] : [h.dataFile], warnings: h.warnings,
                                    storage: "\(h.typeName), \(h.encodingName), space \(h.spatial.space.rawValue)")
        case .metaImage:
            let h = try MetaImageReader.readHeader(url)
            var storage = "\(h.elementType)\(h.compressed ? ", compressed" : "")"
            if let orientation = h.anatomicalOrientation { storage += ", AnatomicalOrientation \(orientation)" }
            return VolumeFileHeader(format: .metaImage, path: path, shape: h.shape, affine: h.affine, volumeCount: 1,
                                    dataFiles: h.dataFile == path ? [] : [h.dataFile], warnings: h.warnings, storage: storage)
        case .mgh:
            let h = try MghReader.readHeader(url)
            return VolumeFileHeader(format: .mgh, path: path, shape: h.shape, affine: h.affine, volumeCount: h.frames,
                                    dataFiles: [], warnings: h.warnings,
                                    storage: "\(h.typeName)\(h.compressed ? ", gzip" : "")")
        }
    }

    private static func checkedFormat(_ url: URL) throws -> VolumeFileFormat {
        guard let format = format(of: url.path) else {
            throw VolumeIOError.unsupportedExtension(path: url.path, expected: ".nii(.gz), .nrrd, .nhdr, .mha, .mhd, .mgh or .mgz")
        }
        return format
    }
}
