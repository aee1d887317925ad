import Foundation

/// Writes 3D volumes as NIfTI (.nii or .nii.gz by the name), atomically (temporary name, then rename), and
/// verifies every file by reading it back before it replaces the destination.
///
/// Geometry: a volume read from NIfTI (`source == .nifti`) and still on that grid (same shape and affine) is
/// written with the source's version, pixdim, qform and sform (with their codes) and xyzt units, so viewers
/// overlay it exactly on the source. Any other volume (e.g. from DICOM) gets sform = qform = its affine, codes 1
/// (scanner), units mm, NIfTI-1 (NIfTI-2 when a side exceeds 32767).
public enum NiftiWriter {
    /// Writes a label map as UINT8 when all values are in 0...255, else INT16 when they fit, else INT32.
    public static func write(_ volume: Volume<Int32>, to url: URL, description: String = "universeg labels") throws {
        let datatype = labelDatatype(for: volume.voxels)
        try write(volume.shape, volume.affine, volume.source, to: url, datatype: datatype, description: description,
                  payload: .labels(volume.voxels))
    }

    /// Writes an image or probability map as FLOAT32 (scl_slope 1, scl_inter 0).
    public static func write(_ volume: Volume<Float>, to url: URL, description: String = "universeg probabilities") throws {
        try write(volume.shape, volume.affine, volume.source, to: url, datatype: .float32, description: description,
                  payload: .floats(volume.voxels))
    }

    /// Label maps compress well and fast at zlib's default level 6 (1.5 MB to 33 KB for the sample study). Float
    /// maps barely compress however hard zlib looks (the sample study's 6.0 MB probability map: 5.081 MB at level 1,
    /// 5.087 MB at 6, 5.089 MB with run-length matches only), and run-length matching takes 0.06 s where level 1
    /// takes 0.15 s and level 6 0.24 s (Python's zlib, one thread).
    static func compression(for payload: NiftiVoxelPayload) -> NiftiCompression {
        let threads = min(4, ProcessInfo.processInfo.activeProcessorCount)
        switch payload {
        case .labels: return NiftiCompression(level: 6, threads: threads)
        case .floats: return NiftiCompression(level: 1, strategy: .runLength, threads: threads)
        }
    }

    /// The smallest of UINT8, INT16, INT32 that holds every value.
    public static func labelDatatype(for labels: [Int32]) -> NiftiDatatype {
        guard let low = labels.min(), let high = labels.max() else { return .uint8 }
        if low >= 0 && high <= 255 { return .uint8 }
        if low >= Int32(Int16.min) && high <= Int32(Int16.max) { return .int16 }
        return .int32
    }

    /// The header a volume is written with: its NIfTI source's spatial fields when the volume is still on that
    /// grid (made 3D), else a fresh header from the affine.
    public static func outputHeader(shape: [Int], affine: Affine, source: SourceGeometry?) -> NiftiSpatialHeader {
        if case .nifti(var header) = source, header.spatialShape == shape, header.worldTransform().affine == affine {
            header.dim = [3, shape[0], shape[1], shape[2], 1, 1, 1, 1]
            return header
        }
        return NiftiSpatialHeader(affine: affine, shape: shape)
    }

    private static func write(_ shape: [Int], _ affine: Affine, _ source: SourceGeometry?, to url: URL,
                              datatype: NiftiDatatype, description: String, payload: NiftiVoxelPayload) throws {
        let path = url.path
        guard NiftiFileName.extension(of: path) != nil else {
            throw VolumeIOError.unsupportedExtension(path: path, expected: ".nii or .nii.gz")
        }
        guard shape.count == 3, shape.allSatisfy({ $0 > 0 }), affine.inverse != nil else {
            throw VolumeIOError.writeFailed(path: path, reason: "shape \(shape) or affine is not a valid 3D grid")
        }
        let header = outputHeader(shape: shape, affine: affine, source: source)
        do {
            try AtomicFile.write(to: url) { temporary in
                try writeNiftiFile(path: temporary.path, header: header, datatype: datatype, description: description,
                                   voxels: payload, compression: compression(for: payload))
                try verify(temporary, header: header, datatype: datatype, payload: payload)
            }
        } catch let error as VolumeIOError {
            // Name the destination, not the temporary file the user never sees.
            if case .writeFailed(_, let reason) = error { throw VolumeIOError.writeFailed(path: path, reason: reason) }
            throw VolumeIOError.writeFailed(path: path, reason: error.reason)
        } catch {
            throw VolumeIOError.writeFailed(path: path, reason: "\(error.localizedDescription)")
        }
    }

    /// How far (relative) a written affine may read back from the one asked for: NIfTI-1 stores the transforms as
    /// float32 (relative rounding 6e-8, a few roundings on the way), and nothing more may differ.
    static let float32Rounding = 1e-6

    /// libnifti's writer reports nothing, so read the file back and compare geometry and every voxel.
    private static func verify(_ url: URL, header: NiftiSpatialHeader, datatype: NiftiDatatype,
                               payload: NiftiVoxelPayload) throws {
        let info = try NiftiReader.readHeader(url)
        let expected = header.worldTransform().affine
        let sameGeometry = zip(info.affine.values, expected.values).allSatisfy {
            abs($0 - $1) <= float32Rounding * (1 + abs($1))
        }
        guard info.datatype == datatype, info.shape == header.spatialShape, info.volumeCount == 1, sameGeometry else {
            throw VolumeIOError.writeFailed(path: url.path, reason: "the written header does not read back as written")
        }
        switch payload {
        case .labels(let labels):
            guard try NiftiReader.readLabels(url).voxels == labels else {
                throw VolumeIOError.writeFailed(path: url.path, reason: "the written voxels do not read back as written")
            }
        case .floats(let floats):
            // Bit patterns, so NaN compares equal to itself and -0 differs from 0.
            let back = try NiftiReader.readImage(url).voxels
            guard back.count == floats.count, zip(back, floats).allSatisfy({ $0.bitPattern == $1.bitPattern }) else {
                throw VolumeIOError.writeFailed(path: url.path, reason: "the written voxels do not read back as written")
            }
        }
    }
}
