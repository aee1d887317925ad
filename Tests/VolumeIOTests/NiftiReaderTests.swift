import Foundation
import XCTest
@testable import VolumeIO

/// Geometry and voxels of every readable fixture against nibabel's numbers (expected.json).
final class NiftiReaderTests: XCTestCase {
    func testEveryFixtureMatchesNibabelGeometry() throws {
        XCTAssertGreaterThanOrEqual(Fixtures.expected.count, 30, "expected.json lists the readable fixtures")
        for (name, expected) in Fixtures.expected.sorted(by: { $0.key < $1.key }) {
            let info = try NiftiReader.readHeader(Fixtures.url(name))
            XCTAssertEqual(info.version, expected.version, name)
            XCTAssertEqual(info.shape, expected.shape, name)
            XCTAssertEqual(info.volumeCount, expected.volumes, name)
            XCTAssertEqual(info.datatype.rawValue, expected.datatype, name)
            XCTAssertEqual(info.transformSource.rawValue, expected.transform, name)
            XCTAssertEqual(info.orientation, expected.axcodes, name)
            assertClose(info.affine.values, expected.affine.flatMap { $0 }, 1e-9, "\(name) affine")
            for corner in expected.corners {
                assertClose(info.affine.apply(corner.ijk.map(Double.init)), corner.xyz, 1e-4, "\(name) corner \(corner.ijk)")
            }
            XCTAssertEqual(Int(info.qformCode), expected.qform_code, name)
            XCTAssertEqual(Int(info.sformCode), expected.sform_code, name)
            let s = info.spatial
            assertClose(Array(s.pixdim[1...3]), Array(expected.pixdim[1...3]), 0, "\(name) pixdim")
            if expected.qform_code > 0 {
                assertClose([s.quaternB, s.quaternC, s.quaternD, s.qoffsetX, s.qoffsetY, s.qoffsetZ], expected.quatern, 0, "\(name) quatern")
                XCTAssertEqual(s.pixdim[0] < 0, expected.pixdim[0] < 0, "\(name) qfac")
            }
            if expected.sform_code > 0 { assertClose(s.sform, expected.srow, 0, "\(name) srow") }
            if let scaling = expected.scaling {
                XCTAssertEqual(info.scaling?.slope, scaling[0], name)
                XCTAssertEqual(info.scaling?.intercept, scaling[1], name)
            } else {
                XCTAssertNil(info.scaling, name)
            }
        }
    }

    func testEveryFixtureMatchesNibabelVoxels() throws {
        for (name, expected) in Fixtures.expected.sorted(by: { $0.key < $1.key }) {
            let index = expected.volumes > 1 ? expected.sample_volume : nil
            let image = try NiftiReader.readImage(Fixtures.url(name), volumeIndex: index)
            image.checkInvariants()
            XCTAssertEqual(image.shape, expected.shape, name)
            assertClose(image.affine.values, expected.affine.flatMap { $0 }, 1e-9, "\(name) affine")
            for sample in expected.samples {
                let value = Double(image[sample.ijk[0], sample.ijk[1], sample.ijk[2]])
                XCTAssertEqual(value, Double(Float(sample.value)), accuracy: 0, "\(name) voxel \(sample.ijk)")
            }
            let sum = image.voxels.reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual(sum, expected.sum, accuracy: 1e-6 * max(1, abs(expected.sum)), "\(name) sum")
            XCTAssertEqual(image.voxels.filter { $0 != 0 }.count, expected.nonzero, "\(name) nonzero")
            guard case .nifti(let header)? = image.source else { return XCTFail("\(name): no NIfTI source") }
            XCTAssertEqual(header.worldTransform().affine, image.affine, name)
        }
    }

