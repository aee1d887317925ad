/// NIfTI `datatype` codes (nifti1.h `DT_*`). The reader converts the ten real scalar types; the others are named
/// only so that errors can say what the file holds.
public enum NiftiDatatype: Int, Sendable, CaseIterable {
    case uint8 = 2, int16 = 4, int32 = 8, float32 = 16, float64 = 64
    case int8 = 256, uint16 = 512, uint32 = 768, int64 = 1024, uint64 = 1280
    // Known but not converted.
    case binary = 1, complex64 = 32, rgb24 = 128, float128 = 1536, complex128 = 1792, complex256 = 2048, rgba32 = 2304

    /// True for the real scalar types this package reads.
    public var isSupported: Bool { bytesPerVoxel != nil }

    /// Bytes per voxel for supported types; nil for the others.
    public var bytesPerVoxel: Int? {
        switch self {
        case .uint8, .int8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        case .binary, .complex64, .rgb24, .float128, .complex128, .complex256, .rgba32: return nil
        }
    }

    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

    /// The nifti1.h name without the `DT_` prefix, e.g. "INT16".
    public var name: String {
        switch self {
        case .uint8: return "UINT8"
        case .int16: return "INT16"
        case .int32: return "INT32"
        case .float32: return "FLOAT32"
        case .float64: return "FLOAT64"
        case .int8: return "INT8"
        case .uint16: return "UINT16"
        case .uint32: return "UINT32"
        case .int64: return "INT64"
        case .uint64: return "UINT64"
        case .binary: return "BINARY"
        case .complex64: return "COMPLEX64"
        case .rgb24: return "RGB24"
        case .float128: return "FLOAT128"
        case .complex128: return "COMPLEX128"
        case .complex256: return "COMPLEX256"
        case .rgba32: return "RGBA32"
        }
    }

    /// The name of any code, known or not ("UNKNOWN" for codes outside nifti1.h).
    public static func name(ofCode code: Int) -> String { NiftiDatatype(rawValue: code)?.name ?? "UNKNOWN" }
}
