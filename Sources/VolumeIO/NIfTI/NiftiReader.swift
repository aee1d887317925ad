import Foundation

/// What `inspect` shows about a NIfTI file, read from the header alone (no voxels are loaded).
public struct NiftiHeaderInfo: Sendable {
    public var path: String
    /// 1 or 2.
    public var version: Int
    /// The 3D grid: dim[1...3].
    public var shape: [Int]
    /// Number of 3D volumes (product of dim[4...]); 1 for a 3D file.
    public var volumeCount: Int
    public var datatype: NiftiDatatype
    /// Voxel sizes from pixdim[1...3] (see `NiftiSpatialHeader.voxelSizes`).
    public var voxelSizes: [Double]
    /// The voxel-to-RAS+ affine chosen by `NiftiSpatialHeader.worldTransform()`, and where it came from.
    public var affine: Affine
    public var transformSource: NiftiTransformSource
    /// The scaling that readImage applies, or nil when absent (slope 0 or not finite, as nibabel).
    public var scaling: (slope: Double, intercept: Double)?
    public var description: String
    public var spatial: NiftiSpatialHeader

    public var orientation: String { affine.orientation }
    public var qformCode: Int32 { spatial.qformCode }
    public var sformCode: Int32 { spatial.sformCode }
}

/// Reads NIfTI-1 and NIfTI-2 files (.nii, .nii.gz, and .hdr/.img pairs) into volumes.
///
/// Every failure is a `VolumeIOError` naming the file; the header is validated (magic, dims, voxel count,
/// datatype, scaling, geometry) before any voxel memory is allocated.
public enum NiftiReader {
    /// The largest 3D volume we allocate: 2^30 voxels (4 GiB as Float).
    public static let maximumVoxels = 1 << 30

    /// Reads one 3D volume as Float, with scl_slope/scl_inter applied (absent when the slope is 0 or not finite).
    /// - Parameter volumeIndex: which volume of a 4D file (0-based); may be nil when the file holds one volume.
    /// NaN and infinite voxels of float files are kept as they are (the slicer maps them to 0).
    public static func readImage(_ url: URL, volumeIndex: Int? = nil) throws -> Volume<Float> {
        try readVolume(url, volumeIndex: volumeIndex) { image, file, index in
            try image.readFloats(volume: index, voxels: file.voxelCount, datatype: file.datatype,
                                 slope: file.scaling.slope, intercept: file.scaling.intercept)
        }
    }

    /// Float or scaled label values this close to an integer are that integer: tools that resample or rescale
    /// label maps leave float32 noise of ~1e-6 around whole numbers, while a probability map has values far from
    /// any integer.
    public static let labelTolerance = 1e-4

    /// Reads one 3D volume as integer labels. Integer datatypes convert exactly (values outside Int32 fail);
    /// float or scaled values must be within `labelTolerance` of an integer, else the file is not a label map.
    public static func readLabels(_ url: URL, volumeIndex: Int? = nil) throws -> Volume<Int32> {
        try readVolume(url, volumeIndex: volumeIndex) { image, file, index in
            try image.readLabels(volume: index, voxels: file.voxelCount, datatype: file.datatype,
                                 slope: file.scaling.slope, intercept: file.scaling.intercept)
        }
    }

    /// Validates the header, picks the volume, then decodes its voxels with `decode` on the validated image.
    private static func readVolume<Voxel>(_ url: URL, volumeIndex: Int?,
                                          decode: (NiftiImageHandle, ValidatedFile, Int) throws -> [Voxel]) throws -> Volume<Voxel> {
        let file = try openValidated(url)
        let index = try file.volume(volumeIndex)
        let voxels = try withNiftiImage(file.path) { image in
            try file.check(image)
            return try decode(image, file, index)
        }
        return Volume(shape: file.spatial.spatialShape, affine: file.affine, voxels: voxels, source: .nifti(file.spatial))
    }

