import Foundation
import XCTest
@testable import VolumeIO

/// NRRD, MetaImage and MGH readers against numbers from independent readers (SimpleITK, nibabel; see
/// Tools/format_fixtures/make_format_fixtures.py), round trips of the writers, and broken files.
final class FormatReaderTests: XCTestCase {
    static let folder = DicomFixtures.repository.appendingPathComponent("Tests/VolumeIOTests/Fixtures/formats")

    struct Expected: Decodable {
        var reader: String
        var shape: [Int]
        var affine: [[Double]]
        var corners: [Fixtures.Corner]
        var samples: [Fixtures.Sample]
        var segments: [String: Int]?
    }

    static let expected: [String: Expected] = {
        let data = try! Data(contentsOf: folder.appendingPathComponent("expected.json"))
        return try! JSONDecoder().decode([String: Expected].self, from: data)
    }()

    func url(_ name: String) -> URL { Self.folder.appendingPathComponent(name) }

    func testEveryFixtureMatchesTheIndependentReader() throws {
        XCTAssertEqual(Self.expected.count, 16)
        for (name, expected) in Self.expected.sorted(by: { $0.key < $1.key }) {
            let header = try VolumeFile.readHeader(url(name))
            let image = try VolumeFile.readImage(url(name))
            XCTAssertEqual(header.shape, expected.shape, name)
            XCTAssertEqual(image.shape, expected.shape, name)
            XCTAssertEqual(image.affine, header.affine, name)
            // float32 header fields (MGH) reach ~1e-6 mm; text fields read exactly.
            assertClose(image.affine.values, expected.affine.flatMap { $0 }, 1e-5, "\(name) affine (\(expected.reader))")
            for corner in expected.corners {
                assertClose(image.affine.apply(corner.ijk.map(Double.init)), corner.xyz, 1e-5, "\(name) corner \(corner.ijk)")
            }
            for sample in expected.samples {
                XCTAssertEqual(Double(image[sample.ijk[0], sample.ijk[1], sample.ijk[2]]), sample.value, accuracy: 1e-6,
                               "\(name) voxel \(sample.ijk)")
            }
            image.checkInvariants()
        }
    }

    func testIntegerFixturesReadAsLabelsExactly() throws {
        for name in ["nrrd/slicer_labels.seg.nrrd", "nrrd/las_detached.nhdr", "metaimage/labels_uchar.mha",
                     "metaimage/big_endian.mhd", "mgh/labels_int.mgz", "mgh/lia_short.mgh"] {
            let labels = try VolumeFile.readLabels(url(name))
            for sample in Self.expected[name]!.samples {
                XCTAssertEqual(labels[sample.ijk[0], sample.ijk[1], sample.ijk[2]], Int32(sample.value), "\(name) \(sample.ijk)")
            }
        }
        // Values like 122.25 are not labels: one line naming the file and the voxel.
        XCTAssertThrowsError(try VolumeFile.readLabels(url("nrrd/ras_raw_float_be.nrrd"))) { error in
            XCTAssertTrue("\(error)".contains("ras_raw_float_be.nrrd: error: not a label map: value 0.25 at voxel (0, 0, 0)"), "\(error)")
        }
    }

    func testSlicerSegmentKeysAreRead() throws {
        let header = try NrrdReader.readHeader(url("nrrd/slicer_labels.seg.nrrd"))
        let expected = Self.expected["nrrd/slicer_labels.seg.nrrd"]!.segments!
        XCTAssertEqual(header.keyValues["Segment0_Name"], "liver")
        XCTAssertEqual(expected["liver"], Int(header.keyValues["Segment0_LabelValue"]!))
        XCTAssertEqual(expected["spleen"], Int(header.keyValues["Segment1_LabelValue"]!))
    }

