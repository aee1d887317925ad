import Foundation
import XCTest
@testable import UniverSegCLI

/// `universeg inspect` on NIfTI: one file against nibabel's numbers, and a folder mixing NIfTI (3D, 4D, a .hdr/.img
/// pair), a DICOM series with a duplicate slice, and broken or unsupported files, where every file must be accounted for.
final class InspectNiftiTests: XCTestCase {
    static let niftiFixtures = InspectCommandTests.repository.appendingPathComponent("Tests/VolumeIOTests/Fixtures/nifti")
    static let dicomFixtures = InspectCommandTests.dicomFixtures

    /// nibabel's corner voxel centres for a fixture, from `Fixtures/nifti/expected.json` (made by
    /// Tools/geometry_fixtures/make_nifti_fixtures.py): (min, max) along x, y, z.
    func nibabelBounds(_ name: String) throws -> (min: [Double], max: [Double], axcodes: String) {
        let data = try Data(contentsOf: Self.niftiFixtures.appendingPathComponent("expected.json"))
        let all = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entry = try XCTUnwrap(all[name] as? [String: Any])
        let corners = try XCTUnwrap(entry["corners"] as? [[String: Any]]).map { $0["xyz"] as! [Double] }
        return ((0..<3).map { a in corners.map { $0[a] }.min()! }, (0..<3).map { a in corners.map { $0[a] }.max()! },
                try XCTUnwrap(entry["axcodes"] as? String))
    }

    func assertBounds(_ volume: InspectReport.VolumeEntry, _ expected: (min: [Double], max: [Double], axcodes: String),
                      file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(volume.orientation, expected.axcodes, file: file, line: line)
        for (a, b) in zip(volume.boundsMin + volume.boundsMax, expected.min + expected.max) {
            XCTAssertEqual(a, b, accuracy: 1e-4, "\(volume.boundsMin)..\(volume.boundsMax)", file: file, line: line)
        }
    }

