/// Descriptive attributes of a series, for listings (`universeg inspect`) and reports. Absent attributes are nil.
public struct DicomSeriesMetadata: Sendable, Equatable, Codable {
    /// Modality (0008,0060), e.g. "CT".
    public var modality: String?
    /// SeriesDescription (0008,103E).
    public var seriesDescription: String?
    /// SeriesNumber (0020,0011).
    public var seriesNumber: String?
    /// StudyDescription (0008,1030) and StudyDate (0008,0020).
    public var studyDescription: String?
    public var studyDate: String?
    /// PatientID (0010,0020) and PatientName (0010,0010).
    public var patientID: String?
    public var patientName: String?
    /// Manufacturer (0008,0070).
    public var manufacturer: String?
    /// The SOP Class by DCMTK's keyword, e.g. "EnhancedCTImageStorage" (the UID when DCMTK does not know it).
    public var sopClassName: String?
    /// Transfer syntax of the first file, e.g. "JPEG-LS Lossless (1.2.840.10008.1.2.4.80)".
    public var transferSyntax: String?

    public init() {}
}