    func testHeadersSayWhatWasGuessed() throws {
        XCTAssertTrue(try VolumeFile.readHeader(url("nrrd/spacings_only.nrrd")).warnings.joined().contains("orientation is a guess"))
        XCTAssertTrue(try VolumeFile.readHeader(url("nrrd/scanner_xyz_skip.nhdr")).warnings.joined().contains("no anatomical meaning"))
        XCTAssertTrue(try VolumeFile.readHeader(url("mgh/goodras0_uchar.mgh")).warnings.joined().contains("goodRASFlag is 0"))
        XCTAssertEqual(try VolumeFile.readHeader(url("nrrd/las_detached.nhdr")).dataFiles.map { ($0 as NSString).lastPathComponent },
                       ["las_detached.raw.gz"])
        XCTAssertEqual(try VolumeFile.readHeader(url("mgh/lia_short.mgh")).affine.orientation, "LIA")
    }

    /// Broken files: each a one-line error naming the file and the reason, never a crash or a huge allocation.
    func testBadFilesGiveOneLineErrorsNamingTheFile() throws {
        let cases: [(String, String)] = [
            ("truncated.nrrd", "truncated voxel data"),
            ("truncated_gzip.nrrd", "truncated voxel data"),
            ("bad_header.nrrd", "bad NRRD header: no 'dimension' field"),
            ("absurd_dims.nrrd", "more than the limit"),
            ("bad_encoding.nrrd", "bad NRRD header: unsupported encoding 'bzip2'"),
            ("not_nrrd.nrrd", "bad NRRD header: the file does not start with NRRD"),
            ("truncated.mha", "truncated voxel data"),
            ("bad_header.mha", "bad MetaImage header: no DimSize"),
            ("absurd_dims.mha", "more than the limit"),
            ("bad_encoding.mha", "corrupt compressed data"),
            ("truncated.mgz", "truncated voxel data"),
            ("truncated_header.mgz", "bad MGH header: not a gzip-compressed MGH file (the compressed data ends early)"),
            ("bad_header.mgh", "bad MGH header: version 7, expected 1"),
            ("absurd_dims.mgh", "more than the limit"),
            ("bad_type.mgh", "bad MGH header: unsupported data type code 7"),
            ("not_gzip.mgz", "bad MGH header: not a gzip-compressed MGH file"),
        ]
        for (name, reason) in cases {
            let path = url("bad/" + name).path
            XCTAssertThrowsError(try VolumeFile.readImage(url("bad/" + name)), name) { error in
                let line = "\(error)"
                XCTAssertTrue(line.hasPrefix(path + ": error: "), line)
                XCTAssertTrue(line.contains(reason), "\(name): \(line)")
                XCTAssertFalse(line.contains("\n"), line)
            }
        }
        let folder = try Fixtures.temporaryFolder(self).appendingPathComponent("folder.nrrd")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        XCTAssertThrowsError(try VolumeFile.readImage(folder)) { XCTAssertTrue("\($0)".contains("not a regular file"), "\($0)") }
        XCTAssertThrowsError(try VolumeFile.readImage(url("nrrd/missing.nrrd"))) { XCTAssertTrue("\($0)".contains("no such file"), "\($0)") }
    }

