import Foundation
import UniverSeg
import VolumeIO

/// Images read from NIfTI exactly as stored, for the model: `images[s]` is element `s`, row-major
/// `height * width` with NIfTI axis 0 as the model's width axis (the fastest index, the last tensor dimension)
/// and axis 1 as its height axis. That is the NIfTI voxel order itself, so no voxel moves.
///
/// Invariant: every `images[s].count == width * height`, and `images` is not empty.
public struct RawImageStack: Sendable {
    public var width: Int
    public var height: Int
    public var images: [[Float]]
}

/// `universeg infer`: the engine on NIfTI files with no preprocessing at all (no canonical reorientation, no
/// resampling, no intensity normalisation). For checking the engine against a reference and for callers that
/// prepare their own slices.
///
/// Ensembling (`ensemble` K > 1): support element `s` goes to set `s % K` (round robin), the K sets are prepared
/// separately, and the output is logit(mean over sets of sigmoid(logits)), computed as
/// `log Σ σ(x_k) − log Σ σ(−x_k)` in double precision so no probability rounds to 0 or 1 on the way.
public enum RawInference {
    /// Reads a query image: NIfTI shape W x H, W x H x 1 or W x H x 1 x 1, values in [0, 1].
    public static func readQuery(_ url: URL) throws -> Volume<Float> {
        let header = try NiftiReader.readHeader(url)
        guard header.shape[2] == 1, header.volumeCount == 1 else {
            let dims = Array(header.spatial.dim[1...max(1, header.spatial.dim[0])])
            throw EvaluationError(url.path, "the query must be one 2D image (W x H or W x H x 1), this file has dims \(dims)")
        }
        let query = try NiftiReader.readImage(url)
        try checkUnitRange(query.voxels, width: query.shape[0], height: query.shape[1], file: url.path)
        return query
    }

    /// Reads a stack of 2D images: NIfTI W x H x S (axis 2 indexes the element) or W x H x 1 x S (axis 3 does).
    public static func readStack(_ url: URL) throws -> RawImageStack {
        let header = try NiftiReader.readHeader(url)
        let (width, height) = (header.shape[0], header.shape[1])
        let plane = width * height
        var images: [[Float]] = []
        if header.volumeCount == 1 {
            let volume = try NiftiReader.readImage(url)
            images = (0..<header.shape[2]).map { Array(volume.voxels[$0 * plane ..< ($0 + 1) * plane]) }
        } else {
            guard header.shape[2] == 1 else {
                throw EvaluationError(url.path, "a 4D stack must be W x H x 1 x S; this file is \(header.shape) x \(header.volumeCount) volumes")
            }
            images = try (0..<header.volumeCount).map { try NiftiReader.readImage(url, volumeIndex: $0).voxels }
        }
        guard !images.isEmpty else { throw EvaluationError(url.path, "the support stack is empty (S = 0)") }
        for (s, image) in images.enumerated() {
            try checkUnitRange(image, width: width, height: height, file: url.path, element: s)
        }
        return RawImageStack(width: width, height: height, images: images)
    }

    /// Support element indices of each ensemble member: element `s` goes to member `s % sets`.
    /// - Precondition: `1 <= sets <= count`.
    public static func roundRobin(count: Int, sets: Int) -> [[Int]] {
        precondition(sets >= 1 && sets <= count, "1...count sets")
        return (0..<sets).map { Array(stride(from: $0, to: count, by: sets)) }
    }

    /// logit(mean_k sigmoid(logits[k])) per pixel, stable for any logit size: `log Σ σ(x_k) − log Σ σ(−x_k)`,
    /// with `log σ(x) = −softplus(−x)` and log-sum-exp in double precision. One member gives its logits back.
    public static func logitOfMeanProbability(_ logits: [[Float]]) -> [Float] {
        precondition(!logits.isEmpty && logits.allSatisfy { $0.count == logits[0].count })
        func logSigmoid(_ x: Double) -> Double { x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x)) }
        func logSumExp(_ v: [Double]) -> Double {
            let m = v.max()!
            return m + log(v.reduce(0) { $0 + exp($1 - m) })
        }
        return (0..<logits[0].count).map { i in
            let x = logits.map { Double($0[i]) }
            return Float(logSumExp(x.map(logSigmoid)) - logSumExp(x.map { logSigmoid(-$0) }))
        }
    }

    /// The logit map of `query` given the support stacks, on the query's grid (same shape, affine and source), and
    /// warnings about the support stack (an empty label), one line each.
    /// - Parameter files: the query, support-image and support-label paths, to name in errors.
    public static func logits(model: UniverSegModel, query: Volume<Float>, images: RawImageStack, labels: RawImageStack,
                              ensemble: Int, threads: Int, files: (query: String, images: String, labels: String))
        throws -> (logits: Volume<Float>, warnings: [String]) {
        let (width, height) = (query.shape[0], query.shape[1])
        for (stack, file) in [(images, files.images), (labels, files.labels)] where stack.width != width || stack.height != height {
            throw EvaluationError(file, "support elements are \(stack.width) x \(stack.height) but the query \(files.query) is \(width) x \(height)")
        }
        guard images.images.count == labels.images.count else {
            throw EvaluationError(files.labels, "\(labels.images.count) support labels for \(images.images.count) support images in \(files.images)")
        }
        let count = images.images.count
        guard ensemble >= 1, ensemble <= count else {
            throw EvaluationError(files.images, "an ensemble of \(ensemble) sets needs at least \(ensemble) support elements; the stack has \(count)")
        }
        let multiple = model.sizeMultiple
        guard width % multiple == 0, height % multiple == 0 else {
            throw EvaluationError(files.query, "the image is \(width) x \(height); the model needs sides that are multiples of \(multiple) (e.g. 128 x 128)")
        }
        let warnings = labels.images.indices.filter { labels.images[$0].allSatisfy { $0 <= 0 } }.map {
            "\(files.labels): warning: support label \($0) is empty (all zero): allowed, but it only shows the model what the target is not"
        }
        var members: [[Float]] = []
        for set in roundRobin(count: count, sets: ensemble) {
            let support: PreparedSupport
            do {
                support = try model.prepareSupport(images: set.map { images.images[$0] }, labels: set.map { labels.images[$0] },
                                                   size: (height, width), threads: threads, cacheFirstBlock: false)
            } catch let error as UniverSegError {
                throw EvaluationError(files.images, error.reason)
            }
            members.append(try model.predictLogits(query: query.voxels, support: support, threads: threads))
        }
        return (query.withVoxels(members.count == 1 ? members[0] : logitOfMeanProbability(members)), warnings)
    }

    /// Refuses values outside [0, 1] (and NaN), naming the first offending voxel: `infer` does no normalisation.
    static func checkUnitRange(_ values: [Float], width: Int, height: Int, file: String, element: Int? = nil) throws {
        guard let bad = values.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) else { return }
        let outside = values.lazy.filter { !($0 >= 0 && $0 <= 1) }.count
        let (i, j) = (bad % width, bad / width)
        let voxel = "(\(i), \(j))" + (element.map { " of element \($0)" } ?? "")
        throw EvaluationError(file, "voxel \(voxel) is \(values[bad]) (\(outside) voxels outside [0, 1]); "
            + "infer does no preprocessing: give images already scaled to [0, 1]")
    }
}
