import Foundation
import XCTest
@testable import VolumeIO

/// JPEG 2000 DICOM (1.2.840.10008.1.2.4.90 and .91) decoded with OpenJPEG behind the DCMTK shim: lossless copies read
/// exactly as their uncompressed sources, the lossy one within the error pydicom measured
/// (Tools/j2k_fixtures/make_j2k_fixtures.py), and every rule after decoding (rescale, slice order) unchanged.
final class DicomJpeg2000Tests: XCTestCase {
    struct Entry: Decodable {
        var source: String
        var transfer_syntax: String
        var max_abs_error: Int
    }

    static let folder = DicomFixtures.root.appendingPathComponent("j2k")
    static let expected: [String: Entry] = {
        let data = try! Data(contentsOf: folder.appendingPathComponent("expected-j2k.json"))
        return try! JSONDecoder().decode([String: Entry].self, from: data)
    }()

    func volume(_ paths: [String]) throws -> Volume<Float> {
        let scan = DicomReader.scan(files: paths)
        XCTAssertEqual(scan.skipped.map(\.description), [])
        let series = try XCTUnwrap(scan.series.first)
        XCTAssertEqual(scan.series.count, 1)
        return try DicomReader.readVolume(series)
    }

    func source(_ name: String) -> String {
        DicomFixtures.repository.appendingPathComponent(Self.expected[name]!.source).path
    }

    func testLosslessSeriesDecodesToExactlyTheSourceVoxels() throws {
        let names = ["brain1-lossless/IM0001.dcm", "brain1-lossless/IM0002.dcm", "brain1-lossless/IM0003.dcm"]
        XCTAssertTrue(names.allSatisfy { Self.expected[$0]!.transfer_syntax == "1.2.840.10008.1.2.4.90" })
        let j2k = try volume(names.map { Self.folder.appendingPathComponent($0).path })
        let original = try volume(names.map(source))
        XCTAssertEqual(j2k.shape, [256, 256, 3])
        XCTAssertEqual(j2k.affine, original.affine)
        XCTAssertEqual(j2k.voxels, original.voxels)
        XCTAssertGreaterThan(Set(j2k.voxels).count, 100)   // a real image, not a constant
    }

    func testMultiFrameDecodesEveryFrame() throws {
        let j2k = try volume([Self.folder.appendingPathComponent("ect-lossless.dcm").path])
        let original = try volume([source("ect-lossless.dcm")])
        XCTAssertEqual(j2k.shape, [512, 512, 2])
        XCTAssertEqual(j2k.affine, original.affine)
        XCTAssertEqual(j2k.voxels, original.voxels)   // rescale (CT HU) applied the same after decoding
    }

    /// pydicom's own JPEG 2000 copy of MR_small (another encoder than the one our fixtures were made with).
    func testIndependentlyEncodedFileMatchesItsSource() throws {
        let j2k = try volume([DicomFixtures.path("syntaxes/MR_small_jp2klossless.dcm")])
        let original = try volume([DicomFixtures.path("syntaxes/MR_small.dcm")])
        XCTAssertEqual(j2k.voxels, original.voxels)
        XCTAssertEqual(j2k.affine, original.affine)
    }

    func testLossyDecodesWithinItsStatedError() throws {
        let entry = Self.expected["mr-small-lossy.dcm"]!
        XCTAssertEqual(entry.transfer_syntax, "1.2.840.10008.1.2.4.91")
        let j2k = try volume([Self.folder.appendingPathComponent("mr-small-lossy.dcm").path])
        let original = try volume([source("mr-small-lossy.dcm")])
        XCTAssertEqual(j2k.affine, original.affine)
        let worst = zip(j2k.voxels, original.voxels).map { abs($0 - $1) }.max()!
        // Same error as pydicom's decoder measured (MR_small has no rescale: stored values are the voxels).
        XCTAssertEqual(Int(worst), entry.max_abs_error)
        XCTAssertGreaterThan(worst, 0)
    }

    func testCorruptCodestreamIsOneLineNamingTheFile() throws {
        let folder = try Fixtures.temporaryFolder(self)
        var bytes = try Data(contentsOf: Self.folder.appendingPathComponent("mr-small-lossy.dcm"))
        let cut = bytes.count - 600
        bytes.replaceSubrange(cut..<(cut + 400), with: Data(repeating: 0xFF, count: 400))
        let broken = folder.appendingPathComponent("broken.dcm")
        try bytes.write(to: broken)
        let scan = DicomReader.scan(files: [broken.path])
        if let series = scan.series.first {
            XCTAssertThrowsError(try DicomReader.readVolume(series)) { error in
                XCTAssertTrue("\(error)".hasPrefix(broken.path + ": error: "), "\(error)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        } else {
            XCTAssertTrue(scan.skipped.first?.description.hasPrefix(broken.path + ": error: ") ?? false, "\(scan.skipped)")
        }
    }
}
