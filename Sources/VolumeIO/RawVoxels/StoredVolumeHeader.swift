import Foundation

/// A research format's parsed header (NRRD, MetaImage, MGH): the grid, where the voxels are stored, and the
/// source's own geometry fields for writing the label map back in kind.
protocol StoredVolumeHeader: Sendable {
    static func parse(_ path: String) throws -> Self
    var shape: [Int] { get }
    var affine: Affine { get }
    var voxels: StoredVoxels { get }
    var source: SourceGeometry { get }
}

/// What the readers of those formats share: the header alone, the image as floats, or integer labels (exactly;
/// float values within `NiftiReader.labelTolerance` of an integer, else an error), each on the header's grid.
enum StoredVolumeFile {
    static func header<Header: StoredVolumeHeader>(_ url: URL) throws -> Header {
        try checkRegularFile(url.path)   // directories and pipes are refused before anything opens them
        return try Header.parse(url.path)
    }

    static func image<Header: StoredVolumeHeader>(_ url: URL, as _: Header.Type) throws -> Volume<Float> {
        let header: Header = try self.header(url)
        return volume(header, try header.voxels.floats())
    }

    static func labels<Header: StoredVolumeHeader>(_ url: URL, as _: Header.Type) throws -> Volume<Int32> {
        let header: Header = try self.header(url)
        return volume(header, try header.voxels.labels(shape: header.shape))
    }

    private static func volume<Voxel>(_ header: some StoredVolumeHeader, _ voxels: [Voxel]) -> Volume<Voxel> {
        Volume(shape: header.shape, affine: header.affine, voxels: voxels, source: header.source)
    }
}
