import Foundation

/// A binary DICOM Segmentation read back from disk: its segments and frames, each frame one segment on one plane.
public struct DicomSegmentation: Sendable {
    public struct Segment: Sendable, Equatable {
        /// SegmentNumber (0062,0004), 1-based.
        public var number: Int
        /// SegmentLabel (0062,0005).
        public var label: String
    }

    public struct Frame: Sendable, Equatable {
        /// ReferencedSegmentNumber of the frame.
        public var segmentNumber: Int
        /// ImagePositionPatient of the frame, LPS mm as stored.
        public var position: [Double]
        /// ReferencedSOPInstanceUID of the frame's source image, when stated.
        public var sourceSOPInstanceUID: String?
        /// ReferencedFrameNumber of that source, when it is a multi-frame image (1-based).
        public var sourceFrameNumber: Int?
        /// rows * columns values, row by row; 1 = in the segment.
        public var mask: [UInt8]
    }

    public var path: String
    public var seriesInstanceUID: String
    /// SeriesInstanceUID of each item of ReferencedSeriesSequence (0008,1115): the series it segments.
    public var referencedSeriesUIDs: [String] = []
    public var rows: Int
    public var columns: Int
    /// ImageOrientationPatient shared by the frames (LPS), when stated.
    public var orientation: [Double]?
    public var segments: [Segment]
    public var frames: [Frame]

    /// Reads a binary SEG (BitsAllocated 1). Throws naming the file when it is not one.
    public static func read(_ url: URL) throws(DicomError) -> DicomSegmentation {
        let file = try DicomFile(path: url.path, headerOnly: false)
        guard file.string(DicomTag.sopClassUID) == DicomUID.segmentationStorage else {
            throw DicomError(.notAnImage, path: url.path, reason: "not a DICOM Segmentation")
        }
        if file.string(DicomTag.segmentationType)?.trimmingCharacters(in: .whitespaces).uppercased() == "FRACTIONAL" {
            throw DicomError(.unsupported, path: url.path, reason: "a FRACTIONAL segmentation (probabilities); only "
                             + "BINARY ones are read")
        }
        let rows = Int(file.number(DicomTag.rows) ?? 0), columns = Int(file.number(DicomTag.columns) ?? 0)
        let count = Int(file.number(DicomTag.numberOfFrames) ?? 0)
        guard rows > 0, columns > 0, count > 0, count <= 1 << 20 else {
            throw DicomError(.decodeFailed, path: url.path, reason: "no frames (Rows \(rows), Columns \(columns), "
                             + "NumberOfFrames \(count))")
        }
        let segments = (0..<file.sequenceCount(DicomTag.segmentSequence)).map { item in
            Segment(number: Int(file.itemString(DicomTag.segmentSequence, item: item, DicomTag.segmentNumber) ?? "") ?? 0,
                    label: file.itemString(DicomTag.segmentSequence, item: item, DicomTag.segmentLabel) ?? "")
        }
        var frames: [Frame] = []
        var buffer = [Float](repeating: 0, count: rows * columns)
        var orientation: [Double]?
        for index in 0..<count {
            guard let geometry = file.frameGeometry(index), let segment = geometry.segmentNumber,
                  let position = geometry.position else {
                throw DicomError(.decodeFailed, path: url.path, reason: "frame \(index + 1) lacks its segment or position")
            }
            orientation = orientation ?? geometry.orientation
            try file.decodeFrame(index, into: &buffer, offset: 0, count: buffer.count)
            frames.append(Frame(segmentNumber: segment, position: position,
                                sourceSOPInstanceUID: geometry.sourceSOPInstanceUID,
                                sourceFrameNumber: geometry.sourceFrameNumber,
                                mask: buffer.map { $0 != 0 ? 1 : 0 }))
        }
        var seg = DicomSegmentation(path: url.path, seriesInstanceUID: file.string(DicomTag.seriesInstanceUID) ?? "",
                                    rows: rows, columns: columns, orientation: orientation, segments: segments,
                                    frames: frames)
        seg.referencedSeriesUIDs = referencedSeries(of: file)
        return seg
    }

    /// The series a SEG file segments (ReferencedSeriesSequence), reading its header only; nil when the file is
    /// not a DICOM Segmentation (or not DICOM).
    public static func referencedSeries(of url: URL) -> [String]? {
        guard let file = try? DicomFile(path: url.path, headerOnly: true),
              file.string(DicomTag.sopClassUID) == DicomUID.segmentationStorage else { return nil }
        return referencedSeries(of: file)
    }

    private static func referencedSeries(of file: DicomFile) -> [String] {
        (0..<file.sequenceCount(DicomTag.referencedSeriesSequence)).compactMap {
            file.itemString(DicomTag.referencedSeriesSequence, item: $0, DicomTag.seriesInstanceUID)
        }
    }

    /// A SEG frame lies on a source slice when their positions agree within this (mm): both are the same
    /// decimal-string ImagePositionPatient, so only its last digits may differ, while slices are >= 0.1 mm apart.
    public static let framePositionTolerance = 1e-3

    /// The segments as a label map on the grid of `reference` (voxel = segment number, 0 = none; a later segment
    /// wins where segments overlap). Frames are placed by matching their position to a source slice's
    /// ImagePositionPatient (within `tolerance` mm); throws when a frame lies on no slice of the grid.
    public func labelMap(on reference: DicomSeriesReference, affine: Affine,
                         tolerance: Double = framePositionTolerance) throws(DicomError)
        -> Volume<Int32> {
        guard rows == reference.rows, columns == reference.columns else {
            throw DicomError(.invalidGeometry, path: path, reason: "frames are \(columns)x\(rows), the series "
                             + "\(reference.columns)x\(reference.rows)")
        }
        let frameSize = rows * columns
        var voxels = [Int32](repeating: 0, count: frameSize * reference.sliceCount)
        for frame in frames {
            let k = try slice(of: frame, on: reference, tolerance: tolerance)
            for (offset, value) in frame.mask.enumerated() where value != 0 {
                voxels[k * frameSize + offset] = Int32(frame.segmentNumber)
            }
        }
        return Volume(shape: [columns, rows, reference.sliceCount], affine: affine, voxels: voxels,
                      source: .dicom(reference))
    }

    /// The volume slices (index axis 2 of `labelMap`) on which the SEG has a frame, of any segment, empty or not:
    /// the slices someone segmented.
    public func framedSlices(on reference: DicomSeriesReference,
                             tolerance: Double = framePositionTolerance) throws(DicomError) -> Set<Int> {
        var slices = Set<Int>()
        for frame in frames { slices.insert(try slice(of: frame, on: reference, tolerance: tolerance)) }
        return slices
    }

    /// The volume slice `frame` lies on: the source slice whose ImagePositionPatient matches its own.
    private func slice(of frame: Frame, on reference: DicomSeriesReference, tolerance: Double) throws(DicomError) -> Int {
        guard let s = reference.imagePositions.firstIndex(where: { p in
            zip(p, frame.position).allSatisfy { abs($0 - $1) <= tolerance } }) else {
            throw DicomError(.invalidGeometry, path: path,
                             reason: "a frame at \(frame.position) lies on no slice of the series")
        }
        return reference.sliceIndices[s]
    }
}