    func testMissingDetachedDataIsNamed() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let header = folder.appendingPathComponent("alone.nhdr")
        try FileManager.default.copyItem(at: url("nrrd/las_detached.nhdr"), to: header)
        XCTAssertThrowsError(try NrrdReader.readImage(header)) { error in
            XCTAssertEqual("\(error)", "\(header.path): error: truncated voxel data: expected 120 bytes, data file las_detached.raw.gz is missing")
        }
    }

    // MARK: - Writers: exact round trips in the source's own geometry

    func testSegNrrdRoundTripKeepsTheSourceSpaceAndVoxels() throws {
        let folder = try Fixtures.temporaryFolder(self)
        for name in ["nrrd/ras_raw_float_be.nrrd", "nrrd/las_detached.nhdr", "nrrd/lps_gzip_sitk.nrrd"] {
            let image = try VolumeFile.readImage(url(name))
            let labels = image.withVoxels(image.voxels.map { Int32($0) % 3 })
            let out = folder.appendingPathComponent("out.seg.nrrd")
            try NrrdSegmentationWriter.write(labels, segments: [.init(value: 1, name: "liver", color: DisplayColor(255, 0, 0)),
                                                                .init(value: 2, name: "spleen", color: DisplayColor(0, 0, 255))], to: out)
            let back = try NrrdReader.readLabels(out)
            XCTAssertEqual(back.voxels, labels.voxels, name)
            XCTAssertEqual(back.affine, image.affine, name)
            let header = try NrrdReader.readHeader(out)
            guard case .nrrd(let source)? = image.source else { return XCTFail(name) }
            XCTAssertEqual(header.spatial, source, name)
            XCTAssertEqual(header.keyValues["Segment1_Name"], "spleen")
            XCTAssertEqual(header.keyValues["Segment1_LabelValue"], "2")
            XCTAssertEqual(header.keyValues["Segment0_Color"], "1 0 0")
            XCTAssertEqual(header.keyValues["Segmentation_MasterRepresentation"], "Binary labelmap")
        }
    }

    func testSegmentExtentIsTheBoundingBox() {
        var labels = Volume<Int32>(shape: [4, 3, 2], affine: .identity, voxels: [Int32](repeating: 0, count: 24))
        labels[1, 2, 0] = 5; labels[3, 1, 1] = 5
        let keys = NrrdSegmentationWriter.segmentKeys(labels, [.init(value: 5, name: "a", color: DisplayColor(0, 0, 0)),
                                                               .init(value: 6, name: "b", color: DisplayColor(0, 0, 0))])
        XCTAssertTrue(keys.contains("Segment0_Extent:=1 3 1 2 0 1\n"), keys)
        XCTAssertTrue(keys.contains("Segment1_Extent:=0 -1 0 -1 0 -1\n"), keys)
    }

    func testMetaImageRoundTripIsExact() throws {
        let folder = try Fixtures.temporaryFolder(self)
        for name in ["metaimage/oblique_compressed.mha", "metaimage/big_endian.mhd"] {
            let image = try VolumeFile.readImage(url(name))
            let labels = image.withVoxels(image.voxels.map { Int32($0) * 300 - 7000 })   // needs int16 or int32
            let out = folder.appendingPathComponent("out.mha")
            try MetaImageWriter.write(labels, to: out)
            let back = try MetaImageReader.readLabels(out)
            XCTAssertEqual(back.voxels, labels.voxels, name)
            XCTAssertEqual(back.affine, image.affine, name)
        }
    }

    func testMghRoundTripIsExact() throws {
        let folder = try Fixtures.temporaryFolder(self)
        for name in ["mgh/oblique_float.mgz", "mgh/lia_short.mgh", "mgh/nibabel_test.mgz"] {
            let image = try VolumeFile.readImage(url(name))
            let labels = image.withVoxels(image.voxels.map { Int32($0.rounded()) })
            for out in ["out.mgz", "out.mgh"].map(folder.appendingPathComponent) {
                try MghWriter.write(labels, to: out)
                let back = try MghReader.readLabels(out)
                XCTAssertEqual(back.voxels, labels.voxels, name)
                XCTAssertEqual(back.affine, image.affine, name)
            }
        }
    }

    /// A volume from another format gets the writer's own header, within the format's precision.
    func testWritersStateAForeignAffine() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let image = try VolumeFile.readImage(url("nrrd/ras_raw_float_be.nrrd"))
        var labels = image.withVoxels(image.voxels.map { Int32($0) % 2 })
        labels.source = nil
        let nrrd = folder.appendingPathComponent("a.seg.nrrd"), mha = folder.appendingPathComponent("a.mha"),
            mgz = folder.appendingPathComponent("a.mgz")
        try NrrdSegmentationWriter.write(labels, segments: [], to: nrrd)
        try MetaImageWriter.write(labels, to: mha)
        try MghWriter.write(labels, to: mgz)
        XCTAssertEqual(try NrrdReader.readLabels(nrrd).affine, labels.affine)
        XCTAssertEqual(try NrrdReader.readHeader(nrrd).spatial.space, .leftPosteriorSuperior)
        assertClose(try MetaImageReader.readLabels(mha).affine.values, labels.affine.values, 1e-12)
        assertClose(try MghReader.readLabels(mgz).affine.values, labels.affine.values, 1e-4)
        for file in [nrrd, mha, mgz] { XCTAssertEqual(try VolumeFile.readLabels(file).voxels, labels.voxels, file.lastPathComponent) }
    }

    func testWritersRefuseOtherExtensions() {
        let labels = Volume<Int32>(shape: [1, 1, 1], affine: .identity, voxels: [1])
        let bad = URL(fileURLWithPath: "/tmp/x.nii.gz")
        XCTAssertThrowsError(try NrrdSegmentationWriter.write(labels, segments: [], to: bad))
        XCTAssertThrowsError(try MetaImageWriter.write(labels, to: bad))
        XCTAssertThrowsError(try MghWriter.write(labels, to: bad))
    }

    func testNamesAndFormats() {
        XCTAssertEqual(VolumeFile.format(of: "a.SEG.NRRD"), .nrrd)
        XCTAssertEqual(VolumeFile.format(of: "brain.mgh.gz"), .mgh)
        XCTAssertEqual(VolumeFile.format(of: "x.mhd"), .metaImage)
        XCTAssertEqual(VolumeFile.format(of: "x.nii.gz"), .nifti)
        XCTAssertNil(VolumeFile.format(of: "x.raw"))
        XCTAssertEqual(VolumeFile.stem("T1.mgh.gz"), "T1")
        XCTAssertEqual(VolumeFile.stem("ct.NRRD"), "ct")
        XCTAssertTrue(VolumeFile.isSelfContained("a.mha"))
        XCTAssertFalse(VolumeFile.isSelfContained("a.nhdr"))
        XCTAssertFalse(VolumeFile.isSelfContained("a.mhd"))
    }
}

