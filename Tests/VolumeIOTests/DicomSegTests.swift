import Foundation
import XCTest
@testable import VolumeIO

/// SEG written over the shuffled CT series: re-read through the shim, compared frame by frame, validated by dciodvfy,
/// and golden (fixed UIDs and clock give the committed file byte for byte).
final class DicomSegTests: XCTestCase {
    private func ctSeries() throws -> (DicomSeries, Volume<Float>) {
        let series = try XCTUnwrap(DicomReader.scan(DicomFixtures.root.appendingPathComponent("ct-series-shuffled")).series.first)
        return (series, try DicomReader.readVolume(series))
    }

    /// Label 1: a box in slices 1...3; label 2: a diagonal line in every slice; label 3: absent.
    static func labels(on image: Volume<Float>) -> Volume<Int32> {
        var labels = image.withVoxels([Int32](repeating: 0, count: image.count))
        for k in 0..<image.shape[2] { for j in 0..<image.shape[1] { for i in 0..<image.shape[0] {
            if (1...3).contains(k), (3..<9).contains(i), (5..<12).contains(j) { labels[i, j, k] = 1 }
            if i == j { labels[i, j, k] = 2 }
        } } }
        return labels
    }

    static let segments = [DicomSegSegment(value: 1, label: "box"), DicomSegSegment(value: 2, label: "diagonal"),
                           DicomSegSegment(value: 3, label: "absent")]

    static func fixedOptions() -> DicomSegOptions {
        var options = DicomSegOptions()
        let counter = UIDCounter()
        options.makeUID = { counter.next() }
        options.date = Date(timeIntervalSince1970: 1_700_000_000)
        options.timeZone = TimeZone(identifier: "UTC")!
        return options
    }

    func testSegRoundTripsThroughTheShimToTheSameMask() throws {
        let (series, image) = try ctSeries()
        let labels = Self.labels(on: image)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-seg-\(UUID().uuidString).dcm")
        defer { try? FileManager.default.removeItem(at: url) }
        try DicomSegWriter.write(labels, segments: Self.segments, to: url, options: Self.fixedOptions())

        let seg = try DicomSegmentation.read(url)
        XCTAssertEqual(seg.segments.map(\.label), ["box", "diagonal", "absent"])
        XCTAssertEqual(seg.segments.map(\.number), [1, 2, 3])
        XCTAssertEqual(seg.frames.count, 3 + 5 + 1)   // box on 3 slices, diagonal on 5, one empty frame for "absent"
        XCTAssertEqual(seg.orientation, series.reference.imageOrientation)
        for frame in seg.frames {
            let k = try XCTUnwrap(series.reference.imagePositions.firstIndex(of: frame.position))
            XCTAssertEqual(frame.sourceSOPInstanceUID, series.reference.sopInstanceUIDs[k])
        }
        // Segment numbers are the label values here, so the map must equal the input.
        let back = try seg.labelMap(on: series.reference, affine: series.affine)
        XCTAssertEqual(back.voxels, labels.voxels)

        // Patient and study copied from the source; the SEG is a new series in the same study.
        let file = try DicomFile(path: url.path, headerOnly: true)
        let source = try DicomFile(path: series.reference.files[0], headerOnly: true)
        for tag in [DicomTag.patientID, DicomTag.patientName, DicomTag.studyInstanceUID, DicomTag.frameOfReferenceUID] {
            XCTAssertEqual(file.string(tag), source.string(tag))
        }
        XCTAssertEqual(file.string(DicomTag.modality), "SEG")
        XCTAssertEqual(file.itemString(DicomTag.referencedSeriesSequence, item: 0, DicomTag.seriesInstanceUID),
                       series.seriesInstanceUID)
        XCTAssertEqual(file.sequenceCount(DicomTag.referencedSeriesSequence), 1)
    }

