import Foundation

/// Reads NRRD volumes (.nrrd, .nhdr + data; raw, gzip or text; any named 3D space) into RAS+ volumes.
public enum NrrdReader {
    /// Reads and checks the header only (no voxels).
    public static func readHeader(_ url: URL) throws -> NrrdHeader {
        try checkRegularFile(url.path)   // directories and pipes are refused before anything opens them
        return try NrrdHeader.parse(url.path)
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

    private static func volume<Voxel>(_ header: NrrdHeader, _ voxels: [Voxel]) -> Volume<Voxel> {
        Volume(shape: header.shape, affine: header.affine, voxels: voxels, source: .nrrd(header.spatial))
    }
}