    /// Reads and validates the header only. Cheap: no voxels are decompressed.
    public static func readHeader(_ url: URL) throws -> NiftiHeaderInfo {
        let file = try openValidated(url)
        let hasScaling = file.scaling.slope != 1 || file.scaling.intercept != 0
        return NiftiHeaderInfo(path: file.path, version: file.raw.version, shape: file.spatial.spatialShape,
                               volumeCount: file.spatial.volumeCount, datatype: file.datatype,
                               voxelSizes: file.spatial.voxelSizes, affine: file.affine, transformSource: file.transformSource,
                               scaling: hasScaling ? file.scaling : nil, description: file.raw.description,
                               spatial: file.spatial)
    }

    // MARK: - Validation

    /// A header that passed every check, with what reading needs.
    private struct ValidatedFile {
        var path: String
        var raw: NiftiRawHeader
        var spatial: NiftiSpatialHeader
        var datatype: NiftiDatatype
        var voxelCount: Int
        var affine: Affine
        var transformSource: NiftiTransformSource
        var scaling: (slope: Double, intercept: Double)

        func volume(_ requested: Int?) throws -> Int {
            let count = spatial.volumeCount
            guard let requested else {
                if count > 1 { throw VolumeIOError.volumeIndexRequired(path: path, volumes: count) }
                return 0
            }
            guard (0..<count).contains(requested) else {
                throw VolumeIOError.volumeIndexOutOfRange(path: path, index: requested, volumes: count)
            }
            return requested
        }

        /// Cross-checks libnifti's reading of the header against ours, and the size of uncompressed data files.
        func check(_ image: NiftiImageHandle) throws {
            guard [1, 2, 4, 5].contains(image.fileType) else {
                throw VolumeIOError.badMagic(path: path, found: "libnifti file type \(image.fileType)")
            }
            let ours = Array(spatial.dim[1...7])
            let theirs = image.dims.enumerated().map { $0.offset < Int(raw.dim[0]) ? $0.element : 1 }
            guard ours == theirs, image.datatype == datatype.rawValue else {
                throw VolumeIOError.invalidDimensions(path: path, reason: "libnifti read dims \(theirs), header says \(ours)")
            }
            let dataFile = image.dataFile
            let needed = Double(image.dataOffset) + Double(voxelCount) * Double(spatial.volumeCount) * Double(datatype.bytesPerVoxel!)
            // The size of what a symbolic link points to, not of the link (studies are often linked into place).
            let target = URL(fileURLWithPath: dataFile).resolvingSymlinksInPath().path
            let size = (try? FileManager.default.attributesOfItem(atPath: target)[.size] as? Int) ?? nil
            let name = (dataFile as NSString).lastPathComponent
            guard let size else {
                throw VolumeIOError.truncatedData(path: path, expectedBytes: Int(needed), reason: "data file \(name) is missing")
            }
            if dataFile.lowercased().hasSuffix(".gz") {
                // Deflate cannot expand more than 1032:1, so a small .gz cannot hold a huge volume: refuse before
                // allocating (the exact size is only known after decompressing everything).
                guard needed <= Double(size) * 1032 + 4096 else {
                    throw VolumeIOError.truncatedData(path: path, expectedBytes: Int(needed),
                                                      reason: "\(name) has only \(size) compressed bytes")
                }
            } else {
                guard Double(size) >= needed else {
                    throw VolumeIOError.truncatedData(path: path, expectedBytes: Int(needed), reason: "data file \(name) has \(size) bytes")
                }
            }
        }
    }

