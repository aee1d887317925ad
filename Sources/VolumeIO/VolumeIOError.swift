import Diagnostics

/// Every way reading or writing a volume file can fail. Each message is one line that names the file:
/// `path: error: reason`, like compiler output, so a user can act on it without a stack trace.
public enum VolumeIOError: UserError, Equatable {
    /// Nothing exists at the path.
    case fileNotFound(path: String)
    /// The path exists but is a directory, pipe or device: reading it could hang or mean nothing.
    case notARegularFile(path: String)
    /// The file exists but this user may not read it (its mode, owner or an access control list).
    case permissionDenied(path: String)
    /// The name does not end in an extension this reader or writer handles.
    case unsupportedExtension(path: String, expected: String)
    /// The header could not be read at all (too short, unreadable, or not NIfTI-sized).
    case unreadableHeader(path: String, reason: String)
    /// The header has the right size but not a NIfTI-1/NIfTI-2 magic string (e.g. ANALYZE 7.5 or random bytes).
    case badMagic(path: String, found: String)
    /// dim[] is inconsistent: a size <= 0, a bad dim[0], or a voxel count that overflows.
    case invalidDimensions(path: String, reason: String)
    /// The voxel count is valid but beyond what we are willing to allocate.
    case tooLarge(path: String, voxels: Int, limit: Int)
    /// A datatype we do not convert (complex, RGB, float128, binary, unknown codes).
    case unsupportedDatatype(path: String, code: Int, name: String)
    /// The file ends before all voxel bytes were read (truncated download, cut .nii.gz).
    case truncatedData(path: String, expectedBytes: Int, reason: String)
    /// scl_slope is valid but scl_inter is not finite.
    case invalidScaling(path: String, reason: String)
    /// A 4D file with several volumes was read without choosing one.
    case volumeIndexRequired(path: String, volumes: Int)
    case volumeIndexOutOfRange(path: String, index: Int, volumes: Int)
    /// Voxel values that cannot be labels (non-integer, non-finite or outside Int32).
    case notALabelMap(path: String, reason: String)
    /// The voxel-to-world transform is singular or not finite.
    case invalidGeometry(path: String, reason: String)
    /// Writing failed or the written file did not read back identically.
    case writeFailed(path: String, reason: String)
    /// A NRRD, MetaImage or MGH header that is malformed or asks for something we do not read (an unknown type,
    /// encoding or space, a 4D file); `format` names the format.
    case invalidHeader(path: String, format: String, reason: String)

    public var path: String {
        switch self {
        case .fileNotFound(let p), .notARegularFile(let p), .permissionDenied(let p), .unsupportedExtension(let p, _),
             .unreadableHeader(let p, _), .badMagic(let p, _), .invalidDimensions(let p, _), .tooLarge(let p, _, _),
             .unsupportedDatatype(let p, _, _), .truncatedData(let p, _, _), .invalidScaling(let p, _),
             .volumeIndexRequired(let p, _), .volumeIndexOutOfRange(let p, _, _), .notALabelMap(let p, _),
             .invalidGeometry(let p, _), .writeFailed(let p, _), .invalidHeader(let p, _, _):
            return p
        }
    }

    public var reason: String {
        switch self {
        case .fileNotFound: return "no such file"
        case .notARegularFile: return "not a regular file"
        case .permissionDenied: return "permission denied: this user may not read the file"
        case .unsupportedExtension(_, let expected): return "unsupported file extension (expected \(expected))"
        case .unreadableHeader(_, let reason): return "unreadable NIfTI header: \(reason)"
        case .badMagic(_, let found): return "not a NIfTI-1/NIfTI-2 file (magic \(found))"
        case .invalidDimensions(_, let reason): return "invalid dimensions: \(reason)"
        case .tooLarge(_, let voxels, let limit): return "volume has \(voxels) voxels, more than the limit of \(limit)"
        case .unsupportedDatatype(_, let code, let name): return "unsupported NIfTI datatype \(name) (code \(code))"
        case .truncatedData(_, let expected, let reason): return "truncated voxel data: expected \(expected) bytes, \(reason)"
        case .invalidScaling(_, let reason): return "invalid intensity scaling: \(reason)"
        case .volumeIndexRequired(_, let volumes):
            return "4D file with \(volumes) volumes: choose one with a volume index (0..<\(volumes))"
        case .volumeIndexOutOfRange(_, let index, let volumes): return "volume index \(index) is outside 0..<\(volumes)"
        case .notALabelMap(_, let reason): return "not a label map: \(reason)"
        case .invalidGeometry(_, let reason): return "invalid geometry: \(reason)"
        case .writeFailed(_, let reason): return "write failed: \(reason)"
        case .invalidHeader(_, let format, let reason): return "bad \(format) header: \(reason)"
        }
    }

    public var file: String? { path }
    public var problem: String { reason }
}
