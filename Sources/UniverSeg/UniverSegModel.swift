import Foundation
import Synchronization

/// A loaded UniverSeg network (Butoi et al., ICCV 2023): segments a query image given a support set of image and
/// label pairs, with no retraining. Any width and depth load: they are read from the weights.
///
/// Usage: prepare a support set once, then run many queries against it:
///
///     let model = try UniverSegModel(contentsOf: url)
///     let support = try model.prepareSupport(images: images, labels: labels, size: (128, 128))
///     let probabilities = try model.predictProbabilities(query: slice, ensemble: [support], threads: 2)
///
/// Pure: outputs depend only on the weights and inputs, bitwise identical for any thread count (GEMM tiles are
/// fixed, not split by thread). Scratch buffers live in a small pool on the model and are reused across calls;
/// the model is Sendable and may be used from several threads at once.
///
/// Speed (docs/engine.md): the forward pass is reorganised exactly (split and mean cross convs, no per-element
/// work in the last block, the first block's layer pairs run as 5x5 convolutions and its support half cached in
/// `PreparedSupport`), and 3x3 layers run as Winograd F(4x4) by default. OpenBLAS 0.3.21 picks its Cooperlake kernel on Zen 4; with the engine's 512-row
/// tiles that kernel measured as fast as the Zen and Haswell ones, so no OPENBLAS_CORETYPE re-exec is needed.
/// The engine sets OpenBLAS to one thread and parallelises tiles itself.
public final class UniverSegModel: Sendable {
    /// The weights file this model came from.
    public let source: String
    /// Features per encoder block, e.g. [64, 64, 64, 64] for the official model.
    public var encoderWidths: [Int] { weights.encoderWidths }
    public var decoderWidths: [Int] { weights.decoderWidths }
    /// Image sides must be multiples of this (2 to the number of poolings; 8 for the official model).
    public var sizeMultiple: Int { 1 << (weights.encoder.count - 1) }

    /// How 3x3 convolutions are computed.
    public let convolution: ConvolutionAlgorithm
    /// The GEMM arithmetic that runs: `.bf16` only when it was asked for and the CPU has AVX512-BF16, else `.fp32`.
    public let precision: Precision
    /// Whether this CPU runs the bf16 kernel (AVX512-BF16), detected at run time.
    public static var bf16Supported: Bool { BF16.isSupported }
    let weights: NetworkWeights
    private let pool = Mutex<[Workspace]>([])
    /// Idle workspaces kept for reuse; more concurrent callers get temporary ones.
    private static let pooledWorkspaces = 2

    /// Loads a PyTorch checkpoint (`torch.save` zip of a state_dict, optionally wrapped under "state_dict" or
    /// "model") or a safetensors file (F32, F16 or BF16). The format is detected from the content.
    ///
    /// `convolution` picks how 3x3 layers are computed (see `ConvolutionAlgorithm`); all agree with the reference
    /// within the tested tolerance. `precision: .bf16` runs the large GEMMs in bf16 where the CPU has AVX512-BF16
    /// and falls back to fp32 where it has not (`precision` then says `.fp32`).
    public convenience init(contentsOf url: URL, convolution: ConvolutionAlgorithm = .winograd4x4,
                            precision: Precision = .fp32) throws {
        try self.init(contentsOf: url, convolution: convolution, precision: precision, bf16Supported: BF16.isSupported)
    }

    /// `bf16Supported: false` forces the fp32 fallback (tests run both paths on a CPU that has bf16).
    init(contentsOf url: URL, convolution: ConvolutionAlgorithm, precision requested: Precision, bf16Supported: Bool) throws {
        source = url.path
        self.convolution = convolution
        precision = requested.resolved(bf16Supported: bf16Supported)
        BLAS.useCallingThreadOnly()   // early: OpenBLAS's idle pool would spin while the inputs are read
        weights = try NetworkWeights(WeightsFile.read(url), file: url.path, algorithm: convolution, precision: precision)
    }

    /// The model bundled with the tool (`Sources/UniverSeg/Resources/default.safetensors`).
    public static func bundledDefault(convolution: ConvolutionAlgorithm = .winograd4x4,
                                      precision: Precision = .fp32) throws -> UniverSegModel {
        // Bundle.module traps when the resource bundle is absent (e.g. a binary copied without it): look first.
        let bundlePath = Bundle.main.bundleURL.appendingPathComponent("universeg_UniverSeg.resources").path
        guard FileManager.default.fileExists(atPath: bundlePath) else {
            throw UniverSegError(file: bundlePath, "the bundled model's resource folder is missing next to the executable; pass a weights file instead")
        }
        guard let url = Bundle.module.url(forResource: "default", withExtension: "safetensors", subdirectory: "Resources")
            ?? Bundle.module.url(forResource: "default", withExtension: "safetensors") else {
            throw UniverSegError(file: bundlePath + "/Resources/default.safetensors",
                                 "no bundled default model in this build (train one, or pass a weights file)")
        }
        return try UniverSegModel(contentsOf: url, convolution: convolution, precision: precision)
    }

