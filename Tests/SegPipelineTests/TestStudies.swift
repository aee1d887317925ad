import Foundation
import Synchronization
import VolumeIO
@testable import SegPipeline

// Small real NIfTI studies for the graph's mechanics (ledger, failures, memory bound, watcher): a 12 x 10 x 6
// volume, 2 x 2 x 3 mm, value 10 with a bright cube (100) in the middle, and support pairs labelling that cube.
// They go through the real readers, slicing and writers; only the engine is replaced by `FakeSegmenter`, which
// returns each query slice as its own probability map, so the output mask is the cube.

enum TestStudy {
    static let affine = Affine(rows: [[2, 0, 0, -10], [0, 2, 0, -10], [0, 0, 3, 0], [0, 0, 0, 1]])

    static func isCube(_ i: Int, _ j: Int, _ k: Int, _ shape: [Int]) -> Bool {
        (shape[0] / 4..<(3 * shape[0] / 4)).contains(i) && (shape[1] / 4..<(3 * shape[1] / 4)).contains(j)
            && (shape[2] / 4..<(3 * shape[2] / 4 + 1)).contains(k)
    }

    static func image(shape: [Int]) -> Volume<Float> {
        var voxels = [Float](repeating: 10, count: shape.reduce(1, *))
        for k in 0..<shape[2] { for j in 0..<shape[1] { for i in 0..<shape[0] where isCube(i, j, k, shape) {
            voxels[i + shape[0] * (j + shape[1] * k)] = 100
        } } }
        return Volume(shape: shape, affine: affine, voxels: voxels)
    }

    /// The bytes of a study image as a .nii.gz file.
    static func niftiBytes(shape: [Int] = [12, 10, 6]) throws -> Data {
        let folder = try temporaryFolder("bytes")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("image.nii.gz")
        try NiftiWriter.write(image(shape: shape), to: url)
        return try Data(contentsOf: url)
    }
}

/// Writes a study image (a real .nii.gz).
func writeFakeVolume(_ url: URL, shape: [Int] = [12, 10, 6]) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try NiftiWriter.write(TestStudy.image(shape: shape), to: url)
}

/// Writes a support pair whose label is 1 on the bright cube.
func writeFakeSupport(_ folder: URL, name: String, shape: [Int] = [12, 10, 6]) throws {
    let image = TestStudy.image(shape: shape)
    try writeFakeVolume(folder.appendingPathComponent("\(name)_image.nii.gz"), shape: shape)
    try NiftiWriter.write(image.withVoxels(image.voxels.map { $0 > 50 ? Int32(1) : 0 }),
                          to: folder.appendingPathComponent("\(name)_label.nii.gz"))
}

/// Stands in for the engine: probability = the query's normalized intensity (so the mask is the bright cube). Counts calls, can be slowed down, and
/// records the largest number of studies that were in flight while it ran.
final class FakeSegmenter: Segmenter {
    let delay: Double
    /// When set, every call after the first waits for it to be signalled (a test decides when the engine is done).
    let gate: DispatchSemaphore?
    let calls = Mutex(0)
    /// Query slices received, over all calls.
    let queriesSeen = Mutex(0)
    let supportSizes = Mutex<[Int]>([])

    init(delay: Double = 0, gate: DispatchSemaphore? = nil) {
        self.delay = delay
        self.gate = gate
    }

    var modelDescription: String { "fake segmenter" }

    func probabilities(queries: [ModelSlice], supportSets: [[SupportExample]],
                       progress: (Int) -> Void) throws -> [ModelSlice] {
        let call = calls.withLock { count in defer { count += 1 }; return count }
        queriesSeen.withLock { $0 += queries.count }
        supportSizes.withLock { $0.append(contentsOf: supportSets.map(\.count)) }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        if let gate, call > 0 { gate.wait() }
        progress(queries.count)
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
        preprocessing: PreprocessingSpec(axis: .acquisition, normalization: .minMax),
        support: SupportSpec(libraries: [root.appendingPathComponent("support")], strategy: strategy, groups: 2),
        targets: [TargetSpec(name: "cube", value: 1, supportLabels: [1])],
        model: ModelSpec(supportSize: 4, ensemble: 2, threshold: 0.5, seed: 7),
        outputs: OutputSpec(folder: root.appendingPathComponent("out"), writers: writers),
        concurrency: ConcurrencySpec(queueDepth: queueDepth),
        watch: WatchSpec(settleSeconds: 0.3, pollSeconds: 0.05, doneFolder: root.appendingPathComponent("inputs/done"),
                         failedFolder: root.appendingPathComponent("inputs/failed")),
        fingerprint: fingerprint)
}

/// Runs `body` on a thread of its own, not on the cooperative pool: engine work blocks for seconds, and a blocked
/// pool on a 2-core machine stalls other suites' async tests (the watcher's timers among them). Not on
/// `DispatchQueue.global()` either: on Linux Swift's cooperative pool runs on those same threads, one per core.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
