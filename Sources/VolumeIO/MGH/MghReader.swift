import Foundation

/// Reads FreeSurfer MGH/MGZ volumes (frame 0) into RAS+ volumes, with FreeSurfer's vox2ras.
public enum MghReader {
    public static func readHeader(_ url: URL) throws -> MghHeader {
        try checkRegularFile(url.path)   // directories and pipes are refused before anything opens them
        return try MghHeader.parse(url.path)
    }

    public static func readImage(_ url: URL) throws -> Volume<Float> {
        let header = try readHeader(url)
        return volume(header, try header.voxels.floats())
    }

    /// Integer labels exactly (aseg.mgz, aparc+aseg.mgz); float values within `NiftiReader.labelTolerance` of an integer.
    public static func readLabels(_ url: URL) throws -> Volume<Int32> {
        let header = try readHeader(url)
        return volume(header, try header.voxels.labels(shape: header.shape))
    }

    private static func volume<Voxel>(_ header: MghHeader, _ voxels: [Voxel]) -> Volume<Voxel> {
        Volume(shape: header.shape, affine: header.affine, voxels: voxels, source: .mgh(header.spatial))
    }
}
