import Foundation
import XCTest
@testable import VolumeIO

/// Siemens mosaics and multi-volume series on real files (Fixtures/dicom/mosaic, see SOURCES.md), against nibabel's
/// independent computation (Tools/dcm2niix_check/make_mosaic_expectations.py) and dcm2niix's dimensions
/// (docs/dicom-corpus.md).
final class DicomMosaicTests: XCTestCase {
    struct Expected: Decodable {
        var tile_columns: Int
        var tile_rows: Int
        var slices: Int
        var positions_lps: [[Double]]
        var slice_sums: [Double]?
        var b_value: Double?
    }

    static let folder = DicomFixtures.root.appendingPathComponent("mosaic")
    static let expected: [String: Expected] = {
        let data = try! Data(contentsOf: folder.appendingPathComponent("expected-nibabel.json"))
        let all = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        return Dictionary(uniqueKeysWithValues: all.filter { $0.key.hasSuffix(".dcm.gz") }.map { entry in
            (entry.key, try! JSONDecoder().decode(Expected.self, from: JSONSerialization.data(withJSONObject: entry.value)))
        })
    }()

    /// The named fixtures gunzipped into a fresh folder (the reader, like dcm2niix, does not read .dcm.gz).
    func unpacked(_ names: [String]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-mosaic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        for name in names {
            let gzip = Process()
            gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            gzip.arguments = ["gzip", "-dc", Self.folder.appendingPathComponent(name).path]
            let output = folder.appendingPathComponent(String(name.dropLast(3)))
            FileManager.default.createFile(atPath: output.path, contents: nil)
            gzip.standardOutput = try FileHandle(forWritingTo: output)
            try gzip.run()
            gzip.waitUntilExit()
            XCTAssertEqual(gzip.terminationStatus, 0, "gzip -dc \(name)")
        }
        return folder
    }

    /// Shape, every slice position and every slice's contents as nibabel's MosaicWrapper unpacks them.
    func assertMatchesNibabel(_ series: DicomSeries, _ volume: Volume<Float>?, _ name: String,
                              file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try XCTUnwrap(Self.expected[name])
        XCTAssertEqual(series.shape, [expected.tile_columns, expected.tile_rows, expected.slices], name, file: file, line: line)
        XCTAssertEqual(series.reference.imagePositions.count, expected.positions_lps.count, file: file, line: line)
        for (ours, theirs) in zip(series.reference.imagePositions, expected.positions_lps) {
            // 1e-3 mm: we normalise the direction cosines (stored to 6 decimals), nibabel uses them as stored, and
            // the tile correction spans hundreds of mm.
            for axis in 0..<3 { XCTAssertEqual(ours[axis], theirs[axis], accuracy: 1e-3, name, file: file, line: line) }
        }
        if let sums = expected.slice_sums, let volume {
            let n = expected.tile_columns * expected.tile_rows
            let ours = (0..<expected.slices).map { k in volume.voxels[k * n ..< (k + 1) * n].reduce(0.0) { $0 + Double($1) } }
            XCTAssertEqual(ours, sums, "\(name): each tile lands in its slice", file: file, line: line)
        }
    }

