import Foundation
import Synchronization
import VolumeIO
@testable import SegPipeline

// In-memory stand-ins for the NIfTI reader/writer, the model-grid slicer and the engine, which live on other
// branches until they are merged. Test studies are real files on disk (so discovery, fingerprints, the ledger and
// atomic writes are exercised for real); their content is a small text header "FAKEVOL nx ny nz" that
// `FakeVolumes` turns into a volume with a bright cube in the middle. A file starting with anything else is corrupt.

/// Writes a fake study file.
func writeFakeVolume(_ url: URL, shape: [Int] = [12, 10, 6]) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data("FAKEVOL \(shape[0]) \(shape[1]) \(shape[2])\n".utf8).write(to: url)
}

/// Writes a support pair whose label is 1 on the bright cube.
func writeFakeSupport(_ folder: URL, name: String, shape: [Int] = [12, 10, 6]) throws {
    try writeFakeVolume(folder.appendingPathComponent("\(name)_image.nii.gz"), shape: shape)
    try writeFakeVolume(folder.appendingPathComponent("\(name)_label.nii.gz"), shape: shape)
}

struct FakeVolumes: VolumeBackend {
    static let affine = Affine(rows: [[2, 0, 0, -10], [0, 2, 0, -10], [0, 0, 3, 0], [0, 0, 0, 1]])

    func shape(_ url: URL) throws -> [Int] {
        guard let text = try? String(contentsOf: url, encoding: .utf8), text.hasPrefix("FAKEVOL ") else {
            throw PipelineError.unreadable(url.path, reason: "not a NIfTI file (bad magic)")
        }
        let numbers = text.dropFirst(8).split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
        guard numbers.count == 3 else { throw PipelineError.unreadable(url.path, reason: "bad header") }
        return numbers
    }

    static func isCube(_ i: Int, _ j: Int, _ k: Int, _ shape: [Int]) -> Bool {
        (shape[0] / 4..<(3 * shape[0] / 4)).contains(i) && (shape[1] / 4..<(3 * shape[1] / 4)).contains(j)
            && (shape[2] / 4..<(3 * shape[2] / 4 + 1)).contains(k)
    }

    func volume(_ url: URL) throws -> Volume<Float> {
        let s = try shape(url)
        var voxels = [Float](repeating: 10, count: s.reduce(1, *))
        for k in 0..<s[2] { for j in 0..<s[1] { for i in 0..<s[0] where Self.isCube(i, j, k, s) {
            voxels[i + s[0] * (j + s[1] * k)] = 100
        } } }
        return Volume(shape: s, affine: Self.affine, voxels: voxels)
    }

    func niftiSeries(_ file: URL) throws -> SeriesCandidate {
        SeriesCandidate(id: file.lastPathComponent.replacingOccurrences(of: ".nii.gz", with: ""), format: .nifti,
                        modality: nil, description: file.lastPathComponent, shape: try shape(file),
                        affine: Self.affine, files: [file])
    }

    func dicomSeries(in folder: URL) throws -> [SeriesCandidate] {
        throw PipelineError.unavailable("no DICOM in fake studies")
    }

    func readImage(_ series: SeriesCandidate) throws -> Volume<Float> { try volume(series.files[0]) }

    func readSupport(_ pair: SupportPair) throws -> (image: Volume<Float>, label: Volume<Int32>) {
        let image = try volume(pair.image)
        return (image, image.withVoxels(image.voxels.map { $0 > 50 ? 1 : 0 }))
    }

    func writeLabelMap(_ labels: Volume<Int32>, to url: URL) throws {
        try Data("LABELS \(labels.shape) \(labels.voxels.filter { $0 != 0 }.count)\n".utf8).write(to: url)
    }

    func writeProbabilities(_ map: Volume<Float>, to url: URL) throws {
        try Data("PROB \(map.shape)\n".utf8).write(to: url)
    }

    func writeDicomSeg(_ labels: Volume<Int32>, targets: [TargetSpec], to url: URL) throws {
        throw PipelineError.unavailable("no DICOM SEG in fake studies")
    }
}