    func testNiftiFileReport() throws {
        let url = Self.niftiFixtures.appendingPathComponent("phantom_lia.nii.gz")
        let report = InspectReport.make(url)
        XCTAssertEqual(report.skipped, [])
        XCTAssertEqual(report.volumes.count, 1)
        let volume = try XCTUnwrap(report.volumes.first)
        XCTAssertEqual(volume.format, "NIfTI")
        XCTAssertEqual(volume.files, [url.path])
        XCTAssertEqual(volume.dims, [40, 24, 48])
        XCTAssertEqual(volume.volumeCount, 1)
        for (a, b) in zip(volume.spacing, [1, 3, 1.2]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        assertBounds(volume, try nibabelBounds("phantom_lia.nii.gz"))
        // nibabel: np.asarray(img.dataobj).min(), .max()
        XCTAssertEqual(volume.intensityMin, 97)
        XCTAssertEqual(volume.intensityMax, 1171)
        XCTAssertTrue(volume.description.hasPrefix("phantom_lia.nii.gz (NIfTI-1, INT16, sform"), volume.description)
        // The qform is the sform rounded through float32 quaternions (~0.02 mm): not worth a warning.
        XCTAssertEqual(volume.warnings, [])
        XCTAssertTrue(report.text().contains("  orientation: LIA\n"), report.text())

        let cli = try InspectCommandTests.runBinary(["inspect", url.path, "--json"])
        XCTAssertEqual(cli.status, 0, cli.err)
        XCTAssertEqual(try JSONDecoder().decode(InspectReport.self, from: Data(cli.out.utf8)), report)
    }

    func testGeometryWarnings() throws {
        let differ = try XCTUnwrap(InspectReport.make(Self.niftiFixtures.appendingPathComponent("sform_qform_differ.nii")).volumes.first)
        XCTAssertTrue(differ.warnings.contains { $0.hasPrefix("sform and qform differ by up to") }, "\(differ.warnings)")
        let none = try XCTUnwrap(InspectReport.make(Self.niftiFixtures.appendingPathComponent("no_transform.nii")).volumes.first)
        XCTAssertTrue(none.warnings.contains { $0.hasPrefix("no sform or qform (both codes 0)") }, "\(none.warnings)")
        XCTAssertTrue(none.description.contains("pixdim"), none.description)
    }

    /// A folder with a bit of everything; every file is either in a volume or skipped with a reason naming it.
    func testMixedFolderAccountsForEveryFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inspect-mixed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("dicom"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func copy(_ source: URL, _ name: String) throws {
            try FileManager.default.copyItem(at: source, to: folder.appendingPathComponent(name))
        }
        try copy(Self.niftiFixtures.appendingPathComponent("phantom_lia.nii.gz"), "lia.nii.gz")
        try copy(Self.niftiFixtures.appendingPathComponent("dipy_small_25_4d_uint8.nii.gz"), "dwi.nii.gz")
        try copy(Self.niftiFixtures.appendingPathComponent("bad_truncated.nii.gz"), "cut.nii.gz")
        for name in ["a", "b", "c", "d", "e"] {
            try copy(Self.dicomFixtures.appendingPathComponent("ct-series-shuffled/\(name).dcm"), "dicom/\(name).dcm")
        }
        try copy(Self.dicomFixtures.appendingPathComponent("ct-series-shuffled/c.dcm"), "dicom/z-copy-of-c.dcm")
        try copy(Self.dicomFixtures.appendingPathComponent("bad/MR_truncated.dcm"), "dicom/cut.dcm")
        try Data("not a FreeSurfer volume".utf8).write(to: folder.appendingPathComponent("brain.mgz"))
        try Data("notes".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        try Data([1, 2, 3]).write(to: folder.appendingPathComponent("orphan.img"))
        // A .hdr/.img pair made from dtype_int16.nii: the 348-byte header with pair magic "ni1" and vox_offset 0,
        // and the voxel bytes (after the 352-byte offset) in the .img.
        let single = Self.niftiFixtures.appendingPathComponent("dtype_int16.nii")
        let bytes = try Data(contentsOf: single)
        var header = bytes.prefix(348)
        header.replaceSubrange(108..<112, with: [0, 0, 0, 0])
        header.replaceSubrange(344..<348, with: Array("ni1\0".utf8))
        try header.write(to: folder.appendingPathComponent("pair.hdr"))
        try bytes.dropFirst(352).write(to: folder.appendingPathComponent("pair.img"))

        let report = InspectReport.make(folder)
        let root = folder.path + "/"
        let byName = Dictionary(uniqueKeysWithValues: report.volumes.filter { $0.format == "NIfTI" }.map { ($0.files[0].replacingOccurrences(of: root, with: ""), $0) })
        XCTAssertEqual(Set(byName.keys), ["lia.nii.gz", "dwi.nii.gz", "pair.hdr"], "\(byName.keys)")
        XCTAssertEqual(report.volumes.count, 4)
        let reasons = Dictionary(uniqueKeysWithValues: report.skipped.map { ($0.path.replacingOccurrences(of: root, with: ""), $0.reason) })
        XCTAssertEqual(Set(reasons.keys), ["cut.nii.gz", "dicom/z-copy-of-c.dcm", "dicom/cut.dcm", "brain.mgz", "notes.txt", "orphan.img"])
        XCTAssertTrue(reasons["cut.nii.gz"]!.hasPrefix("truncated voxel data"), reasons["cut.nii.gz"]!)
        XCTAssertTrue(reasons["dicom/z-copy-of-c.dcm"]!.hasPrefix("duplicates slice positions of CT series"), reasons["dicom/z-copy-of-c.dcm"]!)
        XCTAssertEqual(reasons["dicom/cut.dcm"], "truncated or malformed DICOM: I/O suspension or premature end of stream")
        XCTAssertEqual(reasons["brain.mgz"], "unsupported format (FreeSurfer MGH); convert it to NIfTI or DICOM first")
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
        XCTAssertTrue(report.text().contains("  dims:        10 x 8 x 2, 26 volumes (volume 0 shown)\n"), report.text())

        // The pair reads exactly like the single file it was cut from.
        let pair = try XCTUnwrap(byName["pair.hdr"])
        XCTAssertEqual(pair.files, [root + "pair.hdr", root + "pair.img"])
        var fromSingle = try XCTUnwrap(InspectReport.make(single).volumes.first)
        fromSingle.files = pair.files
        fromSingle.description = pair.description
        XCTAssertEqual(pair, fromSingle)

        let ct = try XCTUnwrap(report.volumes.first { $0.format == "DICOM" })
        XCTAssertEqual(ct.dims, [16, 16, 5])
        XCTAssertEqual(Set(ct.files), Set(["a", "b", "c", "d", "e"].map { root + "dicom/\($0).dcm" }))

        let cli = try InspectCommandTests.runBinary(["inspect", folder.path, "--json"])
        XCTAssertEqual(cli.status, 0, cli.err)
        XCTAssertEqual(try JSONDecoder().decode(InspectReport.self, from: Data(cli.out.utf8)), report)
    }

    func testFolderWithOnlyBrokenFilesFailsNamingEachFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inspect-broken-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["bad_wrong_magic.nii", "bad_truncated_uncompressed.nii"] {
            try FileManager.default.copyItem(at: Self.niftiFixtures.appendingPathComponent(name),
                                             to: folder.appendingPathComponent(name))
        }
        let cli = try InspectCommandTests.runBinary(["inspect", folder.path])
        XCTAssertEqual(cli.status, 1)
        XCTAssertEqual(cli.err, "error: no readable volume in \(folder.path)\n")
        XCTAssertTrue(cli.out.hasPrefix("\(folder.path): 0 volume(s), 2 file(s) skipped\n"), cli.out)
        XCTAssertTrue(cli.out.contains("\(folder.path)/bad_wrong_magic.nii: not a NIfTI-1/NIfTI-2 file"), cli.out)
        XCTAssertTrue(cli.out.contains("\(folder.path)/bad_truncated_uncompressed.nii: truncated voxel data"), cli.out)

        let json = try InspectCommandTests.runBinary(["inspect", folder.path, "--json"])
        XCTAssertEqual(json.status, 1)
        let report = try JSONDecoder().decode(InspectReport.self, from: Data(json.out.utf8))
        XCTAssertEqual(report.volumes, [])
        XCTAssertEqual(report.skipped.map { ($0.path as NSString).lastPathComponent },
                       ["bad_truncated_uncompressed.nii", "bad_wrong_magic.nii"])
    }
}
