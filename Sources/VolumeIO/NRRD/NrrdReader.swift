import Foundation

/// Reads NRRD volumes (.nrrd, .nhdr + data; raw, gzip or text; any named 3D space) into RAS+ volumes.
public enum NrrdReader {
    /// Reads and checks the header only (no voxels).
    public static func readHeader(_ url: URL) throws -> NrrdHeader { try StoredVolumeFile.header(url) }
    public static func readImage(_ url: URL) throws -> Volume<Float> { try StoredVolumeFile.image(url, as: NrrdHeader.self) }
    public static func readLabels(_ url: URL) throws -> Volume<Int32> { try StoredVolumeFile.labels(url, as: NrrdHeader.self) }
}
