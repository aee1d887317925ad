import Foundation
import VolumeIO

/// What the job graph needs from file formats. The CLI passes the real one built on VolumeIO
/// (NIfTI reader/writer, DICOM series reader, DICOM SEG writer); tests may pass their own.
public protocol VolumeBackend: Sendable {
    /// Header facts of one NIfTI image file, without reading its voxels when the format allows.
    func niftiSeries(_ file: URL) throws -> SeriesCandidate
    /// The image series found in a folder of DICOM files.
    func dicomSeries(in folder: URL) throws -> [SeriesCandidate]
    /// The voxels of a series, in RAS+ with its source geometry attached.
    func readImage(_ series: SeriesCandidate) throws -> Volume<Float>
    /// One support example: the image and its label map on the same grid.
    func readSupport(_ pair: SupportPair) throws -> (image: Volume<Float>, label: Volume<Int32>)
    /// A label map in the exact geometry of `labels.source` (written atomically).
    func writeLabelMap(_ labels: Volume<Int32>, to url: URL) throws
    /// A float map (probabilities) in the exact geometry of `map.source` (written atomically).
    func writeProbabilities(_ map: Volume<Float>, to url: URL) throws
    /// A DICOM SEG referencing the source series of `labels` (written atomically); one segment per target.
    func writeDicomSeg(_ labels: Volume<Int32>, targets: [TargetSpec], to url: URL) throws
}

/// Moving between a volume and the model's 128 x 128 grid along one index axis.
public protocol ModelGrid: Sendable {
    /// One model slice per index along `axis`, resampled to 128 x 128 (values as in `image`).
    func slices(of image: Volume<Float>, axis: Int) -> [ModelSlice]
    /// Binary masks (1 where the label is one of `values`) per index along `axis`, on the model grid.
    func masks(of labels: Volume<Int32>, axis: Int, values: Set<Int32>) -> [ModelSlice]
    /// Model-grid probabilities, one per index along `axis`, resampled back onto `image`'s grid.
    func native(_ probabilities: [ModelSlice], like image: Volume<Float>, axis: Int) -> Volume<Float>
}

/// The UniverSeg engine as the graph uses it.
public protocol Segmenter: Sendable {
    /// The foreground probability of each query slice, averaged over `supportSets` (the ensemble members).
    func probabilities(queries: [ModelSlice], supportSets: [[SupportExample]]) throws -> [ModelSlice]
    /// Model name and version for reports, e.g. "UniverSeg v1 (bundled, sha256 1234…)".
    var modelDescription: String { get }
}

public struct PipelineBackends: Sendable {
    public var volumes: any VolumeBackend
    public var grid: any ModelGrid
    public var segmenter: any Segmenter

    public init(volumes: any VolumeBackend, grid: any ModelGrid, segmenter: any Segmenter) {
        self.volumes = volumes
        self.grid = grid
        self.segmenter = segmenter
    }
}
