import Foundation

/// Reads MetaImage volumes (.mha, .mhd + data; raw or zlib-compressed) into RAS+ volumes, with ITK's reading of
/// the geometry (LPS; TransformMatrix, Offset, ElementSpacing).
public enum MetaImageReader {
    public static func readHeader(_ url: URL) throws -> MetaImageHeader {
        try checkRegularFile(url.path)   // directories and pipes are refused before anything opens them
        return try MetaImageHeader.parse(url.path)
    }

    public static func readImage(_ url: URL) throws -> Volume<Float> {
        let header = try readHeader(url)
        return volume(header, try header.voxels.floats())
    }

    /// Integer labels exactly; float values within `NiftiReader.labelTolerance` of an integer (else an error).
    public static func readLabels(_ url: URL) throws -> Volume<Int32> {
        let header = try readHeader(url)
        return volume(header, try header.voxels.labels(shape: header.shape))
    }

    private static func volume<Voxel>(_ header: MetaImageHeader, _ voxels: [Voxel]) -> Volume<Voxel> {
        Volume(shape: header.shape, affine: header.affine, voxels: voxels, source: .metaImage(header.spatial))
    }
}