/// Nearest-neighbour resampling of each slice to 128 x 128 and back.
struct FakeGrid: ModelGrid {
    func inPlane(_ axis: Int) -> (Int, Int) {
        let others = (0..<3).filter { $0 != axis }
        return (others[0], others[1])
    }

    func slices(of image: Volume<Float>, axis: Int) -> [ModelSlice] {
        let (u, v) = inPlane(axis)
        let side = ModelSlice.side
        return (0..<image.shape[axis]).map { s in
            var pixels = [Float](repeating: 0, count: side * side)
            for y in 0..<side { for x in 0..<side {
                var index = [0, 0, 0]
                index[axis] = s; index[u] = x * image.shape[u] / side; index[v] = y * image.shape[v] / side
                pixels[y * side + x] = image[index[0], index[1], index[2]]
            } }
            return ModelSlice(pixels: pixels)
        }
    }

    func masks(of labels: Volume<Int32>, axis: Int, values: Set<Int32>) -> [ModelSlice] {
        slices(of: labels.withVoxels(labels.voxels.map { values.contains($0) ? Float(1) : 0 }), axis: axis)
    }

    func native(_ probabilities: [ModelSlice], like image: Volume<Float>, axis: Int) -> Volume<Float> {
        let (u, v) = inPlane(axis)
        var out = image.withVoxels([Float](repeating: 0, count: image.count))
        for k in 0..<image.shape[2] { for j in 0..<image.shape[1] { for i in 0..<image.shape[0] {
            let index = [i, j, k]
            let x = (index[u] * ModelSlice.side + ModelSlice.side / 2) / image.shape[u]
            let y = (index[v] * ModelSlice.side + ModelSlice.side / 2) / image.shape[v]
            out[i, j, k] = probabilities[index[axis]].pixels[y * ModelSlice.side + x]
        } } }
        return out
    }
}

/// "Segments" bright pixels: probability = the query's normalized intensity. Counts calls, can be slowed down, and
/// records the largest number of studies that were in flight while it ran.
final class FakeSegmenter: Segmenter {
    let delay: Double
    let calls = Mutex(0)
    let supportSizes = Mutex<[Int]>([])

    init(delay: Double = 0) { self.delay = delay }

    var modelDescription: String { "fake segmenter" }

    func probabilities(queries: [ModelSlice], supportSets: [[SupportExample]]) throws -> [ModelSlice] {
        calls.withLock { $0 += 1 }
        supportSizes.withLock { $0.append(contentsOf: supportSets.map(\.count)) }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        return queries
    }
}

/// A fresh temporary folder per test, removed afterwards by the caller's `defer`.
func temporaryFolder(_ name: String = #function) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("segpipeline-\(name.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A spec over `root/inputs` with support in `root/support`, writing to `root/out`.
func fakeSpec(root: URL, writers: [WriterKind] = [.nifti, .report, .qc], queueDepth: Int = 1,
              strategy: SupportStrategy = .random, fingerprint: String = "spec-1") -> PipelineSpec {
    PipelineSpec(
        name: "fake", inputs: InputSpec(folder: root.appendingPathComponent("inputs")),
        preprocessing: PreprocessingSpec(axis: .auto, normalization: .minmax),
        support: SupportSpec(libraries: [root.appendingPathComponent("support")], strategy: strategy, groups: 2),
        targets: [TargetSpec(name: "cube", value: 1, supportLabels: [1])],
        model: ModelSpec(supportSize: 4, ensemble: 2, threshold: 0.5, seed: 7),
        outputs: OutputSpec(folder: root.appendingPathComponent("out"), writers: writers),
        concurrency: ConcurrencySpec(queueDepth: queueDepth),
        watch: WatchSpec(settleSeconds: 0.3, pollSeconds: 0.05, doneFolder: root.appendingPathComponent("inputs/done"),
                         failedFolder: root.appendingPathComponent("inputs/failed")),
        fingerprint: fingerprint)
}

func fakeBackends(_ segmenter: FakeSegmenter = FakeSegmenter()) -> PipelineBackends {
    PipelineBackends(volumes: FakeVolumes(), grid: FakeGrid(), segmenter: segmenter)
}
