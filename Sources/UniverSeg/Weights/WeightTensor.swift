/// One named tensor as read from a weights file, converted to Float32 and laid out contiguously (row-major).
///
/// Invariant: `values.count == shape.reduce(1, *)`. `WeightsFile.read` checks it on every tensor it returns (finite
/// values are `NetworkWeights`' check, as the network is built).
struct WeightTensor: Equatable, Sendable {
    var shape: [Int]
    var values: [Float]

    /// Throws, naming the tensor `name` of weights file `file`, when the invariant does not hold.
    /// - Complexity: O(rank).
    func checkInvariants(name: String, file: String) throws(UniverSegError) {
        guard shape.allSatisfy({ $0 >= 0 }), values.count == shape.reduce(1, *) else {
            throw UniverSegError(file: file, "tensor '\(name)' of shape \(shape.shapeText) holds \(values.count) values")
        }
    }
}

/// The element types a weights file may store. Everything is widened to Float32 on load.
enum StoredDType: String, Sendable {
    case float32 = "F32", float16 = "F16", bfloat16 = "BF16", float64 = "F64"

    var byteCount: Int {
        switch self {
        case .float32: 4
        case .float16, .bfloat16: 2
        case .float64: 8
        }
    }

    /// Reads element `index` of a little-endian buffer.
    /// - Complexity: O(1).
    func load(_ bytes: UnsafeRawBufferPointer, _ index: Int) -> Float {
        switch self {
        case .float32:
            return Float(bitPattern: bytes.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self).littleEndian)
        case .float16:
            return Float(Float16(bitPattern: bytes.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self).littleEndian))
        case .bfloat16:
            let bits = bytes.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self).littleEndian
            return Float(bitPattern: UInt32(bits) << 16)
        case .float64:
            return Float(Double(bitPattern: bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self).littleEndian))
        }
    }
}

extension Array where Element == Int {
    /// "[64, 3, 3, 3]", as error messages print shapes.
    var shapeText: String { "[" + map(String.init).joined(separator: ", ") + "]" }
}