    func testIntegerFixturesReadAsLabelsExactly() throws {
        let integerTypes: Set<Int> = [2, 4, 8, 256, 512, 768, 1024, 1280]
        var checked = 0
        for (name, expected) in Fixtures.expected where integerTypes.contains(expected.datatype) && expected.scaling == nil {
            let index = expected.volumes > 1 ? expected.sample_volume : nil
            guard name != "label_too_big_uint32.nii" else { continue }
            let labels = try NiftiReader.readLabels(Fixtures.url(name), volumeIndex: index)
            for sample in expected.samples {
                XCTAssertEqual(labels[sample.ijk[0], sample.ijk[1], sample.ijk[2]], Int32(sample.value), "\(name) \(sample.ijk)")
            }
            XCTAssertEqual(labels.voxels.filter { $0 != 0 }.count, expected.nonzero, name)
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 12)
        let breast = try NiftiReader.readLabels(Fixtures.url("breast1_label.nii.gz"))
        XCTAssertEqual(Set(breast.voxels), [0, 1])
        XCTAssertEqual(breast.voxels.filter { $0 == 1 }.count, 143, "pyradiomics README: 143 lesion voxels")
    }

    func testEachDatatypeDecodes() throws {
        let unsigned: [Float] = [0, 1, 2, 3, 100, 127, 5, 9, 17, 33, 64, 120]
        for name in ["uint8", "int8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"] {
            let image = try NiftiReader.readImage(Fixtures.url("dtype_\(name).nii"))
            XCTAssertEqual(image.shape, [2, 3, 2])
            // The script stores values[i, j, k] with i fastest; signed types negate every third C-order element.
            for i in 0..<2 { for j in 0..<3 { for k in 0..<2 {
                let c = i * 6 + j * 2 + k
                let sign: Float = name.hasPrefix("u") || c % 3 != 0 ? 1 : -1
                XCTAssertEqual(image[i, j, k], unsigned[c] * sign, "\(name) (\(i),\(j),\(k))")
            } } }
        }
    }

    func testScalingFollowsNibabel() throws {
        let raw = try NiftiReader.readImage(Fixtures.url("scaled_slope0.nii"))   // slope 0 means "no scaling"
        let scaled = try NiftiReader.readImage(Fixtures.url("scaled_int16.nii")) // slope 0.5, intercept -10
        XCTAssertEqual(raw.shape, scaled.shape)
        for n in 0..<raw.count { XCTAssertEqual(scaled.voxels[n], raw.voxels[n] * 0.5 - 10) }
        XCTAssertNil(try NiftiReader.readHeader(Fixtures.url("scaled_slope0.nii")).scaling)
    }

    func testFourDimensionalFilesNeedAVolumeIndex() throws {
        let url = Fixtures.url("fourd_3vols.nii.gz")
        XCTAssertThrowsError(try NiftiReader.readImage(url)) { error in
            XCTAssertEqual(error as? VolumeIOError, .volumeIndexRequired(path: url.path, volumes: 3))
            XCTAssertTrue("\(error)".hasPrefix(url.path + ": error: 4D file with 3 volumes"), "\(error)")
        }
        XCTAssertThrowsError(try NiftiReader.readLabels(url, volumeIndex: 3)) { error in
            XCTAssertEqual(error as? VolumeIOError, .volumeIndexOutOfRange(path: url.path, index: 3, volumes: 3))
        }
        let v0 = try NiftiReader.readImage(url, volumeIndex: 0)
        let v2 = try NiftiReader.readImage(url, volumeIndex: 2)
        XCTAssertEqual(v0.shape, [6, 7, 5])
        for n in 0..<v0.count { XCTAssertEqual(v2.voxels[n], v0.voxels[n] + 2000) }
        // A 4th axis of length 1 is a plain 3D volume.
        let single = try NiftiReader.readImage(Fixtures.url("fourd_1vol.nii"))
        XCTAssertEqual(single.shape, [6, 7, 5])
        XCTAssertEqual(single.voxels, v0.voxels)
    }

