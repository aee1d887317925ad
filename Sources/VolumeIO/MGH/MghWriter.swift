import Foundation
import ZlibShim

/// Writes a label map as FreeSurfer MGH (.mgh) or gzip-compressed MGZ (.mgz, .mgh.gz), atomically, read back before
/// it replaces the destination.
///
/// Geometry: a volume read from MGH keeps the source's delta, Mdc and c_ras (so the affine reads back exactly); any
/// other volume gets them from its affine, rounded to float32 as the format stores them.
public enum MghWriter {
    public static func write(_ labels: Volume<Int32>, to url: URL) throws {
        let path = url.path
        let lower = path.lowercased()
        guard lower.hasSuffix(".mgz") || lower.hasSuffix(".mgh") || lower.hasSuffix(".mgh.gz") else {
            throw VolumeIOError.unsupportedExtension(path: path, expected: ".mgz, .mgh or .mgh.gz")
        }
        try VerifiedWrite.checkGrid(labels, path: path)
        let spatial = header(for: labels)
        let type = VoxelType.forLabels(labels.voxels)
        var bytes = [UInt8]()
        bytes.reserveCapacity(MghHeader.dataOffset + labels.count * type.size)
        func int32(_ v: Int32) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
        func float(_ v: Float) { int32(Int32(bitPattern: v.bitPattern)) }
        int32(1)
        labels.shape.forEach { int32(Int32($0)) }
        int32(1)                                            // frames
        int32(["uint8": 0, "int16": 4, "int32": 1][type.rawValue]!)
        int32(0)                                            // dof
        bytes += [0, 1]                                     // goodRASFlag
        spatial.spacing.forEach(float)
        spatial.directions.forEach(float)
        spatial.centre.forEach(float)
        bytes += [UInt8](repeating: 0, count: MghHeader.dataOffset - bytes.count)
        bytes += type.encode(labels.voxels, bigEndian: true)
        let data = MghHeader.isCompressedName(path) ? Zlib.gzipped(bytes) : Data(bytes)
        let expected = spatial.affine
        try VerifiedWrite.write(data, to: url) { temporary in
            let back = try MghReader.readLabels(temporary)
            return back.shape == labels.shape && back.voxels == labels.voxels && back.affine == expected
                && zip(expected.values, labels.affine.values).allSatisfy { abs($0 - $1) <= 1e-4 * (1 + abs($1)) }
        }
    }

    /// The source's fields when the volume is still on that grid, else fields made from the affine.
    static func header(for volume: Volume<Int32>) -> MghSpatialHeader {
        if case .mgh(let source) = volume.source, source.shape == volume.shape, source.affine == volume.affine { return source }
        return MghSpatialHeader(affine: volume.affine, shape: volume.shape)
    }
}
