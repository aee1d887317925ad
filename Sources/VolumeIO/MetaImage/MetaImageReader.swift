import Foundation

/// Reads MetaImage volumes (.mha, .mhd + data; raw or zlib-compressed) into RAS+ volumes, with ITK's reading of
/// the geometry (LPS; TransformMatrix, Offset, ElementSpacing).
public enum MetaImageReader {
    /// Reads and checks the header only (no voxels).
    public static func readHeader(_ url: URL) throws -> MetaImageHeader { try StoredVolumeFile.header(url) }
    public static func readImage(_ url: URL) throws -> Volume<Float> { try StoredVolumeFile.image(url, as: MetaImageHeader.self) }
    public static func readLabels(_ url: URL) throws -> Volume<Int32> { try StoredVolumeFile.labels(url, as: MetaImageHeader.self) }
}
