import Foundation
import XCTest
@testable import VolumeIO

/// `InspectionReport.inspect`: the sample DICOM study, NIfTI files against nibabel's numbers, and folders mixing
/// NIfTI (3D, 4D, a .hdr/.img pair), a DICOM series with a duplicate slice, and broken or unsupported files, where
/// every file must be accounted for.
final class InspectionTests: XCTestCase {
    static let study = DicomFixtures.repository.appendingPathComponent("SampleData/dicom-study")

    /// nibabel's corner voxel centres for a fixture, from `Fixtures/nifti/expected.json`: (min, max) along x, y, z.
    func nibabelBounds(_ name: String) throws -> (min: [Double], max: [Double], axcodes: String) {
        let expected = try XCTUnwrap(Fixtures.expected[name])
        let corners = expected.corners.map(\.xyz)
        return ((0..<3).map { a in corners.map { $0[a] }.min()! }, (0..<3).map { a in corners.map { $0[a] }.max()! },
                expected.axcodes)
    }

    func assertBounds(_ volume: InspectionReport.VolumeEntry, _ expected: (min: [Double], max: [Double], axcodes: String),
                      file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(volume.orientation, expected.axcodes, file: file, line: line)
        assertClose(volume.boundsMin + volume.boundsMax, expected.min + expected.max, 1e-4,
                    "\(volume.boundsMin)..\(volume.boundsMax)", file: file, line: line)
    }

    func testSampleStudyReport() throws {
        let report = InspectionReport.inspect(Self.study)
        XCTAssertEqual(report.skipped, [])
        let volume = try XCTUnwrap(report.volumes.first)
        XCTAssertEqual(report.volumes.count, 1)
        XCTAssertEqual(volume.format, "DICOM")
        XCTAssertEqual(volume.modality, "MR")
        XCTAssertEqual(volume.dims, [256, 256, 25])
        XCTAssertEqual(volume.files.count, 25)
        XCTAssertEqual(volume.orientation, "LAI")
        assertClose(volume.spacing, [0.78125, 0.78125, 6.5], 1e-9)
        // The NIfTI it was made from spans x -99.6..99.6, y -99.6..99.6, z -78..78 (voxel centres).
        assertClose(volume.boundsMin + volume.boundsMax, [-99.609375, -99.609375, -78, 99.609375, 99.609375, 78], 1e-4)
        XCTAssertEqual(volume.intensityMin, 0)
        XCTAssertEqual(volume.intensityMax, 3057)
        XCTAssertEqual(volume.warnings, [])
        let decoded = try JSONDecoder().decode(InspectionReport.self, from: JSONEncoder().encode(report))
        XCTAssertEqual(decoded, report)
    }

    func testFolderWithBadFilesListsEveryUnreadableFileWithItsReason() {
        let report = InspectionReport.inspect(DicomFixtures.root)
        let unreadable = Dictionary(uniqueKeysWithValues: report.skipped.map { (($0.path as NSString).lastPathComponent, $0.reason) })
        // JPEG 2000 decodes (OpenJPEG): no file is refused for want of a decoder.
        XCTAssertFalse(report.skipped.contains { $0.reason.contains("no decoder") }, "\(report.skipped)")
        XCTAssertEqual(unreadable["MR_truncated.dcm"], "truncated or malformed DICOM: I/O suspension or premature end of stream")
        XCTAssertEqual(unreadable["ct-series-shuffled-seg.dcm"], "a DICOM Segmentation (SEG), not an image series")
        XCTAssertTrue(report.volumes.contains { $0.dims == [16, 16, 5] && $0.modality == "CT" })
        XCTAssertTrue(report.volumes.contains { $0.description.hasPrefix("CT series 3") && $0.dims == [512, 512, 2] })
    }

    func testMissingPathIsSkipped() {
        let report = InspectionReport.inspect(URL(fileURLWithPath: "/nonexistent/study"))
        XCTAssertEqual(report.volumes, [])
        XCTAssertEqual(report.skipped, [.init(path: "/nonexistent/study", reason: "no such file or folder")])
    }

