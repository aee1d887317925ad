import Foundation
import Testing
import VolumeIO

/// `universeg infer` (the built binary) against the engine's float64 reference logits: the NIfTI files are the
/// fixture arrays written with NIfTI axis 0 = model width, so matching logits on a non-square image proves the
/// axis convention end to end.
@Suite struct InferCommandTests {
    typealias F = EngineCLIFixtures

    /// Writes query and support stacks of a fixture case; returns (query, images, labels).
    func writeCase(_ name: String, set: String = "set0", width: Int, height: Int, count: Int, in folder: URL,
                   ext: String = ".nii.gz") throws -> (URL, URL, URL) {
        let query = try F.writeFloats(F.floats("\(name).query.f32"), shape: [width, height, 1],
                                      to: folder.appendingPathComponent("query" + ext))
        let images = try F.writeFloats(F.floats("\(name).\(set).images.f32"), shape: [width, height, count],
                                       to: folder.appendingPathComponent("images" + ext))
        let labels = try F.writeFloats(F.floats("\(name).\(set).labels.f32"), shape: [width, height, count],
                                       to: folder.appendingPathComponent("labels" + ext))
        return (query, images, labels)
    }

    func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// The float64 references hold to 1e-4 in fp32 only (the default, auto, runs bf16 on CPUs with AVX512-BF16).
    static let exact = ["--precision", "fp32"]

    @Test func reproducesReferenceLogitsOnANonSquareImage() async throws {
        let folder = try F.temporaryFolder()
        // 48 rows x 64 columns: NIfTI W x H = 64 x 48. Support element 1 has an empty label (a warning, not an error).
        let (query, images, labels) = try writeCase("w16_48x64_empty", width: 64, height: 48, count: 2, in: folder)
        let out = folder.appendingPathComponent("logits.nii.gz")
        let result = try await F.run(["infer", "--weights", F.smallModel.path, "--query", query.path, "--support-images", images.path,
                                "--support-labels", labels.path, "--logits", out.path, "--threads", "1"] + Self.exact)
        #expect(result.status == 0, "\(result.err)")
        #expect(result.err == "\(labels.path): warning: support label 1 is empty (all zero): allowed, but it only shows the model what the target is not\n")
        let logits = try NiftiReader.readImage(out)
        #expect(logits.shape == [64, 48, 1])
        #expect(logits.affine == (try NiftiReader.readImage(query)).affine)  // the query's geometry, float32 header values and all
        #expect(maxDifference(logits.voxels, try F.floats("w16_48x64_empty.set0.logits.f32")) <= 1e-4)
        // The same arrays transposed (W x H = 48 x 64) give different logits: the test can tell the axes apart.
        #expect(maxDifference(transpose(logits.voxels, width: 64, height: 48), try F.floats("w16_48x64_empty.set0.logits.f32")) > 1e-2)
    }

    /// `--precision bf16` runs the bf16 GEMMs where the CPU has AVX512-BF16 (within the bf16 tolerance of the float64
    /// reference, and not fp32's result), and elsewhere fp32 with a one-line note.
    @Test func bf16PrecisionRunsOrFallsBackWithANote() async throws {
        let folder = try F.temporaryFolder()
        let (query, images, labels) = try writeCase("mixed_24x40_s2", width: 40, height: 24, count: 2, in: folder, ext: ".nii")
        let out = folder.appendingPathComponent("logits.nii")
        let result = try await F.run(["infer", "--weights", F.engineFixtures.appendingPathComponent("mixed.safetensors").path,
                                      "--query", query.path, "--support-images", images.path, "--support-labels", labels.path,
                                      "--logits", out.path, "--precision", "bf16"])
        #expect(result.status == 0, "\(result.err)")
        let error = maxDifference(try NiftiReader.readImage(out).voxels, try F.floats("mixed_24x40_s2.set0.logits.f32"))
        let hasBF16 = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.contains("avx512_bf16") == true
        if hasBF16 {
            #expect(result.err.isEmpty, "\(result.err)")
            #expect(error <= 2.5e-2 && error > 1e-5, "bf16: max |logit - reference| = \(error)")
        } else {
            #expect(result.err == "note: precision bf16 needs AVX512-BF16, which this CPU lacks; running fp32\n")
            #expect(error <= 1e-4)
        }
    }

    func transpose(_ values: [Float], width: Int, height: Int) -> [Float] {
        (0..<width).flatMap { x in (0..<height).map { y in values[y * width + x] } }
    }

    @Test func readsFourDimensionalStacksAndAnotherModel() async throws {
        let folder = try F.temporaryFolder()
        // The 3-level mixed-width model on 24 x 40 (rows x columns), support as W x H x 1 x S.
        let (query, images, labels) = try writeCase("mixed_24x40_s2", width: 40, height: 24, count: 2, in: folder, ext: ".nii")
        try F.patchDims(images, [40, 24, 1, 2])
        try F.patchDims(labels, [40, 24, 1, 2])
        #expect(try NiftiReader.readHeader(images).volumeCount == 2)
        let out = folder.appendingPathComponent("logits.nii")
        let result = try await F.run(["infer", "--weights", F.engineFixtures.appendingPathComponent("mixed.safetensors").path,
                                "--query", query.path, "--support-images", images.path, "--support-labels", labels.path,
                                "--logits", out.path] + Self.exact)
        #expect(result.status == 0, "\(result.err)")
        #expect(maxDifference(try NiftiReader.readImage(out).voxels, try F.floats("mixed_24x40_s2.set0.logits.f32")) <= 1e-4)
    }

