import Foundation
import XCTest
@testable import VolumeIO

final class NiftiWriterTests: XCTestCase {
    /// read → write → read gives identical voxels and identical header geometry, for every readable fixture.
    func testImageRoundTripKeepsVoxelsAndHeaderGeometry() throws {
        let folder = try Fixtures.temporaryFolder(self)
        for (name, expected) in Fixtures.expected.sorted(by: { $0.key < $1.key }) {
            let index = expected.volumes > 1 ? expected.sample_volume : nil
            let image = try NiftiReader.readImage(Fixtures.url(name), volumeIndex: index)
            for ext in [".nii", ".nii.gz"] {
                let out = folder.appendingPathComponent("rt-\(name.replacingOccurrences(of: ".", with: "_"))\(ext)")
                try NiftiWriter.write(image, to: out)
                let back = try NiftiReader.readImage(out)
                XCTAssertEqual(back.shape, image.shape, name)
                XCTAssertEqual(back.voxels, image.voxels, "\(name)\(ext) voxels")
                XCTAssertEqual(back.affine, image.affine, "\(name)\(ext) affine")
                guard case .nifti(let a)? = image.source, case .nifti(let b)? = back.source else { return XCTFail(name) }
                assertSameGeometryFields(a, b, "\(name)\(ext)")
                XCTAssertEqual(try NiftiReader.readHeader(out).datatype, .float32)
            }
        }
    }