    func testFixedUIDsAndClockGiveTheGoldenFile() throws {
        let (_, image) = try ctSeries()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-seg-\(UUID().uuidString).dcm")
        defer { try? FileManager.default.removeItem(at: url) }
        try DicomSegWriter.write(Self.labels(on: image), segments: Self.segments, to: url, options: Self.fixedOptions())
        let golden = DicomFixtures.root.appendingPathComponent("seg/ct-series-shuffled-seg.dcm")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: golden.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: golden)
            try FileManager.default.copyItem(at: url, to: golden)
        }
        let written = try DicomFile(path: url.path, headerOnly: false).dump()
        let expected = try DicomFile(path: golden.path, headerOnly: false).dump()
        XCTAssertEqual(written, expected)
        XCTAssertEqual(try Data(contentsOf: url), try Data(contentsOf: golden))
    }

    /// Each segment carries its display colour as DICOM CIELab; the expected values are the sRGB → CIE L*a*b* (D65)
    /// formulas computed independently (Python, by hand), scaled to 0...65535 as PS3.3 C.10.7.1.1 says.
    func testSegmentsCarryTheirDisplayColourAsCIELab() throws {
        let (_, image) = try ctSeries()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-seg-\(UUID().uuidString).dcm")
        defer { try? FileManager.default.removeItem(at: url) }
        var segments = Self.segments
        segments[0].color = DisplayColor(255, 40, 40)
        segments[1].color = DisplayColor(40, 220, 40)
        try DicomSegWriter.write(Self.labels(on: image), segments: segments, to: url, options: Self.fixedOptions())
        let file = try DicomFile(path: url.path, headerOnly: true)
        let recommendedDisplayCIELabValue: UInt32 = 0x0062_000D
        let expected = [[36050, 52411, 46989], [50563, 14019, 50536]]
        for (segment, lab) in expected.enumerated() {
            let value = try XCTUnwrap(file.itemString(DicomTag.segmentSequence, item: segment, recommendedDisplayCIELabValue))
            XCTAssertEqual(value.split(separator: "\\").compactMap { Int($0) }, lab, "segment \(segment + 1): \(value)")
        }
        XCTAssertNil(file.itemString(DicomTag.segmentSequence, item: 2, recommendedDisplayCIELabValue))
        XCTAssertEqual(try dciodvfyErrors(url), [])
    }

    /// Segments coded as the definition says (SNOMED CT liver and a lesion category) keep their codes and meanings
    /// in the SEG, next to the generic default coding of an uncoded one; dciodvfy stays clean. The golden file
    /// (seg/ct-series-shuffled-seg-coded.dcm) is what Tools/dicom_seg/test_seg_codes.py reads with pydicom.
    func testSegmentsCarryTheirCodesAndColours() throws {
        let (_, image) = try ctSeries()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-seg-\(UUID().uuidString).dcm")
        defer { try? FileManager.default.removeItem(at: url) }
        try DicomSegWriter.write(Self.labels(on: image), segments: Self.codedSegments, to: url, options: Self.fixedOptions())
        // The segment sequence's labels and codes, in the order DCMTK's dump lists them.
        let dump = try DicomFile(path: url.path, headerOnly: true).dump()
        let fromSegments = try XCTUnwrap(dump.components(separatedBy: "SegmentSequence").dropFirst().first)
        // (5200,9229) follows (0062,0002): the shared and per-frame groups hold other codes.
        let segmentPart = try XCTUnwrap(fromSegments.components(separatedBy: "SharedFunctionalGroupsSequence").first)
        let written = segmentPart.split(separator: "\n").compactMap { line -> String? in
            guard ["SegmentLabel", "CodeValue", "CodingSchemeDesignator", "CodeMeaning"].contains(where: { line.hasSuffix(" " + $0) }),
                  let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]") else { return nil }
            return String(line[line.index(after: open)..<close])
        }
        let expected = Self.codedSegments.flatMap { segment in
            [segment.category.value, segment.category.scheme, segment.category.meaning,
             segment.label, segment.type.value, segment.type.scheme, segment.type.meaning]
        }
        XCTAssertEqual(written, expected, segmentPart)
        XCTAssertEqual(try dciodvfyErrors(url), [])
        let golden = DicomFixtures.root.appendingPathComponent("seg/ct-series-shuffled-seg-coded.dcm")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try? FileManager.default.removeItem(at: golden)
            try FileManager.default.copyItem(at: url, to: golden)
        }
        XCTAssertEqual(try Data(contentsOf: url), try Data(contentsOf: golden))
    }

    static let codedSegments = [
        DicomSegSegment(value: 1, label: "liver", category: .anatomicalStructure,
                        type: CodedConcept(scheme: "SCT", value: "10200004", meaning: "Liver"), color: DisplayColor(221, 130, 101)),
        DicomSegSegment(value: 2, label: "lesion",
                        category: CodedConcept(scheme: "SCT", value: "49755003", meaning: "Morphologically Altered Structure"),
                        type: CodedConcept(scheme: "SCT", value: "52988006", meaning: "Lesion"), color: DisplayColor(255, 0, 0)),
        DicomSegSegment(value: 3, label: "absent", color: DisplayColor(0, 0, 255)),
    ]

    /// A code that does not fit its DICOM attributes is refused before anything is written.
    func testACodeTooLongForItsAttributeIsRefused() throws {
        let (_, image) = try ctSeries()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-seg-\(UUID().uuidString).dcm")
        let segment = DicomSegSegment(value: 1, label: "x", type: CodedConcept(scheme: "SCT", value: "12345678901234567", meaning: "X"))
        XCTAssertThrowsError(try DicomSegWriter.write(Self.labels(on: image), segments: [segment], to: url)) { error in
            XCTAssertTrue("\(error)".contains("segment 'x': the code's value '12345678901234567' is longer than 16 characters"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }

    /// The CT series with its middle file (e.dcm, slice 2) missing: the volume keeps five slices with slice 2 empty,
    /// every other slice where the complete series has it; a SEG over it references the four sources, and reads
    /// back onto the same grid.
    func testAMissingSliceKeepsItsPlaceInTheVolumeAndTheSeg() throws {
        let (complete, full) = try ctSeries()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-gap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["a.dcm", "b.dcm", "c.dcm", "d.dcm"] {
            try FileManager.default.copyItem(at: DicomFixtures.root.appendingPathComponent("ct-series-shuffled/\(name)"),
                                             to: folder.appendingPathComponent(name))
        }
        XCTAssertEqual((complete.reference.files[2] as NSString).lastPathComponent, "e.dcm")
        let series = try XCTUnwrap(DicomReader.scan(folder).series.first)
        XCTAssertEqual(series.shape, full.shape)
        XCTAssertEqual(series.reference.sliceIndices, [0, 1, 3, 4])
        for (a, b) in zip(series.affine.values, full.affine.values) { XCTAssertEqual(a, b, accuracy: 1e-9) }
        let image = try DicomReader.readVolume(series)
        let plane = full.shape[0] * full.shape[1]
        for k in [0, 1, 3, 4] {
            XCTAssertEqual(image.voxels[k * plane ..< (k + 1) * plane], full.voxels[k * plane ..< (k + 1) * plane], "slice \(k)")
        }
        let darkest = image.voxels.min()!
        XCTAssertTrue(image.voxels[2 * plane ..< 3 * plane].allSatisfy { $0 == darkest })

        let labels = Self.labels(on: image)
        let url = folder.appendingPathComponent("seg.dcm")
        try DicomSegWriter.write(labels, segments: Self.segments, to: url, options: Self.fixedOptions())
        let seg = try DicomSegmentation.read(url)
        XCTAssertEqual(seg.frames.count, 2 + 4 + 1)   // box on slices 1 and 3 (2 has no source), diagonal on 4, "absent"
        XCTAssertFalse(seg.frames.contains { $0.sourceSOPInstanceUID == complete.reference.sopInstanceUIDs[2] })
        var expected = labels
        for offset in 0..<plane { expected.voxels[2 * plane + offset] = 0 }
        XCTAssertEqual(try seg.labelMap(on: series.reference, affine: series.affine).voxels, expected.voxels)
        XCTAssertEqual(try dciodvfyErrors(url), [])
    }

    /// Frames of a SEG over an enhanced multi-frame image name their source frame (ReferencedFrameNumber), since
    /// every frame shares one SOP instance; frames over single-frame files name none.
    func testSegOverAMultiFrameSourceReferencesEachFrame() throws {
        let series = try XCTUnwrap(DicomReader.scan(files: [DicomFixtures.path("enhanced/eCT_Supplemental.dcm")]).series.first)
        let image = try DicomReader.readVolume(series)
        let labels = image.withVoxels([Int32](repeating: 1, count: image.count))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-seg-\(UUID().uuidString).dcm")
        defer { try? FileManager.default.removeItem(at: url) }
        try DicomSegWriter.write(labels, segments: [DicomSegSegment(value: 1, label: "all")], to: url, options: Self.fixedOptions())
        let seg = try DicomSegmentation.read(url)
        XCTAssertEqual(seg.frames.count, 2)
        for frame in seg.frames {
            let k = try XCTUnwrap(series.reference.imagePositions.firstIndex(of: frame.position))
            XCTAssertEqual(frame.sourceSOPInstanceUID, series.reference.sopInstanceUIDs[k])
            XCTAssertEqual(frame.sourceFrameNumber, series.reference.frames[k] + 1)
        }
        XCTAssertEqual(Set(seg.frames.compactMap(\.sourceFrameNumber)), [1, 2])
        XCTAssertEqual(try dciodvfyErrors(url), [])

        let (ct, ctImage) = try ctSeries()
        let single = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-seg-\(UUID().uuidString).dcm")
        defer { try? FileManager.default.removeItem(at: single) }
        try DicomSegWriter.write(Self.labels(on: ctImage), segments: Self.segments, to: single, options: Self.fixedOptions())
        XCTAssertTrue(try DicomSegmentation.read(single).frames.allSatisfy { $0.sourceFrameNumber == nil }, "\(ct.reference.files.count) files")
    }

    func testDciodvfyReportsNoErrors() throws {
        let (_, image) = try ctSeries()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-seg-\(UUID().uuidString).dcm")
        defer { try? FileManager.default.removeItem(at: url) }
        try DicomSegWriter.write(Self.labels(on: image), segments: Self.segments, to: url, options: Self.fixedOptions())
        XCTAssertEqual(try dciodvfyErrors(url), [])
    }

    /// The "Error" lines dciodvfy prints for `url`.
    private func dciodvfyErrors(_ url: URL) throws -> [String] {
        let tool = "/usr/bin/dciodvfy"
        guard FileManager.default.isExecutableFile(atPath: tool) else {
            throw XCTSkip("dciodvfy (Debian package dicom3tools) is not installed")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = [url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return output.split(separator: "\n").filter { $0.hasPrefix("Error") }.map(String.init)
    }

    func testWriterRejectsALabelMapThatIsNotOnADicomGrid() {
        let labels = Volume(shape: [2, 2, 1], affine: .identity, voxels: [Int32](repeating: 1, count: 4))
        let url = URL(fileURLWithPath: "/tmp/never-written.dcm")
        XCTAssertThrowsError(try DicomSegWriter.write(labels, segments: [DicomSegSegment(value: 1, label: "x")], to: url)) { error in
            XCTAssertEqual("\(error)", "/tmp/never-written.dcm: error: the label map is not on a DICOM series grid "
                           + "(its source is not DICOM)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }

    func testGeneratedUIDsAreValid() {
        let uid = DicomUIDs.make()
        XCTAssertTrue(uid.hasPrefix("2.25."))
        XCTAssertLessThanOrEqual(uid.count, 64)
        XCTAssertTrue(uid.dropFirst(5).allSatisfy(\.isNumber))
        XCTAssertNotEqual(uid, DicomUIDs.make())
    }
}

/// Deterministic UIDs for golden tests.
final class UIDCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> String {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return "1.2.826.0.1.3680043.10.1234.\(value)"
    }
}
