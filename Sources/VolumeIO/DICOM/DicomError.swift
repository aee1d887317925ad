import Diagnostics

/// A DICOM file or series that cannot be read or written, with the file and the reason.
///
/// `description` reads like compiler output: `path: error: reason`.
public struct DicomError: UserError, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Not parseable as DICOM: truncated, bad meta header, not DICOM at all (shim: CDCM_ERROR_READ).
        case unreadable
        /// No Pixel Data, or an object that is not an image (DICOMDIR, SEG, RT plan) (CDCM_ERROR_NO_PIXEL_DATA).
        case notAnImage
        /// Pixels DCMTK cannot decode here: JPEG 2000, colour, odd bit depths (CDCM_ERROR_UNSUPPORTED).
        case unsupported
        /// Decoding failed or pixel attributes contradict the data (CDCM_ERROR_DECODE).
        case decodeFailed
        /// The slices do not form a volume (inconsistent sizes, unusable geometry).
        case invalidGeometry
        /// Writing failed (CDCM_ERROR_WRITE, CDCM_ERROR_INVALID_ARGUMENT, file system).
        case writeFailed
    }

    public var kind: Kind
    /// The file (or folder) concerned.
    public var path: String
    public var reason: String

    public init(_ kind: Kind, path: String, reason: String) {
        self.kind = kind
        self.path = path
        self.reason = reason
    }

    public var file: String? { path }
    public var problem: String { reason }
}