    func testNiftiFileReport() throws {
        let url = Fixtures.url("phantom_lia.nii.gz")
        let report = InspectionReport.inspect(url)
        XCTAssertEqual(report.skipped, [])
        XCTAssertEqual(report.volumes.count, 1)
        let volume = try XCTUnwrap(report.volumes.first)
        XCTAssertEqual(volume.format, "NIfTI")
        XCTAssertEqual(volume.files, [url.path])
        XCTAssertEqual(volume.dims, [40, 24, 48])
        XCTAssertEqual(volume.volumeCount, 1)
        assertClose(volume.spacing, [1, 3, 1.2], 1e-6)
        assertBounds(volume, try nibabelBounds("phantom_lia.nii.gz"))
        // nibabel: np.asarray(img.dataobj).min(), .max()
        XCTAssertEqual(volume.intensityMin, 97)
        XCTAssertEqual(volume.intensityMax, 1171)
        XCTAssertTrue(volume.description.hasPrefix("phantom_lia.nii.gz (NIfTI-1, INT16, sform"), volume.description)
        // The qform is the sform rounded through float32 quaternions (~0.02 mm): not worth a warning.
        XCTAssertEqual(volume.warnings, [])
    }

    func testGeometryWarnings() throws {
        let differ = try XCTUnwrap(InspectionReport.inspect(Fixtures.url("sform_qform_differ.nii")).volumes.first)
        XCTAssertTrue(differ.warnings.contains { $0.hasPrefix("sform and qform differ by up to") }, "\(differ.warnings)")
        let none = try XCTUnwrap(InspectionReport.inspect(Fixtures.url("no_transform.nii")).volumes.first)
        XCTAssertTrue(none.warnings.contains { $0.hasPrefix("no sform or qform (both codes 0)") }, "\(none.warnings)")
        XCTAssertTrue(none.description.contains("pixdim"), none.description)
    }

    /// Writes a .hdr/.img pair cut from `dtype_int16.nii`: the 348-byte header with pair magic "ni1" and vox_offset
    /// 0, and the voxel bytes (after the 352-byte offset) in the data file.
    static func writePair(header: URL, data: URL) throws {
        let bytes = try Data(contentsOf: Fixtures.url("dtype_int16.nii"))
        var head = bytes.prefix(348)
        head.replaceSubrange(108..<112, with: [0, 0, 0, 0])
        head.replaceSubrange(344..<348, with: Array("ni1\0".utf8))
        try head.write(to: header)
        try bytes.dropFirst(352).write(to: data)
    }