/// `inspect` lists NRRD, MetaImage and MGH volumes like the others; a detached header's data file is in its volume.
final class FormatInspectionTests: XCTestCase {
    func testFolderOfEveryFormatAccountsForEveryFile() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let source = FormatReaderTests.folder
        for name in ["nrrd/las_detached.nhdr", "nrrd/las_detached.raw.gz", "metaimage/oblique_compressed.mha",
                     "metaimage/oblique_raw.mhd", "metaimage/oblique_raw.raw", "mgh/oblique_float.mgz", "bad/truncated.nrrd"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name),
                                             to: folder.appendingPathComponent((name as NSString).lastPathComponent))
        }
        let report = InspectionReport.inspect(folder)
        let root = folder.path + "/"
        let formats = Dictionary(uniqueKeysWithValues: report.volumes.map { ($0.files[0].replacingOccurrences(of: root, with: ""), $0) })
        XCTAssertEqual(formats.mapValues(\.format), ["las_detached.nhdr": "NRRD", "oblique_compressed.mha": "MetaImage",
                                                     "oblique_raw.mhd": "MetaImage", "oblique_float.mgz": "MGH"])
        XCTAssertEqual(formats["las_detached.nhdr"]!.files.map { ($0 as NSString).lastPathComponent }, ["las_detached.nhdr", "las_detached.raw.gz"])
        XCTAssertEqual(formats["las_detached.nhdr"]!.description, "las_detached.nhdr (NRRD, ushort, gzip, space left-anterior-superior)")
        XCTAssertEqual(formats["oblique_float.mgz"]!.dims, [5, 4, 3])
        XCTAssertEqual(formats["oblique_float.mgz"]!.intensityMax, 234.25)
        XCTAssertEqual(report.skipped.map { $0.path.replacingOccurrences(of: root, with: "") }, ["truncated.nrrd"])
        XCTAssertTrue(report.skipped[0].reason.hasPrefix("truncated voxel data"), report.skipped[0].reason)
        let accounted = report.volumes.flatMap(\.files) + report.skipped.map(\.path)
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: folder.path).map { root + $0 }
        XCTAssertEqual(accounted.sorted(), onDisk.sorted())
        // The same corners the independent reader gave (bounds are the corners' extremes).
        let expected = FormatReaderTests.expected["mgh/oblique_float.mgz"]!.corners.map(\.xyz)
        assertClose(formats["oblique_float.mgz"]!.boundsMin, (0..<3).map { a in expected.map { $0[a] }.min()! }, 1e-5)
    }
}