    /// `--out SEG.NII.GZ` is gzip-compressed like `.nii.gz`, and `.NII` is not.
    func testUpperCaseExtensionsAreWrittenLikeLowerCase() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let labels = try NiftiReader.readLabels(Fixtures.url("breast1_label.nii.gz"))
        for (name, gzip) in [("SEG.NII.GZ", true), ("SEG.NII", false)] {
            let out = folder.appendingPathComponent(name)
            try NiftiWriter.write(labels, to: out)
            XCTAssertEqual(try Data(contentsOf: out).prefix(2) == Data([0x1F, 0x8B]), gzip, name)
            XCTAssertEqual(try NiftiReader.readLabels(out).voxels, labels.voxels, name)
        }
    }

    func testLabelWriterReproducesSourceGeometryExactly() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let source = Fixtures.url("breast1_label.nii.gz")
        let labels = try NiftiReader.readLabels(source)
        let out = folder.appendingPathComponent("mask.nii.gz")
        try NiftiWriter.write(labels, to: out)
        let info = try NiftiReader.readHeader(out)
        let expected = Fixtures.expected["breast1_label.nii.gz"]!
        XCTAssertEqual(info.datatype, .uint8)
        XCTAssertEqual(Int(info.qformCode), expected.qform_code)
        XCTAssertEqual(Int(info.sformCode), expected.sform_code)
        XCTAssertEqual(info.spatial.sform, expected.srow)
        XCTAssertEqual([info.spatial.quaternB, info.spatial.quaternC, info.spatial.quaternD,
                        info.spatial.qoffsetX, info.spatial.qoffsetY, info.spatial.qoffsetZ], expected.quatern)
        XCTAssertEqual(info.spatial.pixdim[0...3], expected.pixdim[0...3])
        XCTAssertEqual(info.spatial.xyztUnits, 2, "mm, as the source")
        XCTAssertEqual(info.affine.values, expected.affine.flatMap { $0 })
        XCTAssertEqual(try NiftiReader.readLabels(out).voxels, labels.voxels)
    }

    func testLabelMaskOfAFourDimensionalSourceIsThreeDimensional() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let image = try NiftiReader.readImage(Fixtures.url("fourd_3vols.nii.gz"), volumeIndex: 1)
        let mask = image.withVoxels(image.voxels.map { $0 > 1500 ? Int32(1) : 0 })
        let out = folder.appendingPathComponent("mask.nii")
        try NiftiWriter.write(mask, to: out)
        let info = try NiftiReader.readHeader(out)
        XCTAssertEqual(info.volumeCount, 1)
        XCTAssertEqual(info.spatial.dim, [3, 6, 7, 5, 1, 1, 1, 1])
        XCTAssertEqual(info.affine, image.affine)
        guard case .nifti(let a)? = image.source else { return XCTFail() }
        assertSameGeometryFields(a, info.spatial, "4D source")
    }

    func testLabelDatatypeIsTheSmallestThatFits() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let base = try NiftiReader.readLabels(Fixtures.url("dtype_uint8.nii"))
        for (extra, type) in [(Int32(255), NiftiDatatype.uint8), (300, .int16), (-5, .int16), (70_000, .int32), (-70_000, .int32)] {
            var labels = base
            labels.voxels[3] = extra
            let out = folder.appendingPathComponent("labels\(extra).nii.gz")
            try NiftiWriter.write(labels, to: out)
            XCTAssertEqual(try NiftiReader.readHeader(out).datatype, type, "\(extra)")
            XCTAssertEqual(try NiftiReader.readLabels(out).voxels, labels.voxels)
        }
    }

    /// A volume with no NIfTI source (as from DICOM): sform = qform = affine, codes 1, mm.
    func testVolumeWithoutNiftiSourceGetsScannerTransforms() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let rotation = Affine(rows: [[0.8, -0.6, 0, 0], [0.6, 0.8, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
        for handedness in [1.0, -1.0] {
            let scale = Affine(rows: [[0.7, 0, 0, 0], [0, 0.9, 0, 0], [0, 0, 2.5 * handedness, 0], [0, 0, 0, 1]])
            var affine = rotation * scale
            affine[0, 3] = -123.4567891; affine[1, 3] = 45.678; affine[2, 3] = 301.25
            let volume = Volume(shape: [5, 4, 3], affine: affine, voxels: (0..<60).map { Float($0) / 7 })
            let out = folder.appendingPathComponent("dicomlike\(handedness).nii.gz")
            try NiftiWriter.write(volume, to: out)
            let info = try NiftiReader.readHeader(out)
            XCTAssertEqual(info.qformCode, 1); XCTAssertEqual(info.sformCode, 1)
            XCTAssertEqual(info.spatial.xyztUnits & 0x07, 2, "mm")
            assertClose(info.affine.values, affine.values, 1e-5, "sform (float32)")
            assertClose(info.spatial.qformAffine.values, affine.values, 1e-5, "qform (float32)")
            XCTAssertEqual(info.spatial.pixdim[0], handedness, "qfac")
            XCTAssertEqual(try NiftiReader.readImage(out).voxels, volume.voxels)
        }
    }

    func testNonFiniteFloatsSurviveARoundTrip() throws {
        let folder = try Fixtures.temporaryFolder(self)
        var image = try NiftiReader.readImage(Fixtures.url("dtype_float32.nii"))
        image.voxels[0] = .nan; image.voxels[1] = .infinity; image.voxels[2] = -.infinity; image.voxels[3] = -0.0
        let out = folder.appendingPathComponent("nan.nii.gz")
        try NiftiWriter.write(image, to: out)
        let back = try NiftiReader.readImage(out).voxels
        XCTAssertEqual(back.map(\.bitPattern), image.voxels.map(\.bitPattern))
    }

    func testWriteFailuresNameTheDestinationAndLeaveNoFiles() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let volume = try NiftiReader.readLabels(Fixtures.url("dtype_uint8.nii"))
        let bad = folder.appendingPathComponent("mask.nrrd")
        XCTAssertThrowsError(try NiftiWriter.write(volume, to: bad)) { error in
            XCTAssertEqual(error as? VolumeIOError, .unsupportedExtension(path: bad.path, expected: ".nii or .nii.gz"))
        }
        // A destination inside a regular file cannot be created.
        let blocker = folder.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        let impossible = blocker.appendingPathComponent("mask.nii.gz")
        XCTAssertThrowsError(try NiftiWriter.write(volume, to: impossible)) { error in
            XCTAssertTrue("\(error)".hasPrefix(impossible.path + ": error: write failed"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["file"])
    }

    func testOverwriteReplacesAtomically() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let out = folder.appendingPathComponent("mask.nii.gz")
        let volume = try NiftiReader.readLabels(Fixtures.url("dtype_uint8.nii"))
        try NiftiWriter.write(volume, to: out)
        var changed = volume
        changed.voxels = volume.voxels.map { $0 + 1 }
        try NiftiWriter.write(changed, to: out)
        XCTAssertEqual(try NiftiReader.readLabels(out).voxels, changed.voxels)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["mask.nii.gz"])
    }

    /// The geometry fields libnifti writes: codes, pixdim[1...3], and each transform whose code is set.
    private func assertSameGeometryFields(_ a: NiftiSpatialHeader, _ b: NiftiSpatialHeader, _ what: String,
                                          file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.version, b.version, what, file: file, line: line)
        XCTAssertEqual(a.qformCode, b.qformCode, what, file: file, line: line)
        XCTAssertEqual(a.sformCode, b.sformCode, what, file: file, line: line)
        XCTAssertEqual(Array(a.dim[1...3]), Array(b.dim[1...3]), what, file: file, line: line)
        XCTAssertEqual(Array(a.pixdim[1...3]), Array(b.pixdim[1...3]), what, file: file, line: line)
        XCTAssertEqual(a.xyztUnits, b.xyztUnits, what, file: file, line: line)
        if a.qformCode > 0 {
            XCTAssertEqual([a.quaternB, a.quaternC, a.quaternD, a.qoffsetX, a.qoffsetY, a.qoffsetZ],
                           [b.quaternB, b.quaternC, b.quaternD, b.qoffsetX, b.qoffsetY, b.qoffsetZ], what, file: file, line: line)
            XCTAssertEqual(a.pixdim[0] < 0, b.pixdim[0] < 0, "\(what) qfac", file: file, line: line)
        }
        if a.sformCode > 0 { XCTAssertEqual(a.sform, b.sform, what, file: file, line: line) }
        XCTAssertEqual(a.worldTransform().affine, b.worldTransform().affine, what, file: file, line: line)
    }
}
