import Foundation
import XCTest
@testable import UniverSegCLI

/// `universeg inspect` on the sample DICOM study and on bad input: the report, the text, the exit code.
final class InspectCommandTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let study = repository.appendingPathComponent("SampleData/dicom-study")
    static let dicomFixtures = repository.appendingPathComponent("Tests/VolumeIOTests/Fixtures/dicom")

    func testSampleStudyReport() throws {
        let report = InspectReport.make(Self.study)
        XCTAssertEqual(report.skipped, [])
        let volume = try XCTUnwrap(report.volumes.first)
        XCTAssertEqual(report.volumes.count, 1)
        XCTAssertEqual(volume.format, "DICOM")
        XCTAssertEqual(volume.modality, "MR")
        XCTAssertEqual(volume.dims, [256, 256, 25])
        XCTAssertEqual(volume.files.count, 25)
        XCTAssertEqual(volume.orientation, "LAI")
        for (a, b) in zip(volume.spacing, [0.78125, 0.78125, 6.5]) { XCTAssertEqual(a, b, accuracy: 1e-9) }
        // The NIfTI it was made from spans x -99.6..99.6, y -99.6..99.6, z -78..78 (voxel centres).
        for (a, b) in zip(volume.boundsMin + volume.boundsMax, [-99.609375, -99.609375, -78, 99.609375, 99.609375, 78]) {
            XCTAssertEqual(a, b, accuracy: 1e-4)
        }
        XCTAssertEqual(volume.intensityMin, 0)
        XCTAssertEqual(volume.intensityMax, 3057)
        XCTAssertEqual(volume.warnings, [])
        let text = report.text()
        XCTAssertTrue(text.contains("  bounds RAS:  x -99.6094..99.6094, y -99.6094..99.6094, z -78..78 mm (voxel centres)"), text)
        let decoded = try JSONDecoder().decode(InspectReport.self, from: Data(report.json().utf8))
        XCTAssertEqual(decoded, report)
    }

    func testFolderWithBadFilesListsEveryUnreadableFileWithItsReason() {
        let report = InspectReport.make(Self.dicomFixtures)
        let unreadable = Dictionary(uniqueKeysWithValues: report.skipped.map { (($0.path as NSString).lastPathComponent, $0.reason) })
        XCTAssertEqual(unreadable["MR_small_jp2klossless.dcm"],
                       "no decoder for transfer syntax JPEG 2000 (Lossless only) (1.2.840.10008.1.2.4.90) in this DCMTK build")
        XCTAssertEqual(unreadable["MR_truncated.dcm"], "truncated or malformed DICOM: I/O suspension or premature end of stream")
        XCTAssertEqual(unreadable["ct-series-shuffled-seg.dcm"], "a DICOM Segmentation (SEG), not an image series")
        XCTAssertTrue(report.volumes.contains { $0.dims == [16, 16, 5] && $0.modality == "CT" })
        XCTAssertTrue(report.volumes.contains { $0.description.hasPrefix("CT series 3") && $0.dims == [512, 512, 2] })
    }

    static func runBinary(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try UniverSegBinary.run(arguments)
    }

    func testExitCodes() throws {
        let run = Self.runBinary
        let good = try run(["inspect", Self.study.path, "--json"])
        XCTAssertEqual(good.status, 0, good.err)
        XCTAssertEqual(try JSONDecoder().decode(InspectReport.self, from: Data(good.out.utf8)).volumes.count, 1)

        let bad = Self.dicomFixtures.appendingPathComponent("bad/not-dicom.txt").path
        let none = try run(["inspect", bad])
        XCTAssertEqual(none.status, 1)
        XCTAssertEqual(none.err, "error: no readable volume in \(bad)\n")
        XCTAssertTrue(none.out.contains("\(bad): not an image (a .txt document)"), none.out)

        let missing = try run(["inspect", "/nonexistent/study"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.out.contains("/nonexistent/study: no such file or folder"), missing.out)
    }
}
