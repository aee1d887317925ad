import Foundation

/// Options of a DICOM SEG: descriptive attributes, plus the UID source and clock (inject fixed ones for golden tests).
public struct DicomSegOptions: Sendable {
    /// SeriesDescription (LO) and SeriesNumber (IS) of the new SEG series.
    public var seriesDescription = "UniverSeg segmentation"
    public var seriesNumber = "901"
    /// ContentLabel (CS: upper case, digits, underscore) and ContentCreatorName (PN).
    public var contentLabel = "UNIVERSEG"
    public var contentCreator = ""
    /// SegmentAlgorithmName and the General Equipment module.
    public var algorithmName = "UniverSeg"
    public var manufacturer = "universeg"
    public var modelName = "universeg"
    public var softwareVersions = "1"
    /// New UIDs (SeriesInstanceUID, SOPInstanceUID, DimensionOrganizationUID), called in that order.
    public var makeUID: @Sendable () -> String = DicomUIDs.make
    /// ContentDate/Time, SeriesDate/Time and InstanceCreationDate/Time.
    public var date = Date()
    public var timeZone = TimeZone.current

    public init() {}
}

/// One segment of a SEG: the label value it is made of and how viewers name, code and colour it.
public struct DicomSegSegment: Sendable, Equatable {
    /// The label-map value whose voxels form the segment.
    public var value: Int32
    /// SegmentLabel (LO).
    public var label: String
    /// Segmented Property Category and Type Code Sequences.
    public var category: CodedConcept
    public var type: CodedConcept
    /// RecommendedDisplayCIELabValue, given as sRGB; nil writes none.
    public var color: DisplayColor?

    public init(value: Int32, label: String, category: CodedConcept = .anatomicalStructure, type: CodedConcept = .tissue,
                color: DisplayColor? = nil) {
        self.value = value
        self.label = label
        self.category = category
        self.type = type
        self.color = color
    }
}

/// Fresh DICOM UIDs.
public enum DicomUIDs {
    /// A "2.25." UID from a random UUID (ISO/IEC 9834-8), at most 44 characters.
    @Sendable public static func make() -> String {
        let bytes = withUnsafeBytes(of: UUID().uuid) { Array($0) }
        // 128-bit unsigned integer in decimal, by repeated division of a big-endian byte array.
        var number = bytes.map { UInt32($0) }
        var digits: [Character] = []
        while number.contains(where: { $0 != 0 }) {
            var remainder: UInt32 = 0
            for i in number.indices {
                let value = remainder << 8 | number[i]
                number[i] = value / 10
                remainder = value % 10
            }
            digits.append(Character(String(remainder)))
        }
        return "2.25." + (digits.isEmpty ? "0" : String(digits.reversed()))
    }
}

/// Writes a label map as a binary DICOM Segmentation referencing the series it was computed on.
public enum DicomSegWriter {
    /// Writes `labels` (on the grid of a DICOM series: `labels.source` must be `.dicom`) to `url` as one binary
    /// SEG with one segment per entry of `segments`, in that order (segment number n = entry n). Each frame is one
    /// segment on one source slice, positioned and oriented as the source slice and referencing it; frames whose
    /// mask is empty are left out, except that a segment with no voxels at all keeps one empty frame so that every
    /// segment is present. Patient, Study and Frame of Reference are copied from the source. Written atomically.
    /// - Returns: the new SEG's SeriesInstanceUID and SOPInstanceUID, for reports that point to it.
    @discardableResult
    public static func write(_ labels: Volume<Int32>, segments: [DicomSegSegment], to url: URL,
                             options: DicomSegOptions = DicomSegOptions()) throws(DicomError)
        -> (seriesInstanceUID: String, sopInstanceUID: String) {
        let request = try makeRequest(labels, segments: segments, destination: url.path, options: options)
        do {
            try AtomicFile.write(to: url) { temporary in try DicomFile.writeSegmentation(request, to: temporary.path) }
        } catch let error as DicomError {
            throw DicomError(error.kind, path: url.path, reason: error.reason)
        } catch {
            throw DicomError(.writeFailed, path: url.path, reason: "\(error)")
        }
        return (request.seriesInstanceUID, request.sopInstanceUID)
    }

