import Foundation
import ZlibShim

/// Writes a label map as one MetaImage file (.mha, zlib-compressed data after the header, as ITK writes it),
/// atomically, read back before it replaces the destination.
///
/// Geometry: a volume read from MetaImage keeps the source's ElementSpacing, Offset and TransformMatrix; any other
/// volume gets them from its affine (LPS).
public enum MetaImageWriter {
    public static func write(_ labels: Volume<Int32>, to url: URL) throws {
        let path = url.path
        guard path.lowercased().hasSuffix(".mha") else { throw VolumeIOError.unsupportedExtension(path: path, expected: ".mha") }
        try VerifiedWrite.checkGrid(labels, path: path)
        let spatial = header(for: labels)
        let type = VoxelType.forLabels(labels.voxels)
        let payload = Zlib.compressed(type.encode(labels.voxels, bigEndian: false))
        func list(_ values: [Double]) -> String { values.map(HeaderChecks.text).joined(separator: " ") }
        let text = """
            ObjectType = Image
            NDims = 3
            BinaryData = True
            BinaryDataByteOrderMSB = False
            CompressedData = True
            CompressedDataSize = \(payload.count)
            TransformMatrix = \(list(spatial.transformMatrix))
            Offset = \(list(spatial.offset))
            ElementSpacing = \(list(spatial.spacing))
            DimSize = \(labels.shape.map(String.init).joined(separator: " "))
            ElementType = \(["uint8": "MET_UCHAR", "int16": "MET_SHORT", "int32": "MET_INT"][type.rawValue]!)
            ElementDataFile = LOCAL

            """
        var data = Data(text.utf8)
        data.append(payload)
        try VerifiedWrite.write(data, to: url) { temporary in
            let back = try MetaImageReader.readLabels(temporary)
            return back.shape == labels.shape && back.voxels == labels.voxels
                && (back.affine == labels.affine || Self.close(back.affine, labels.affine))
        }
    }

    /// The source's spatial fields when the volume is still on that grid, else fields made from the affine.
    static func header(for volume: Volume<Int32>) -> MetaImageSpatialHeader {
        if case .metaImage(let source) = volume.source, source.affine == volume.affine { return source }
        return MetaImageSpatialHeader(affine: volume.affine)
    }

    /// Within the rounding of dividing by the spacing and multiplying back (a few ulps).
    private static func close(_ a: Affine, _ b: Affine) -> Bool {
        zip(a.values, b.values).allSatisfy { abs($0 - $1) <= 1e-12 * (1 + abs($1)) }
    }
}
