import Foundation
@testable import UniverSeg

/// Reads the golden fixtures written by Tools/reference/make_fixtures.py. Found in the source tree from `#filePath`,
/// as every test target finds its fixtures.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static func floats(_ name: String) throws -> [Float] {
        let data = try Data(contentsOf: url(name))
        return data.withUnsafeBytes { raw in
            (0 ..< data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    struct Manifest: Decodable {
        let tolerance: Float
        let cases: [Case]
    }

    struct Case: Decodable, CustomStringConvertible {
        let name: String
        let weights: String
        let height: Int
        let width: Int
        let query: String
        let sets: [SupportSet]
        let probability: String?
        var description: String { name }
    }

    struct SupportSet: Decodable {
        let support: Int
        let images: String
        let labels: String
        let logits: String
    }

    static func manifest() throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url("manifest.json")))
    }

    /// Splits a flat (count x pixels) array into per-image arrays.
    static func images(_ name: String, count: Int, pixels: Int) throws -> [[Float]] {
        let flat = try floats(name)
        precondition(flat.count == count * pixels, "\(name): \(flat.count) floats, expected \(count * pixels)")
        return (0 ..< count).map { Array(flat[$0 * pixels ..< ($0 + 1) * pixels]) }
    }

    static func model(_ name: String) throws -> UniverSegModel { try UniverSegModel(contentsOf: url(name)) }

    /// A safetensors file in a temporary folder, built from (name, dtype, shape, raw bytes).
    static func safetensors(_ tensors: [(String, String, [Int], [UInt8])], header extra: String = "") throws -> URL {
        var body: [UInt8] = []
        var entries: [String] = []
        for (name, dtype, shape, bytes) in tensors {
            let shapeText = shape.map(String.init).joined(separator: ",")
            entries.append("\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":[\(shapeText)],\"data_offsets\":[\(body.count),\(body.count + bytes.count)]}")
            body += bytes
        }
        let header = Array(("{" + entries.joined(separator: ",") + extra + "}").utf8)
        var file = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) }
        file += header + body
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-test-\(UUID().uuidString).safetensors")
        try Data(file).write(to: url)
        return url
    }

    /// Every tensor of a weights file as a safetensors entry (F32), so tests can drop, add or reshape one.
    static func entries(of name: String) throws -> [(String, String, [Int], [UInt8])] {
        try WeightsFile.read(url(name)).sorted { $0.key < $1.key }.map { key, t in
            (key, "F32", t.shape, t.values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } })
        }
    }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