    func testMosaicUnpacksToSlicesAtTheirTruePositions() throws {
        let folder = try unpacked(["axasc35.dcm.gz"])
        let scan = DicomReader.scan(folder)
        XCTAssertEqual(scan.skipped, [])
        let series = try XCTUnwrap(scan.series.first)
        XCTAssertEqual(scan.series.count, 1)
        XCTAssertEqual(series.shape, [64, 64, 35], "dcm2niix: 64x64x35")
        XCTAssertEqual(series.warnings, [])
        XCTAssertEqual(series.reference.sliceSpacing, 3.6, accuracy: 1e-6)
        let volume = try DicomReader.readVolume(series)
        try assertMatchesNibabel(series, volume, "axasc35.dcm.gz")

        // A SEG has one frame per source slice; a mosaic frame holds them all, so it is refused, not mis-referenced.
        let labels = volume.withVoxels([Int32](repeating: 1, count: volume.count))
        let destination = folder.appendingPathComponent("seg.dcm")
        XCTAssertThrowsError(try DicomSegWriter.write(labels, segments: [DicomSegSegment(value: 1, label: "brain")], to: destination)) { error in
            XCTAssertEqual((error as? DicomError)?.reason, "the source series is a Siemens mosaic, whose frames each "
                           + "hold a whole volume: a DICOM SEG cannot reference its slices")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: destination.path))
    }

    func testDiffusionMosaicsSplitIntoOneVolumePerBValueInAcquisitionOrder() throws {
        // Give the files in the opposite order: the volume order must come from the keys, not the listing.
        let folder = try unpacked(["siemens_dwi_1000.dcm.gz", "siemens_dwi_0.dcm.gz"])
        let scan = DicomReader.scan(files: ["siemens_dwi_1000.dcm", "siemens_dwi_0.dcm"].map { folder.appendingPathComponent($0).path })
        XCTAssertEqual(scan.series.count, 2, "dcm2niix: 128x128x48x2")
        XCTAssertEqual(scan.series.map(\.volume.index), [0, 1])
        XCTAssertEqual(scan.series.map(\.volume.count), [2, 2])
        XCTAssertEqual(scan.series.map(\.volume.splitBy), [["acquisition number"], ["acquisition number"]])
        XCTAssertEqual(scan.series.map(\.volume.keys.acquisitionNumber), [1, 2])
        XCTAssertEqual(scan.series.map(\.volume.keys.bValue), [0, 1000])
        XCTAssertEqual(scan.series.map { URL(fileURLWithPath: $0.reference.files[0]).lastPathComponent },
                       ["siemens_dwi_0.dcm", "siemens_dwi_1000.dcm"])
        XCTAssertEqual(scan.series[1].label, "MR series 12 'CBU_DTI_64D_1A' volume 2/2 (acquisition 2, b=1000, echo 1) "
                       + "(1.3.12.2.1107.5.2.32.35119.2010011420292594820699190.0.0.0)")
        for (series, name) in zip(scan.series, ["siemens_dwi_0.dcm.gz", "siemens_dwi_1000.dcm.gz"]) {
            XCTAssertEqual(series.warnings, [], "no slice is a duplicate once the volumes are split")
            XCTAssertEqual(series.leftOutFiles, [])
            XCTAssertEqual(series.volume.keys.bValue, Self.expected[name]?.b_value)
            try assertMatchesNibabel(series, nil, name)
        }
    }

    /// nibabel's 1.dcm is its 0.dcm with ImagePositionPatient moved 3 mm and nothing else changed: no key tells the
    /// two apart, so each mosaic file is a volume of its own (a mosaic holds a whole volume), in InstanceNumber
    /// order, each at the position its file states. dcm2niix gives both volumes the first one's geometry
    /// (docs/dicom-corpus.md); we keep every slice where its file puts it.
    func testMosaicsWithoutAnyDistinguishingKeyAreVolumesPerFileAtTheirOwnPositions() throws {
        let folder = try unpacked(["nicom_1.dcm.gz", "nicom_0.dcm.gz"])
        let scan = DicomReader.scan(folder)
        XCTAssertEqual(scan.series.count, 2)
        XCTAssertEqual(scan.series.map(\.volume.splitBy), [["mosaic file"], ["mosaic file"]])
        XCTAssertEqual(scan.series.map { URL(fileURLWithPath: $0.reference.files[0]).lastPathComponent },
                       ["nicom_0.dcm", "nicom_1.dcm"])
        try assertMatchesNibabel(scan.series[0], nil, "nicom_0.dcm.gz")
        try assertMatchesNibabel(scan.series[1], nil, "nicom_1.dcm.gz")
        let shift = (0..<3).map { scan.series[1].affine.apply([0, 0, 0])[$0] - scan.series[0].affine.apply([0, 0, 0])[$0] }
        XCTAssertEqual(DicomGeometry.norm(shift), 3, accuracy: 1e-3, "volume 2 keeps its own 3 mm higher position")
    }

    func testTiledImagesThatCannotBeUnpackedAreRefusedWithTheReason() throws {
        let ge = DicomReader.scan(files: [Self.folder.appendingPathComponent("ge-mosaic.dcm").path])
        XCTAssertEqual(ge.series.count, 0)
        XCTAssertEqual(ge.skipped.map(\.kind), [.unsupported])
        XCTAssertEqual(ge.skipped.first?.reason, "a tiled (ImageType MOSAIC) image from 'GE MEDICAL SYSTEMS': only "
                       + "Siemens mosaics can be unpacked into slices")
        let noCount = DicomReader.scan(files: [Self.folder.appendingPathComponent("siemens-mosaic-no-count.dcm").path])
        XCTAssertEqual(noCount.series.count, 0)
        XCTAssertEqual(noCount.skipped.first?.reason, "a Siemens mosaic without NumberOfImagesInMosaic (neither the CSA "
                       + "image header (0029,1010) nor (0019,100A) states it): the tiles cannot be unpacked")
    }

    func testCSAHeaderParsesAsNibabelReadsIt() throws {
        let bytes = [UInt8](try Data(contentsOf: Self.folder.appendingPathComponent("csa2_b1000.bin")))
        let csa = try SiemensCSAHeader(bytes)
        let data = try Data(contentsOf: Self.folder.appendingPathComponent("expected-nibabel.json"))
        let all = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let expected = try XCTUnwrap(all["csa2_b1000.bin"] as? [String: Any])
        XCTAssertEqual(csa.elements.count, expected["n_tags"] as? Int)
        XCTAssertEqual(csa.number("B_value"), expected["B_value"] as? Double)
        XCTAssertEqual(csa.number("NumberOfImagesInMosaic"), expected["NumberOfImagesInMosaic"] as? Double)
        XCTAssertEqual(csa.vector("SliceNormalVector", count: 3), expected["SliceNormalVector"] as? [Double])
        XCTAssertEqual(csa.vector("DiffusionGradientDirection", count: 3), expected["DiffusionGradientDirection"] as? [Double])
        XCTAssertEqual(csa.elements["ImagePositionPatient"]?.count, expected["ImagePositionPatient_items"] as? Int)
        // Every truncation is an error, never a trap or a read past the end.
        for length in stride(from: 0, to: bytes.count - 1, by: 97) {
            XCTAssertThrowsError(try SiemensCSAHeader(Array(bytes.prefix(length))), "\(length) bytes")
        }
    }
}
