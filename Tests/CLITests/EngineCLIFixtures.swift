import Foundation
import VolumeIO

/// Shared by the infer and evaluate tests: the built binary, the engine's golden fixtures, NIfTI scratch files.
enum EngineCLIFixtures {
    static let repository = UniverSegBinary.repository
    /// Tools/reference/make_fixtures.py's random-init models, inputs and float64 reference logits.
    static let engineFixtures = repository.appendingPathComponent("Tests/UniverSegTests/Fixtures")
    static let smallModel = engineFixtures.appendingPathComponent("w16.safetensors")

    static var binary: URL { UniverSegBinary.url }

    /// Runs `body` on a thread of its own, not on Swift Testing's cooperative pool: these tests block for seconds
    /// (engine work, child processes), and on a 2-core machine a blocked pool stalls other suites' async tests.
    /// Not on `DispatchQueue.global()` either: on Linux the cooperative pool runs on those same threads.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Runs the binary with `arguments` (off the cooperative pool); returns exit status, stdout and stderr.
    static func run(_ arguments: [String]) async throws -> (status: Int32, out: String, err: String) {
        try await blocking { try UniverSegBinary.run(arguments) }
    }


    /// Little-endian float32 values of a fixture file.
    static func floats(_ name: String) throws -> [Float] {
        let data = try Data(contentsOf: engineFixtures.appendingPathComponent(name))
        return data.withUnsafeBytes { raw in
            (0 ..< data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-cli-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// An oblique-free but non-trivial grid (anisotropic spacing, a flip, an offset), so geometry must be copied.
    static let affine = Affine(rows: [[-0.8, 0, 0, 40], [0, 0.6, 0, -12], [0, 0, 2.5, 7], [0, 0, 0, 1]])

    /// Writes `voxels` (i fastest) as a float32 NIfTI of the given shape.
    @discardableResult
    static func writeFloats(_ voxels: [Float], shape: [Int], to url: URL) throws -> URL {
        try NiftiWriter.write(Volume(shape: shape, affine: affine, voxels: voxels), to: url)
        return url
    }

    /// Rewrites the dim[] of an uncompressed NIfTI-1 file in place (dim[0] = dims.count): the voxel order of
    /// W x H x S and W x H x 1 x S is the same, so this makes 4D stacks (and broken headers) from 3D files.
    static func patchDims(_ url: URL, _ dims: [Int16]) throws {
        var data = try Data(contentsOf: url)
        let values = [Int16(dims.count)] + dims + [Int16](repeating: 1, count: 7 - dims.count)
        for (n, v) in values.enumerated() {
            withUnsafeBytes(of: v.littleEndian) { data.replaceSubrange(40 + 2 * n ..< 42 + 2 * n, with: $0) }
        }
        try data.write(to: url)
    }
}
