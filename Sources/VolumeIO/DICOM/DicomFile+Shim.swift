import Foundation
internal import CDCMTKShim

// The only Swift file that calls the DCMTK shim (`cdcm_*`, Sources/CDCMTKShim/include/cdcm.h). Pointers stay inside
// the functions here; everything else in VolumeIO sees Swift values and `DicomError`.

/// Per-frame geometry of an enhanced multi-frame object or a SEG, from its functional groups (LPS, as stored).
struct DicomFrameGeometry: Sendable, Equatable {
    var position: [Double]?
    var orientation: [Double]?
    /// [spacing between rows, spacing between columns] mm, as DICOM stores PixelSpacing.
    var pixelSpacing: [Double]?
    var sliceThickness: Double?
    var rescale: (slope: Double, intercept: Double)?
    var segmentNumber: Int?
    var sourceSOPInstanceUID: String?
    /// 1-based frame of a multi-frame source that the frame was derived from.
    var sourceFrameNumber: Int?

    static func == (a: Self, b: Self) -> Bool {
        a.position == b.position && a.orientation == b.orientation && a.pixelSpacing == b.pixelSpacing
            && a.sliceThickness == b.sliceThickness && a.rescale?.slope == b.rescale?.slope
            && a.rescale?.intercept == b.rescale?.intercept && a.segmentNumber == b.segmentNumber
            && a.sourceSOPInstanceUID == b.sourceSOPInstanceUID && a.sourceFrameNumber == b.sourceFrameNumber
    }
}

/// One parsed DICOM file: owns a `cdcm_file` (one DcmFileFormat), closed on deinit. Not shared between threads.
final class DicomFile {
    let path: String
    private let handle: OpaquePointer

    /// Parses `path` (C: `cdcm_open`). With `headerOnly`, large values such as Pixel Data stay on disk until decoded.
    init(path: String, headerOnly: Bool) throws(DicomError) {
        cdcm_initialize()
        var file: OpaquePointer?
        var error: UnsafeMutablePointer<CChar>?
        let status = cdcm_open(path, headerOnly ? 1 : 0, &file, &error)
        guard status == CDCM_OK, let file else {
            throw DicomError(Self.kind(of: status), path: path, reason: Self.take(error) ?? "cannot open")
        }
        self.path = path
        self.handle = file
    }

    deinit { cdcm_close(handle) }

    /// Whether the attribute is present, even if empty (C: `cdcm_has_tag`); never loads large values.
    func has(_ tag: UInt32) -> Bool { cdcm_has_tag(handle, tag) != 0 }

    /// Text value, all values joined by `\`, trimmed; nil when absent or empty (C: `cdcm_get_string`).
    func string(_ tag: UInt32) -> String? { Self.take(cdcm_get_string(handle, tag)) }

    /// Up to `capacity` numeric values (C: `cdcm_get_numbers`); empty when absent or not numeric.
    func numbers(_ tag: UInt32, capacity: Int = 16) -> [Double] {
        var values = [Double](repeating: 0, count: capacity)
        let count = values.withUnsafeMutableBufferPointer { cdcm_get_numbers(handle, tag, $0.baseAddress, Int32(capacity)) }
        return Array(values.prefix(Int(count)))
    }

    func number(_ tag: UInt32) -> Double? { numbers(tag, capacity: 1).first }