    func testBadInputsThrowOneLineNamingTheFile() throws {
        func expectError(_ name: String, _ check: (VolumeIOError) -> Bool, file: StaticString = #filePath, line: UInt = #line) {
            let url = Fixtures.url(name)
            for read in [{ _ = try NiftiReader.readImage(url) }, { _ = try NiftiReader.readLabels(url) }] {
                XCTAssertThrowsError(try read(), name, file: file, line: line) { error in
                    guard let error = error as? VolumeIOError else { return XCTFail("\(name): \(error)", file: file, line: line) }
                    XCTAssertTrue(check(error), "\(name): unexpected \(error)", file: file, line: line)
                    let text = error.description
                    XCTAssertTrue(text.hasPrefix(url.path + ": error: "), text, file: file, line: line)
                    XCTAssertFalse(text.contains("\n"), text, file: file, line: line)
                }
            }
        }
        expectError("bad_truncated.nii.gz") { if case .truncatedData = $0 { return true }; return false }
        expectError("bad_truncated_uncompressed.nii") { if case .truncatedData = $0 { return true }; return false }
        expectError("bad_huge_claim.nii.gz") { if case .truncatedData(_, 1_000_000_352, _) = $0 { return true }; return false }
        expectError("bad_wrong_magic.nii") { if case .badMagic = $0 { return true }; return false }
        expectError("bad_not_nifti.nii") { if case .unreadableHeader = $0 { return true }; return false }
        expectError("bad_dims_overflow.nii") { if case .invalidDimensions = $0 { return true }; return false }
        expectError("bad_dim_zero.nii") { if case .invalidDimensions = $0 { return true }; return false }
        expectError("bad_too_large.nii") { if case .tooLarge = $0 { return true }; return false }
        expectError("bad_unsupported_rgb24.nii") { $0 == .unsupportedDatatype(path: Fixtures.url("bad_unsupported_rgb24.nii").path, code: 128, name: "RGB24") }
        expectError("bad_unsupported_complex64.nii") { if case .unsupportedDatatype(_, 32, "COMPLEX64") = $0 { return true }; return false }
        expectError("bad_directory.nii") { if case .notARegularFile = $0 { return true }; return false }
        expectError("does_not_exist.nii.gz") { if case .fileNotFound = $0 { return true }; return false }
        expectError("SOURCES.md") { if case .unsupportedExtension = $0 { return true }; return false }
    }

    /// Exports from Windows tools often name files T1.NII.GZ; libnifti reads those, and so do we (the gzip test
    /// too: an upper-case .GZ read as raw bytes would fail the size check or decode garbage).
    func testUpperCaseExtensionsReadLikeLowerCase() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("upper-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (source, copy) in [("phantom_lia.nii.gz", "PHANTOM.NII.GZ"), ("dtype_int16.nii", "INT16.NII")] {
            let upper = folder.appendingPathComponent(copy)
            try FileManager.default.copyItem(at: Fixtures.url(source), to: upper)
            let expected = try NiftiReader.readImage(Fixtures.url(source))
            let read = try NiftiReader.readImage(upper)
            XCTAssertEqual(read.shape, expected.shape, copy)
            XCTAssertEqual(read.affine, expected.affine, copy)
            XCTAssertEqual(read.voxels, expected.voxels, copy)
        }
    }

    func testLabelsThatAreNotIntegersFail() throws {
        for name in ["label_too_big_uint32.nii", "label_fraction_float32.nii"] {
            XCTAssertThrowsError(try NiftiReader.readLabels(Fixtures.url(name)), name) { error in
                guard case .notALabelMap(let path, let reason)? = error as? VolumeIOError else { return XCTFail("\(error)") }
                XCTAssertEqual(path, Fixtures.url(name).path)
                XCTAssertTrue(reason.contains("at voxel ("), reason)
            }
            XCTAssertNoThrow(try NiftiReader.readImage(Fixtures.url(name)), "the same file is a valid image")
        }
    }

    func testPixdimFallbackIsNibabelsBaseAffine() throws {
        // Both codes 0: nibabel's get_base_affine, i.e. x flipped and the volume centre at the origin.
        let info = try NiftiReader.readHeader(Fixtures.url("no_transform.nii"))
        XCTAssertEqual(info.transformSource, .pixdim)
        XCTAssertEqual(info.orientation, "LAS")
        let centre = info.affine.apply([2.5, 3, 2])   // ((6, 7, 5) - 1) / 2
        assertClose(centre, [0, 0, 0], 1e-12, "centre")
    }
}