    /// A folder with a bit of everything; every file is either in a volume or skipped with a reason naming it.
    func testMixedFolderAccountsForEveryFile() throws {
        let folder = try Fixtures.temporaryFolder(self)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("dicom"), withIntermediateDirectories: true)
        func copy(_ source: URL, _ name: String) throws {
            try FileManager.default.copyItem(at: source, to: folder.appendingPathComponent(name))
        }
        try copy(Fixtures.url("phantom_lia.nii.gz"), "lia.nii.gz")
        try copy(Fixtures.url("dipy_small_25_4d_uint8.nii.gz"), "dwi.nii.gz")
        try copy(Fixtures.url("bad_truncated.nii.gz"), "cut.nii.gz")
        for name in ["a", "b", "c", "d", "e"] {
            try copy(DicomFixtures.root.appendingPathComponent("ct-series-shuffled/\(name).dcm"), "dicom/\(name).dcm")
        }
        try copy(DicomFixtures.root.appendingPathComponent("ct-series-shuffled/c.dcm"), "dicom/z-copy-of-c.dcm")
        try copy(DicomFixtures.root.appendingPathComponent("bad/MR_truncated.dcm"), "dicom/cut.dcm")
        try Data("not a FreeSurfer volume".utf8).write(to: folder.appendingPathComponent("brain.mgz"))
        try Data("notes".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        try Data([1, 2, 3]).write(to: folder.appendingPathComponent("orphan.img"))
        try Self.writePair(header: folder.appendingPathComponent("pair.hdr"), data: folder.appendingPathComponent("pair.img"))

        let report = InspectionReport.inspect(folder)
        let root = folder.path + "/"
        let byName = Dictionary(uniqueKeysWithValues: report.volumes.filter { $0.format == "NIfTI" }.map { ($0.files[0].replacingOccurrences(of: root, with: ""), $0) })
        XCTAssertEqual(Set(byName.keys), ["lia.nii.gz", "dwi.nii.gz", "pair.hdr"], "\(byName.keys)")
        XCTAssertEqual(report.volumes.count, 4)
        let reasons = Dictionary(uniqueKeysWithValues: report.skipped.map { ($0.path.replacingOccurrences(of: root, with: ""), $0.reason) })
        XCTAssertEqual(Set(reasons.keys), ["cut.nii.gz", "dicom/z-copy-of-c.dcm", "dicom/cut.dcm", "brain.mgz", "notes.txt", "orphan.img"])
        XCTAssertTrue(reasons["cut.nii.gz"]!.hasPrefix("truncated voxel data"), reasons["cut.nii.gz"]!)
        XCTAssertTrue(reasons["dicom/z-copy-of-c.dcm"]!.hasPrefix("duplicates slice positions of CT series"), reasons["dicom/z-copy-of-c.dcm"]!)
        XCTAssertEqual(reasons["dicom/cut.dcm"], "truncated or malformed DICOM: I/O suspension or premature end of stream")
        XCTAssertTrue(reasons["brain.mgz"]!.hasPrefix("bad MGH header: not a gzip-compressed MGH file"), reasons["brain.mgz"]!)
        XCTAssertEqual(reasons["notes.txt"], "not an image (a .txt document)")
        XCTAssertEqual(reasons["orphan.img"], "image data of an Analyze/NIfTI pair, but no .hdr beside it")
        // Every file on disk appears once: in a volume or skipped.
        let accounted = report.volumes.flatMap(\.files) + report.skipped.map(\.path)
        let onDisk = try FileManager.default.subpathsOfDirectory(atPath: folder.path).map { root + $0 }
            .filter { !$0.hasSuffix("/dicom") }
        XCTAssertEqual(accounted.sorted(), onDisk.sorted())

        let dwi = try XCTUnwrap(byName["dwi.nii.gz"])
        XCTAssertEqual(dwi.dims, [10, 8, 2])
        XCTAssertEqual(dwi.volumeCount, 26)
        assertBounds(dwi, try nibabelBounds("dipy_small_25_4d_uint8.nii.gz"))
        XCTAssertEqual(dwi.intensityMin, 162)   // nibabel: volume 0 of the 4D array
        XCTAssertEqual(dwi.intensityMax, 255)
        XCTAssertEqual(dwi.warnings, ["4D file with 26 volumes: the intensity range is of volume 0"])

        // The pair reads exactly like the single file it was cut from.
        let pair = try XCTUnwrap(byName["pair.hdr"])
        XCTAssertEqual(pair.files, [root + "pair.hdr", root + "pair.img"])
        var fromSingle = try XCTUnwrap(InspectionReport.inspect(Fixtures.url("dtype_int16.nii")).volumes.first)
        fromSingle.files = pair.files
        fromSingle.description = pair.description
        XCTAssertEqual(pair, fromSingle)

        let ct = try XCTUnwrap(report.volumes.first { $0.format == "DICOM" })
        XCTAssertEqual(ct.dims, [16, 16, 5])
        XCTAssertEqual(Set(ct.files), Set(["a", "b", "c", "d", "e"].map { root + "dicom/\($0).dcm" }))
    }

    /// Inspecting the data half of a pair reads the pair through its header, in either case and compressed or not.
    func testPairIsFoundFromEitherHalfInTheCaseOfItsExtension() throws {
        let folder = try Fixtures.temporaryFolder(self)
        try Self.writePair(header: folder.appendingPathComponent("UPPER.HDR"), data: folder.appendingPathComponent("UPPER.IMG"))
        try Self.writePair(header: folder.appendingPathComponent("lower.hdr"), data: folder.appendingPathComponent("lower.img"))
        for (asked, files) in [("UPPER.IMG", ["UPPER.HDR", "UPPER.IMG"]), ("lower.img", ["lower.hdr", "lower.img"]),
                               ("UPPER.HDR", ["UPPER.HDR", "UPPER.IMG"])] {
            let report = InspectionReport.inspect(folder.appendingPathComponent(asked))
            XCTAssertEqual(report.skipped, [], asked)
            XCTAssertEqual(report.volumes.first?.files, files.map { folder.appendingPathComponent($0).path }, asked)
        }
        XCTAssertEqual(InspectionReport.inspect(folder).volumes.count, 2)
    }

