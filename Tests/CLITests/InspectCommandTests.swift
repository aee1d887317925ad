import Foundation
import XCTest
import VolumeIO
@testable import UniverSegCLI

/// `universeg inspect` prints `InspectionReport` (tested in VolumeIOTests): the text, the JSON, the exit code.
final class InspectCommandTests: XCTestCase {
    static let repository = UniverSegBinary.repository
    static let study = repository.appendingPathComponent("SampleData/dicom-study")
    static let dicomFixtures = repository.appendingPathComponent("Tests/VolumeIOTests/Fixtures/dicom")
    static let niftiFixtures = repository.appendingPathComponent("Tests/VolumeIOTests/Fixtures/nifti")

    func testTextReport() {
        let text = InspectionReport.inspect(Self.study).text()
        XCTAssertTrue(text.hasPrefix("\(Self.study.path): 1 volume(s), 0 file(s) skipped\n\nvolume 1: DICOM "), text)
        XCTAssertTrue(text.contains("  bounds RAS:  x -99.6094..99.6094, y -99.6094..99.6094, z -78..78 mm (voxel centres)"), text)
        XCTAssertTrue(text.contains(" ... (25 files)\n  dims:        256 x 256 x 25\n  spacing:     0.78125 x 0.78125 x 6.5 mm\n"
                                    + "  orientation: LAI\n"), text)
        XCTAssertTrue(text.hasSuffix("  intensity:   0 .. 3057"), text)

        let dwi = InspectionReport.inspect(Self.niftiFixtures.appendingPathComponent("dipy_small_25_4d_uint8.nii.gz")).text()
        XCTAssertTrue(dwi.contains("  dims:        10 x 8 x 2, 26 volumes (volume 0 shown)\n"), dwi)
        XCTAssertTrue(dwi.hasSuffix("\n  warning: 4D file with 26 volumes: the intensity range is of volume 0"), dwi)
    }

    func testExitCodesAndJSON() throws {
        let good = try UniverSegBinary.run(["inspect", Self.study.path, "--json"])
        XCTAssertEqual(good.status, 0, good.err)
        XCTAssertEqual(try JSONDecoder().decode(InspectionReport.self, from: Data(good.out.utf8)),
                       InspectionReport.inspect(Self.study))

        let nifti = Self.niftiFixtures.appendingPathComponent("phantom_lia.nii.gz")
        let text = try UniverSegBinary.run(["inspect", nifti.path])
        XCTAssertEqual(text.status, 0, text.err)
        XCTAssertEqual(text.out, InspectionReport.inspect(nifti).text() + "\n")

        let bad = Self.dicomFixtures.appendingPathComponent("bad/not-dicom.txt").path
        let none = try UniverSegBinary.run(["inspect", bad])
        XCTAssertEqual(none.status, 1)
        XCTAssertEqual(none.err, "error: no readable volume in \(bad)\n")
        XCTAssertEqual(none.out, "\(bad): 0 volume(s), 1 file(s) skipped\n\nskipped:\n  \(bad): not an image (a .txt document)\n")

        let missing = try UniverSegBinary.run(["inspect", "/nonexistent/study"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.out, "/nonexistent/study: 0 volume(s), 1 file(s) skipped\n\nskipped:\n"
                       + "  /nonexistent/study: no such file or folder\n")
    }

    func testFolderWithOnlyBrokenFilesFailsWithTheReportStillPrinted() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inspect-broken-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["bad_wrong_magic.nii", "bad_truncated_uncompressed.nii"] {
            try FileManager.default.copyItem(at: Self.niftiFixtures.appendingPathComponent(name),
                                             to: folder.appendingPathComponent(name))
        }
        let cli = try UniverSegBinary.run(["inspect", folder.path])
        XCTAssertEqual(cli.status, 1)
        XCTAssertEqual(cli.err, "error: no readable volume in \(folder.path)\n")
        XCTAssertEqual(cli.out, InspectionReport.inspect(folder).text() + "\n")

        let json = try UniverSegBinary.run(["inspect", folder.path, "--json"])
        XCTAssertEqual(json.status, 1)
        XCTAssertEqual(json.out, InspectionReport.inspect(folder).json() + "\n")
    }
}
