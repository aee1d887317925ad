import Foundation

/// Reads FreeSurfer MGH/MGZ volumes (frame 0) into RAS+ volumes, with FreeSurfer's vox2ras; integer labels
/// (aseg.mgz, aparc+aseg.mgz) exactly.
public enum MghReader {
    /// Reads and checks the header only (no voxels).
    public static func readHeader(_ url: URL) throws -> MghHeader { try StoredVolumeFile.header(url) }
    public static func readImage(_ url: URL) throws -> Volume<Float> { try StoredVolumeFile.image(url, as: MghHeader.self) }
    public static func readLabels(_ url: URL) throws -> Volume<Int32> { try StoredVolumeFile.labels(url, as: MghHeader.self) }
}