    /// Raw value bytes of a binary (OB or UN) attribute such as a private block (C: `cdcm_get_bytes`); nil when
    /// absent or not binary.
    func bytes(_ tag: UInt32) -> [UInt8]? {
        var pointer: UnsafeMutablePointer<UInt8>?
        var length = 0
        guard cdcm_get_bytes(handle, tag, &pointer, &length) != 0 else { return nil }
        defer { cdcm_free(pointer) }
        guard let pointer, length > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: length))
    }

    /// A private attribute's text whether DCMTK knows its VR (text) or not (UN bytes read as ASCII).
    func privateText(_ tag: UInt32) -> String? {
        guard let raw = bytes(tag) else { return string(tag) }   // DCMTK's text of binary values is hex
        let text = String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : text
    }

    /// A private numeric attribute: known to DCMTK (a number), stored as text in UN bytes, or a little-endian US in
    /// UN bytes (2 bytes, e.g. Siemens NumberOfImagesInMosaic in an implicit VR file).
    func privateNumber(_ tag: UInt32) -> Double? {
        if let raw = bytes(tag) {
            if raw.count == 2, !raw.allSatisfy({ (0x20...0x7E).contains($0) }) { return Double(UInt16(raw[0]) | UInt16(raw[1]) << 8) }
            return privateText(tag).flatMap { Double($0.split(separator: "\\").first ?? "") }
        }
        return number(tag)
    }

    /// Number of items of a top-level sequence (C: `cdcm_sequence_count`).
    func sequenceCount(_ tag: UInt32) -> Int { cdcm_sequence_count(handle, tag) }

    /// Text of `tag` inside item `item` of a top-level sequence (C: `cdcm_get_item_string`).
    func itemString(_ sequence: UInt32, item: Int, _ tag: UInt32) -> String? {
        Self.take(cdcm_get_item_string(handle, sequence, item, tag))
    }

    /// Whether DCMTK has a decoder for this file's transfer syntax (C: `cdcm_can_decode`).
    var canDecode: Bool { cdcm_can_decode(handle) != 0 }

    /// "JPEG 2000 (Lossless only) (1.2.840.10008.1.2.4.90)" (C: `cdcm_transfer_syntax_name`).
    var transferSyntaxName: String { Self.take(cdcm_transfer_syntax_name(handle)) ?? "unknown transfer syntax" }

    /// The functional-group geometry of `frame` (C: `cdcm_get_frame_info`); nil when the object has none.
    func frameGeometry(_ frame: Int) -> DicomFrameGeometry? {
        var info = cdcm_frame_info()
        var error: UnsafeMutablePointer<CChar>?
        guard cdcm_get_frame_info(handle, frame, &info, &error) == CDCM_OK else {
            cdcm_free(error)
            return nil
        }
        var geometry = DicomFrameGeometry()
        if info.has_position != 0 { geometry.position = [info.position.0, info.position.1, info.position.2] }
        if info.has_orientation != 0 {
            let o = info.orientation
            geometry.orientation = [o.0, o.1, o.2, o.3, o.4, o.5]
        }
        if info.has_pixel_spacing != 0 { geometry.pixelSpacing = [info.pixel_spacing.0, info.pixel_spacing.1] }
        if info.has_slice_thickness != 0 { geometry.sliceThickness = info.slice_thickness }
        if info.has_rescale != 0 { geometry.rescale = (info.rescale_slope, info.rescale_intercept) }
        if info.segment_number != 0 { geometry.segmentNumber = Int(info.segment_number) }
        let uid = withUnsafeBytes(of: info.source_sop_instance_uid) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if !uid.isEmpty { geometry.sourceSOPInstanceUID = uid }
        if info.source_frame_number > 0 { geometry.sourceFrameNumber = Int(info.source_frame_number) }
        return geometry
    }

    /// Decodes `frame` into `out[offset ..< offset + count]` as stored values (C: `cdcm_decode_frame`).
    /// The first call decompresses the whole dataset.
    func decodeFrame(_ frame: Int, into out: inout [Float], offset: Int, count: Int) throws(DicomError) {
        precondition(offset >= 0 && offset + count <= out.count, "frame buffer out of range")
        var error: UnsafeMutablePointer<CChar>?
        let status = out.withUnsafeMutableBufferPointer { buffer in
            cdcm_decode_frame(handle, frame, buffer.baseAddress! + offset, count, &error)
        }
        guard status == CDCM_OK else {
            throw DicomError(Self.kind(of: status), path: path, reason: Self.take(error) ?? "cannot decode frame \(frame)")
        }
    }

    /// DCMTK's text dump of the file (C: `cdcm_dump`), for golden tests.
    func dump() -> String { Self.take(cdcm_dump(handle)) ?? "" }

    /// DCMTK's keyword for a UID, e.g. "CTImageStorage" (C: `cdcm_uid_name`).
    static func nameOfUID(_ uid: String) -> String? {
        cdcm_initialize()
        return take(cdcm_uid_name(uid))
    }

    /// The transfer syntax UIDs this build decodes, uncompressed first (C: `cdcm_decodable_transfer_syntaxes`).
    static func decodableTransferSyntaxUIDs() -> [String] {
        (take(cdcm_decodable_transfer_syntaxes()) ?? "").split(separator: "\\").map(String.init)
    }

    /// Copies and frees a string the shim allocated.
    private static func take(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        defer { cdcm_free(pointer) }
        return String(cString: pointer)
    }

    private static func kind(of status: cdcm_status) -> DicomError.Kind {
        switch status {
        case CDCM_ERROR_READ: .unreadable
        case CDCM_ERROR_NO_PIXEL_DATA: .notAnImage
        case CDCM_ERROR_UNSUPPORTED: .unsupported
        case CDCM_ERROR_DECODE: .decodeFailed
        default: .writeFailed
        }
    }

    // MARK: - Writing DICOM SEG

    /// Writes a binary segmentation (C: `cdcm_write_seg`). `request` is validated by the caller; the shim checks again.
    static func writeSegmentation(_ request: DicomSegShimRequest, to path: String) throws(DicomError) {
        cdcm_initialize()
        let arena = CStringArena()
        defer { arena.release() }
        let frameSize = request.rows * request.columns
        precondition(request.pixels.count == request.frames.count * frameSize, "one rows x columns mask per frame")
        precondition(request.orientation.count == 6 && request.pixelSpacing.count == 2, "orientation and spacing")

        let referenceFiles: [UnsafePointer<CChar>?] = request.referenceFiles.map { arena.add($0) }
        let segments: [cdcm_seg_segment] = request.segments.map { segment in
            var c = cdcm_seg_segment()
            c.label = arena.add(segment.label)
            c.category_code = (arena.add(segment.category.0), arena.add(segment.category.1), arena.add(segment.category.2))
            c.type_code = (arena.add(segment.type.0), arena.add(segment.type.1), arena.add(segment.type.2))
            if let lab = segment.displayCIELab {
                c.has_display_color = 1
                c.display_cielab = (lab[0], lab[1], lab[2])
            }
            return c
        }
        var c = cdcm_seg_request()
        c.source_file = arena.add(request.sourceFile)
        c.reference_file_count = referenceFiles.count
        c.rows = UInt16(request.rows)
        c.columns = UInt16(request.columns)
        let o = request.orientation
        c.orientation = (o[0], o[1], o[2], o[3], o[4], o[5])
        c.pixel_spacing = (request.pixelSpacing[0], request.pixelSpacing[1])
        c.slice_thickness = request.sliceThickness
        c.segment_count = segments.count
        c.frame_count = request.frames.count
        c.series_instance_uid = arena.add(request.seriesInstanceUID)
        c.sop_instance_uid = arena.add(request.sopInstanceUID)
        c.dimension_organization_uid = arena.add(request.dimensionOrganizationUID)
        c.content_date = arena.add(request.contentDate)
        c.content_time = arena.add(request.contentTime)
        c.series_number = arena.add(request.seriesNumber)
        c.instance_number = arena.add("1")
        c.series_description = arena.add(request.seriesDescription)
        c.content_label = arena.add(request.contentLabel)
        c.content_description = arena.add(request.contentDescription)
        c.content_creator = arena.add(request.contentCreator)
        c.manufacturer = arena.add(request.manufacturer)
        c.model_name = arena.add(request.modelName)
        c.device_serial_number = arena.add(request.deviceSerialNumber)
        c.software_versions = arena.add(request.softwareVersions)
        c.algorithm_name = arena.add(request.algorithmName)

        var error: UnsafeMutablePointer<CChar>?
        let status: cdcm_status = request.pixels.withUnsafeBufferPointer { allPixels -> cdcm_status in
            var frames: [cdcm_seg_frame] = []
            frames.reserveCapacity(request.frames.count)
            for (index, frame) in request.frames.enumerated() {
                var f = cdcm_seg_frame()
                f.segment_number = UInt16(frame.segmentNumber)
                f.position_index = UInt32(frame.positionIndex)
                f.position = (frame.position[0], frame.position[1], frame.position[2])
                f.source_sop_class_uid = arena.add(frame.sourceSOPClassUID)
                f.source_sop_instance_uid = arena.add(frame.sourceSOPInstanceUID)
                f.source_frame_number = UInt32(frame.sourceFrameNumber ?? 0)
                f.pixels = allPixels.baseAddress! + index * frameSize
                frames.append(f)
            }
            return referenceFiles.withUnsafeBufferPointer { files -> cdcm_status in
                segments.withUnsafeBufferPointer { segmentBuffer -> cdcm_status in
                    frames.withUnsafeBufferPointer { frameBuffer -> cdcm_status in
                        var request = c
                        request.reference_files = files.baseAddress
                        request.segments = segmentBuffer.baseAddress
                        request.frames = frameBuffer.baseAddress
                        return cdcm_write_seg(&request, path, &error)
                    }
                }
            }
        }
        guard status == CDCM_OK else {
            throw DicomError(.writeFailed, path: path, reason: take(error) ?? "cannot write the segmentation")
        }
    }
}

/// C strings that live until `release()`: the SEG request holds dozens of them at once.
private final class CStringArena {
    private var pointers: [UnsafeMutablePointer<CChar>] = []

    func add(_ text: String) -> UnsafePointer<CChar> {
        let pointer = strdup(text)!
        pointers.append(pointer)
        return UnsafePointer(pointer)
    }

    func release() {
        pointers.forEach { free($0) }
        pointers = []
    }
}