    /// Validates a support set and precomputes its query-independent tensors. `images[i]` and `labels[i]` are
    /// row-major height x width arrays in [0, 1]. An all-zero label is legal (it is reported in `warnings`).
    ///
    /// `cacheFirstBlock: false` suits a set that serves one query: the first block's support-side part (count x
    /// pixels x F0 floats, 256 MiB at S=64 and 128x128 for the width-64 model) is then not precomputed and held,
    /// but computed by each query a few elements at a time. Logits are bitwise the same either way.
    /// - Complexity: O(count x pixels x F0) time and memory (O(count x pixels) without the cache).
    public func prepareSupport(images: [[Float]], labels: [[Float]], size: (height: Int, width: Int),
                               threads: Int = 1, cacheFirstBlock: Bool = true) throws -> PreparedSupport {
        let (height, width) = size
        try InputChecks.threads(threads)
        try InputChecks.size(height, width, multiple: sizeMultiple)
        guard !images.isEmpty else { throw UniverSegError("the support set is empty (UniverSeg needs at least one image and label)") }
        guard images.count == labels.count else {
            throw UniverSegError("the support set has \(images.count) images but \(labels.count) labels")
        }
        guard images.count <= InputChecks.maxSupport else {
            throw UniverSegError("the support set has \(images.count) elements; at most \(InputChecks.maxSupport) are accepted")
        }
        // Refuse before allocating: the cache and the per-element feature maps are about 2 x count x pixels x F0 floats.
        let needed = 2 * Double(images.count) * Double(height * width) * Double(weights.encoder[0].features) * 4
        let available = Double(ProcessInfo.processInfo.physicalMemory)
        guard needed < available else {
            throw UniverSegError(String(format: "a support set of %d images of %dx%d needs about %.1f GiB, more than this machine's %.1f GiB",
                                        images.count, height, width, needed / 1_073_741_824, available / 1_073_741_824))
        }
        var warnings: [String] = []
        for i in images.indices {
            try InputChecks.image(images[i], "support image \(i)", height: height, width: width)
            try InputChecks.image(labels[i], "support label \(i)", height: height, width: width)
            if labels[i].allSatisfy({ $0 <= 0 }) {
                warnings.append("support label \(i) is empty (all zero): allowed, but it only shows the model what the target is not")
            }
        }
        let cache = withWorkspace { weights.prepare(images: images, labels: labels, height: height, width: width,
                                                    cachingFirstBlock: cacheFirstBlock, workspace: $0, threads: threads) }
        return PreparedSupport(cache: cache, warnings: warnings, model: self)
    }

    /// Logits (row-major height x width, before the sigmoid) for one query image in [0, 1].
    public func predictLogits(query: [Float], support: PreparedSupport, threads: Int = 1) throws -> [Float] {
        try InputChecks.threads(threads)
        try check(support)
        try InputChecks.image(query, "query image", height: support.height, width: support.width)
        return withWorkspace { weights.forward(query: query, support: support.cache, workspace: $0, threads: threads) }
    }

    /// Foreground probability per pixel: the mean over support sets of sigmoid(logits) (support-set ensembling).
    public func predictProbabilities(query: [Float], ensemble: [PreparedSupport], threads: Int = 1) throws -> [Float] {
        guard let first = ensemble.first else { throw UniverSegError("the ensemble has no support sets") }
        for s in ensemble where s.height != first.height || s.width != first.width {
            throw UniverSegError("ensemble support sets differ in size (\(first.height)x\(first.width) and \(s.height)x\(s.width))")
        }
        var sum = [Float](repeating: 0, count: first.height * first.width)
        for support in ensemble {
            let logits = try predictLogits(query: query, support: support, threads: threads)
            for i in sum.indices { sum[i] += Self.sigmoid(logits[i]) }
        }
        let scale = 1 / Float(ensemble.count)
        return sum.map { $0 * scale }
    }

    /// Numerically stable logistic function.
    public static func sigmoid(_ x: Float) -> Float {
        x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
    }

    private func check(_ support: PreparedSupport) throws {
        guard support.modelIdentity == ObjectIdentifier(self) else {
            throw UniverSegError("this support set was prepared by another model instance; prepare it with this one")
        }
    }

    /// Runs `body` with a workspace from the pool (or a new one), returning it afterwards.
    private func withWorkspace<T>(_ body: (Workspace) throws -> T) rethrows -> T {
        let workspace = pool.withLock { $0.popLast() } ?? Workspace()
        defer {
            pool.withLock { idle in
                if idle.count < Self.pooledWorkspaces { idle.append(workspace) }
            }
        }
        return try body(workspace)
    }
}