    static func makeRequest(_ labels: Volume<Int32>, segments: [DicomSegSegment], destination: String,
                            options: DicomSegOptions) throws(DicomError) -> DicomSegShimRequest {
        guard case .dicom(let reference)? = labels.source else {
            throw DicomError(.writeFailed, path: destination,
                             reason: "the label map is not on a DICOM series grid (its source is not DICOM)")
        }
        guard !reference.isMosaic else {
            throw DicomError(.writeFailed, path: destination, reason: "the source series is a Siemens mosaic, whose "
                             + "frames each hold a whole volume: a DICOM SEG cannot reference its slices")
        }
        let nx = reference.columns, ny = reference.rows, nz = reference.sliceCount
        guard labels.shape == [nx, ny, nz], labels.voxels.count == nx * ny * nz else {
            throw DicomError(.writeFailed, path: destination, reason: "label map shape \(labels.shape) does not match "
                             + "the source series [\(nx), \(ny), \(nz)]")
        }
        guard !segments.isEmpty, segments.count < 65536 else {
            throw DicomError(.writeFailed, path: destination, reason: "a SEG needs 1 to 65535 segments")
        }
        if let empty = segments.first(where: { $0.label.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw DicomError(.writeFailed, path: destination, reason: "segment for value \(empty.value) has no name")
        }
        for segment in segments {
            if let problem = segment.category.problem ?? segment.type.problem {
                throw DicomError(.writeFailed, path: destination, reason: "segment '\(segment.label)': \(problem.reason)")
            }
        }
        guard nx <= 65535, ny <= 65535 else {
            throw DicomError(.writeFailed, path: destination, reason: "frames larger than 65535 pixels")
        }

        var frames: [DicomSegShimRequest.Frame] = []
        var pixels: [UInt8] = []
        let frameSize = nx * ny
        // Slices sharing an instance are frames of a multi-frame image: their references must name the frame.
        let slicesPerInstance = Dictionary(reference.sopInstanceUIDs.map { ($0, 1) }, uniquingKeysWith: +)
        /// The frame of `segment` over source slice `s`.
        let frame = { (segment: Int, s: Int) -> DicomSegShimRequest.Frame in
            let uid = reference.sopInstanceUIDs[s]
            return .init(segmentNumber: segment, positionIndex: reference.sliceIndices[s] + 1,
                         position: reference.imagePositions[s],
                         sourceSOPClassUID: reference.sopClassUIDs[s], sourceSOPInstanceUID: uid,
                         sourceFrameNumber: slicesPerInstance[uid, default: 1] > 1 ? reference.frames[s] + 1 : nil)
        }
        for (n, segment) in segments.enumerated() {
            var wroteAny = false
            // Only slices with a source image can be referenced: the places of missing slices are left out.
            for (s, k) in reference.sliceIndices.enumerated() {
                let slice = labels.voxels[k * frameSize ..< (k + 1) * frameSize]
                guard slice.contains(segment.value) else { continue }
                pixels += slice.map { $0 == segment.value ? 1 : 0 }
                frames.append(frame(n + 1, s))
                wroteAny = true
            }
            if !wroteAny {
                pixels += [UInt8](repeating: 0, count: frameSize)
                frames.append(frame(n + 1, 0))
            }
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = options.timeZone
        formatter.dateFormat = "yyyyMMdd"
        let date = formatter.string(from: options.date)
        formatter.dateFormat = "HHmmss"
        let time = formatter.string(from: options.date)
        let code = { (c: CodedConcept) in (c.value, c.scheme, c.meaning) }
        return DicomSegShimRequest(
            sourceFile: reference.files[0], referenceFiles: reference.distinctFiles, rows: ny, columns: nx,
            orientation: reference.imageOrientation, pixelSpacing: reference.pixelSpacing,
            sliceThickness: reference.sliceSpacing,
            segments: segments.map { segment in
                .init(label: segment.label, category: code(segment.category), type: code(segment.type),
                      displayCIELab: segment.color?.dicomCIELab)
            },
            frames: frames, pixels: pixels,
            seriesInstanceUID: options.makeUID(), sopInstanceUID: options.makeUID(),
            dimensionOrganizationUID: options.makeUID(), contentDate: date, contentTime: time,
            seriesNumber: options.seriesNumber, seriesDescription: options.seriesDescription,
            contentLabel: options.contentLabel, contentDescription: "", contentCreator: options.contentCreator,
            manufacturer: options.manufacturer, modelName: options.modelName, deviceSerialNumber: "0",
            softwareVersions: options.softwareVersions, algorithmName: options.algorithmName)
    }
}

/// The SEG writer's input to the shim, in Swift types (see `cdcm_seg_request` for each field's DICOM attribute).
struct DicomSegShimRequest: Sendable {
    struct Segment: Sendable {
        var label: String
        var category: (String, String, String)
        var type: (String, String, String)
        /// RecommendedDisplayCIELabValue, already scaled to 0...65535 (`DisplayColor.dicomCIELab`).
        var displayCIELab: [UInt16]?
    }

    struct Frame: Sendable {
        var segmentNumber: Int
        var positionIndex: Int
        var position: [Double]
        var sourceSOPClassUID: String
        var sourceSOPInstanceUID: String
        /// 1-based frame within a multi-frame source instance; nil for a single-frame source.
        var sourceFrameNumber: Int?
    }

    var sourceFile: String
    var referenceFiles: [String]
    var rows: Int
    var columns: Int
    var orientation: [Double]
    var pixelSpacing: [Double]
    var sliceThickness: Double
    var segments: [Segment]
    var frames: [Frame]
    /// rows * columns bytes per frame, frames back to back; 1 = in the segment.
    var pixels: [UInt8]
    var seriesInstanceUID: String
    var sopInstanceUID: String
    var dimensionOrganizationUID: String
    var contentDate: String
    var contentTime: String
    var seriesNumber: String
    var seriesDescription: String
    var contentLabel: String
    var contentDescription: String
    var contentCreator: String
    var manufacturer: String
    var modelName: String
    var deviceSerialNumber: String
    var softwareVersions: String
    var algorithmName: String
}