    func testFolderWithOnlyBrokenFilesNamesEachFile() throws {
        let folder = try Fixtures.temporaryFolder(self)
        for name in ["bad_wrong_magic.nii", "bad_truncated_uncompressed.nii"] {
            try FileManager.default.copyItem(at: Fixtures.url(name), to: folder.appendingPathComponent(name))
        }
        let report = InspectionReport.inspect(folder)
        XCTAssertEqual(report.volumes, [])
        XCTAssertEqual(report.skipped.map { ($0.path as NSString).lastPathComponent },
                       ["bad_truncated_uncompressed.nii", "bad_wrong_magic.nii"])
        XCTAssertTrue(report.skipped[0].reason.hasPrefix("truncated voxel data"), report.skipped[0].reason)
        XCTAssertTrue(report.skipped[1].reason.hasPrefix("not a NIfTI-1/NIfTI-2 file"), report.skipped[1].reason)
    }
}

/// The one .hdr/.img pairing rule (`NiftiFileName`) and the names of formats we do not read.
final class InspectionNamingTests: XCTestCase {
    func testPairPartnerCandidatesKeepTheStemAndTryTheGivenCaseFirst() {
        let header = NiftiFileName.pairHeaderExtensions, data = NiftiFileName.pairDataExtensions
        XCTAssertEqual(NiftiFileName.partnerCandidates(of: "/a/x.hdr", from: header, to: data),
                       ["/a/x.img", "/a/x.img.gz", "/a/x.IMG", "/a/x.IMG.GZ"])
        XCTAssertEqual(NiftiFileName.partnerCandidates(of: "/a/X.HDR.GZ", from: header, to: data),
                       ["/a/X.IMG", "/a/X.IMG.GZ", "/a/X.img", "/a/X.img.gz"])
        // The stem of a compressed data file drops the whole extension, in any case (the old rule looked for
        // "X.IMG.hdr" beside "X.IMG.GZ").
        XCTAssertEqual(NiftiFileName.partnerCandidates(of: "/a/X.IMG.GZ", from: data, to: header),
                       ["/a/X.HDR", "/a/X.HDR.GZ", "/a/X.hdr", "/a/X.hdr.gz"])
        XCTAssertEqual(NiftiFileName.partnerCandidates(of: "/a/x.nii", from: data, to: header), [])
        XCTAssertTrue(NiftiFileName.isPairData("x.IMG.gz"))
        XCTAssertFalse(NiftiFileName.isPairData("x.nii"))
        XCTAssertTrue(NiftiFileName.isPairHeader("x.Hdr"))
    }

    func testOtherFormatsAreNamed() throws {
        XCTAssertEqual(OtherImageFormat.reason(for: "/x/scan.PAR"), "unsupported format (Philips PAR/REC); convert it to NIfTI or DICOM first")
        XCTAssertEqual(OtherImageFormat.reason(for: "/x/t1.mnc.gz"), "unsupported format (MINC); convert it to NIfTI or DICOM first")
        XCTAssertEqual(OtherImageFormat.reason(for: "/x/readme.md"), "not an image (a .md document)")
        XCTAssertNil(OtherImageFormat.reason(for: "/nonexistent/IM0001"))
        let folder = try Fixtures.temporaryFolder(self)
        let gzip = folder.appendingPathComponent("scan.gz")
        try Data([0x1f, 0x8b, 8, 0]).write(to: gzip)
        XCTAssertEqual(OtherImageFormat.reason(for: gzip.path), "a gzip-compressed file that is not a .nii.gz; decompress it first (gunzip)")
    }
}
