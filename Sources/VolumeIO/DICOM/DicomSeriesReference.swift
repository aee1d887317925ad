/// What a DICOM SEG writer needs to reference the series a volume came from.
public struct DicomSeriesReference: Sendable, Equatable {
    /// Source files in slice order (slice k of the volume is `files[k]`; one entry for a multi-frame object).
    public var files: [String]
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var frameOfReferenceUID: String
}