    /// --ensemble 2 over [set0 element 0, set2 element 0, set0 element 1]: round robin gives set0 and set2, whose
    /// reference logits give the expected logit of the mean probability.
    @Test func ensembleIsLogitOfMeanProbabilityOverRoundRobinSets() async throws {
        let folder = try F.temporaryFolder()
        let pixels = 32 * 32
        let images0 = try F.floats("w16_ensemble.set0.images.f32"), labels0 = try F.floats("w16_ensemble.set0.labels.f32")
        let images2 = try F.floats("w16_ensemble.set2.images.f32"), labels2 = try F.floats("w16_ensemble.set2.labels.f32")
        let stackImages = Array(images0[0..<pixels]) + images2 + Array(images0[pixels...])
        let stackLabels = Array(labels0[0..<pixels]) + labels2 + Array(labels0[pixels...])
        let query = try F.writeFloats(F.floats("w16_ensemble.query.f32"), shape: [32, 32, 1], to: folder.appendingPathComponent("q.nii.gz"))
        let images = try F.writeFloats(stackImages, shape: [32, 32, 3], to: folder.appendingPathComponent("si.nii.gz"))
        let labels = try F.writeFloats(stackLabels, shape: [32, 32, 3], to: folder.appendingPathComponent("sl.nii.gz"))
        let out = folder.appendingPathComponent("logits.nii.gz")
        let result = try await F.run(["infer", "--weights", F.engineFixtures.appendingPathComponent("w16.pt").path, "--query", query.path,
                                "--support-images", images.path, "--support-labels", labels.path, "--logits", out.path, "--ensemble", "2"] + Self.exact)
        #expect(result.status == 0, "\(result.err)")
        let a = try F.floats("w16_ensemble.set0.logits.f32"), b = try F.floats("w16_ensemble.set2.logits.f32")
        let expected = zip(a, b).map { x, y -> Float in
            let p = (1 / (1 + exp(-Double(x))) + 1 / (1 + exp(-Double(y)))) / 2
            return Float(log(p / (1 - p)))
        }
        #expect(maxDifference(try NiftiReader.readImage(out).voxels, expected) <= 1e-4)
    }

    @Test func clearErrors() async throws {
        let folder = try F.temporaryFolder()
        let (query, images, labels) = try writeCase("w16_32_s3", width: 32, height: 32, count: 3, in: folder, ext: ".nii")
        let out = folder.appendingPathComponent("out.nii.gz").path
        func infer(_ q: URL, _ i: URL, _ l: URL, _ extra: [String] = []) async throws -> (status: Int32, err: String) {
            let r = try await F.run(["infer", "--weights", F.smallModel.path, "--query", q.path, "--support-images", i.path,
                               "--support-labels", l.path, "--logits", out] + extra)
            return (r.status, r.err)
        }
        // Values outside [0, 1].
        var raw = try F.floats("w16_32_s3.query.f32")
        raw[5 + 32 * 7] = 41
        let hot = try F.writeFloats(raw, shape: [32, 32, 1], to: folder.appendingPathComponent("hot.nii.gz"))
        #expect(try await infer(hot, images, labels) == (1, "\(hot.path): error: voxel (5, 7) is 41.0 (1 voxels outside [0, 1]); infer does no preprocessing: give images already scaled to [0, 1]\n"))
        // Support and query of different sizes.
        let small = try F.writeFloats([Float](repeating: 0.5, count: 16 * 32), shape: [16, 32, 1], to: folder.appendingPathComponent("small.nii.gz"))
        #expect(try await infer(small, images, labels) == (1, "\(images.path): error: support elements are 32 x 32 but the query \(small.path) is 16 x 32\n"))
        // Different counts of images and labels.
        let two = try F.writeFloats(Array(try F.floats("w16_32_s3.set0.labels.f32")[0..<2048]), shape: [32, 32, 2],
                                    to: folder.appendingPathComponent("two.nii.gz"))
        #expect(try await infer(query, images, two) == (1, "\(two.path): error: 2 support labels for 3 support images in \(images.path)\n"))
        // A query that is a volume.
        #expect(try await infer(images, images, labels).err == "\(images.path): error: the query must be one 2D image (W x H or W x H x 1), this file has dims [32, 32, 3]\n")
        // More ensemble members than support elements.
        #expect(try await infer(query, images, labels, ["--ensemble", "4"]) == (1, "\(images.path): error: an ensemble of 4 sets needs at least 4 support elements; the stack has 3\n"))
        // Sides the model cannot pool.
        let odd = try F.writeFloats([Float](repeating: 0.5, count: 30 * 30), shape: [30, 30, 1], to: folder.appendingPathComponent("odd.nii.gz"))
        let oddStack = try F.writeFloats([Float](repeating: 0.5, count: 30 * 30), shape: [30, 30, 1], to: folder.appendingPathComponent("odds.nii.gz"))
        #expect(try await infer(odd, oddStack, oddStack) == (1, "\(odd.path): error: the image is 30 x 30; the model needs sides that are multiples of 8 (e.g. 128 x 128)\n"))
        // S = 0: a stack whose third axis is empty.
        try F.patchDims(labels, [32, 32, 0])
        #expect(try await infer(query, images, labels) == (1, "\(labels.path): error: invalid dimensions: dim[3] = 0\n"))
        // Bad usage exits 64 before reading anything.
        #expect(try await infer(query, images, labels, ["--ensemble", "0"]).status == 64)
        // --logits naming an input is refused, and the input is left as it was.
        let before = try Data(contentsOf: query)
        let clash = try await F.run(["infer", "--weights", F.smallModel.path, "--query", query.path, "--support-images",
                                     images.path, "--support-labels", labels.path, "--logits", query.path])
        #expect(clash.status == 64 && clash.err.contains("would overwrite the input \(query.path)"), "\(clash.err)")
        #expect(try Data(contentsOf: query) == before)
    }
}