    private static func openValidated(_ url: URL) throws -> ValidatedFile {
        let path = url.path
        try checkRegularFile(path)
        guard NiftiFileName.isReadable(path) else {
            throw VolumeIOError.unsupportedExtension(path: path, expected: ".nii, .nii.gz or .hdr")
        }
        let raw = try readRawNiftiHeader(path: path)
        let magicOK = raw.version == 1 ? ["n+1", "ni1"].contains(raw.magic) : ["n+2", "ni2"].contains(raw.magic)
        guard magicOK else { throw VolumeIOError.badMagic(path: path, found: "'\(raw.magic)'") }

        // dim[0] is the number of used axes; each used axis must be > 0 and the products must not overflow.
        let ndim = Int(raw.dim[0])
        guard (1...7).contains(ndim) else { throw VolumeIOError.invalidDimensions(path: path, reason: "dim[0] = \(ndim), expected 1...7") }
        // Spatial sizes must be positive. A 0 beyond the third axis means 1, as libnifti reads it; negative is garbage.
        for axis in 1...ndim where raw.dim[axis] < 0 || (raw.dim[axis] == 0 && axis <= 3) {
            throw VolumeIOError.invalidDimensions(path: path, reason: "dim[\(axis)] = \(raw.dim[axis])")
        }
        let dims = (0...7).map { $0 == 0 ? ndim : ($0 <= ndim ? max(1, Int(raw.dim[$0])) : 1) }
        var total = 1, spatial = 1
        for axis in 1...7 {
            let (product, overflow) = total.multipliedReportingOverflow(by: dims[axis])
            guard !overflow else {
                throw VolumeIOError.invalidDimensions(path: path, reason: "voxel count of dims \(Array(dims[1...ndim])) overflows")
            }
            total = product
            if axis == 3 { spatial = product }
        }
        guard spatial <= maximumVoxels else { throw VolumeIOError.tooLarge(path: path, voxels: spatial, limit: maximumVoxels) }

        guard let datatype = NiftiDatatype(rawValue: raw.datatype), datatype.isSupported else {
            throw VolumeIOError.unsupportedDatatype(path: path, code: raw.datatype, name: NiftiDatatype.name(ofCode: raw.datatype))
        }
        let (bytes, overflow) = total.multipliedReportingOverflow(by: datatype.bytesPerVoxel!)
        guard !overflow, bytes < Int(Int64.max / 2) else {
            throw VolumeIOError.invalidDimensions(path: path, reason: "byte count of dims \(Array(dims[1...ndim])) overflows")
        }
        guard raw.voxOffset.isFinite, raw.voxOffset >= 0 else {
            throw VolumeIOError.unreadableHeader(path: path, reason: "vox_offset = \(raw.voxOffset)")
        }

        // Scaling as nibabel's get_slope_inter: a slope of 0 or a non-finite slope means "no scaling".
        var scaling = (slope: 1.0, intercept: 0.0)
        if raw.sclSlope != 0, raw.sclSlope.isFinite {
            guard raw.sclInter.isFinite else {
                throw VolumeIOError.invalidScaling(path: path, reason: "scl_slope = \(raw.sclSlope) but scl_inter = \(raw.sclInter)")
            }
            scaling = (raw.sclSlope, raw.sclInter)
        }

        let header = NiftiSpatialHeader(
            version: raw.version, dim: dims, pixdim: raw.pixdim, qformCode: raw.qformCode, sformCode: raw.sformCode,
            quaternB: raw.quatern[0], quaternC: raw.quatern[1], quaternD: raw.quatern[2],
            qoffsetX: raw.qoffset[0], qoffsetY: raw.qoffset[1], qoffsetZ: raw.qoffset[2],
            sform: raw.srow, xyztUnits: raw.xyztUnits)
        let (affine, source) = header.worldTransform()
        guard affine.values.allSatisfy(\.isFinite), affine.inverse != nil else {
            throw VolumeIOError.invalidGeometry(path: path, reason: "the \(source.rawValue) affine is singular or not finite")
        }
        return ValidatedFile(path: path, raw: raw, spatial: header, datatype: datatype, voxelCount: spatial,
                             affine: affine, transformSource: source, scaling: scaling)
    }
}

/// Throws unless `path` names an existing regular file (following symlinks) that this user may read:
/// directories, pipes and devices are refused before any library opens them (a FIFO would block a reader
/// forever), and a file the user may not read is named as such rather than as a bad header.
func checkRegularFile(_ path: String) throws {
    var info = stat()
    guard stat(path, &info) == 0 else {
        throw errno == EACCES ? VolumeIOError.permissionDenied(path: path) : VolumeIOError.fileNotFound(path: path)
    }
    guard (info.st_mode & S_IFMT) == S_IFREG else { throw VolumeIOError.notARegularFile(path: path) }
    guard access(path, R_OK) == 0 else { throw VolumeIOError.permissionDenied(path: path) }
}
