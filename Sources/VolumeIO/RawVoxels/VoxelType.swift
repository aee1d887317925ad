/// The element types NRRD (`type`), MetaImage (`ElementType`) and MGH (`type`) store, and how each decodes.
enum VoxelType: String, Sendable, Equatable {
    case int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64

    var size: Int {
        switch self {
        case .int8, .uint8: 1
        case .int16, .uint16: 2
        case .int32, .uint32, .float32: 4
        case .int64, .uint64, .float64: 8
        }
    }

    var isFloatingPoint: Bool { self == .float32 || self == .float64 }

    /// The value of element `n` of `bytes` (stored with the given byte order) as a Double.
    /// - Complexity: O(1).
    @inline(__always) func value(_ bytes: UnsafeRawBufferPointer, _ n: Int, bigEndian: Bool) -> Double {
        let at = n * size
        switch self {
        case .int8: return Double(bytes.loadUnaligned(fromByteOffset: at, as: Int8.self))
        case .uint8: return Double(bytes[at])
        case .int16: return Double(Int16(bitPattern: ordered(bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self), bigEndian)))
        case .uint16: return Double(ordered(bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self), bigEndian))
        case .int32: return Double(Int32(bitPattern: ordered(bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self), bigEndian)))
        case .uint32: return Double(ordered(bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self), bigEndian))
        case .int64: return Double(Int64(bitPattern: ordered(bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self), bigEndian)))
        case .uint64: return Double(ordered(bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self), bigEndian))
        case .float32: return Double(Float(bitPattern: ordered(bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self), bigEndian)))
        case .float64: return Double(bitPattern: ordered(bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self), bigEndian))
        }
    }

    /// The smallest of UInt8, Int16 and Int32 that holds every label (as `NiftiWriter.labelDatatype`).
    static func forLabels(_ labels: [Int32]) -> VoxelType {
        guard let low = labels.min(), let high = labels.max() else { return .uint8 }
        if low >= 0 && high <= 255 { return .uint8 }
        if low >= Int32(Int16.min) && high <= Int32(Int16.max) { return .int16 }
        return .int32
    }

    /// `labels` stored as this type (one of `forLabels`' choices) in the given byte order.
    func encode(_ labels: [Int32], bigEndian: Bool) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(labels.count * size)
        for label in labels {
            switch self {
            case .uint8: out.append(UInt8(label))
            case .int16: append(UInt16(bitPattern: Int16(label)), bigEndian, to: &out)
            case .int32: append(UInt32(bitPattern: label), bigEndian, to: &out)
            default: preconditionFailure("labels are stored as uint8, int16 or int32")
            }
        }
        return out
    }
}

@inline(__always) private func ordered<T: FixedWidthInteger>(_ stored: T, _ bigEndian: Bool) -> T {
    bigEndian ? T(bigEndian: stored) : T(littleEndian: stored)
}

private func append<T: FixedWidthInteger>(_ value: T, _ bigEndian: Bool, to out: inout [UInt8]) {
    withUnsafeBytes(of: bigEndian ? value.bigEndian : value.littleEndian) { out.append(contentsOf: $0) }
}
