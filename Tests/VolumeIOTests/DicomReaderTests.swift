import Foundation
import XCTest
@testable import VolumeIO

/// The reader against pydicom's numbers (Tools/geometry_fixtures/make_dicom_fixtures.py) on real files.
final class DicomReaderTests: XCTestCase {
    /// Geometry within 1e-4 mm; values within float32 rounding.
    func testEveryFixtureCaseMatchesPydicom() throws {
        XCTAssertGreaterThanOrEqual(DicomFixtures.expected.count, 16)
        for (name, expected) in DicomFixtures.expected.sorted(by: { $0.key < $1.key }) {
            let scan = DicomReader.scan(files: expected.files.map(DicomFixtures.path))
            XCTAssertEqual(scan.skipped.map(\.description), [], name)
            XCTAssertEqual(scan.series.count, 1, name)
            guard let series = scan.series.first else { continue }
            XCTAssertEqual(series.shape, expected.shape, name)
            let order = zip(series.reference.files, series.reference.frames).map { [$0.0, "\($0.1)"] }
            let expectedOrder = expected.slice_order.map { entry -> [String] in
                entry.map { if case .path(let p) = $0 { DicomFixtures.path(p) } else if case .frame(let f) = $0 { "\(f)" } else { "" } }
            }
            XCTAssertEqual(order, expectedOrder, "\(name): slice order")
            for r in 0..<4 { for c in 0..<4 {
                XCTAssertEqual(series.affine[r, c], expected.affine_ras[r][c], accuracy: 1e-4, "\(name): affine[\(r),\(c)]")
            } }
            XCTAssertEqual(series.reference.sliceSpacing, expected.slice_spacing, accuracy: 1e-4, name)
            for (index, world) in zip(expected.corners_index, expected.corners_ras) {
                let p = series.affine.apply(index.map(Double.init))
                for a in 0..<3 { XCTAssertEqual(p[a], world[a], accuracy: 1e-4, "\(name): corner \(index)") }
            }
            let volume = try DicomReader.readVolume(series)
            volume.checkInvariants()
            XCTAssertEqual(volume.source, .dicom(series.reference))
            for sample in expected.samples {
                let v = Double(volume[sample.index[0], sample.index[1], sample.index[2]])
                XCTAssertEqual(v, sample.value, accuracy: max(1e-3, abs(sample.value) * 1e-6), "\(name): \(sample.index)")
            }
            XCTAssertEqual(Double(volume.voxels.min()!), expected.min, accuracy: max(1e-3, abs(expected.min) * 1e-6), name)
            XCTAssertEqual(Double(volume.voxels.max()!), expected.max, accuracy: max(1e-3, abs(expected.max) * 1e-6), name)
            let sum = volume.voxels.reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual(sum, expected.sum, accuracy: max(1e-3, abs(expected.sum) * 1e-6), "\(name): sum")
        }
    }

    func testShuffledFileNamesAreSortedByPositionNotName() throws {
        let scan = DicomReader.scan(DicomFixtures.root.appendingPathComponent("ct-series-shuffled"))
        let series = try XCTUnwrap(scan.series.first)
        XCTAssertEqual(series.reference.files.map { ($0 as NSString).lastPathComponent },
                       ["c.dcm", "a.dcm", "e.dcm", "b.dcm", "d.dcm"])
        XCTAssertEqual(series.warnings, [])
        XCTAssertEqual(series.affine.orientation, "LPS")
    }

    func testMissingSlicesAreReported() throws {
        let series = try XCTUnwrap(DicomReader.scan(DicomFixtures.root.appendingPathComponent("ct-missing-slices")).series.first)
        XCTAssertTrue(series.warnings.contains { $0.hasPrefix("missing slices: 161 slice(s) absent in 1 gap(s)") },
                      "\(series.warnings)")
        XCTAssertTrue(series.warnings.contains { $0.contains("slices lie up to") }, "\(series.warnings)")
    }

    /// Two localizers of one series in different planes are two volumes, never one stack (dcm2niix stacks them as a
    /// 45° tilted pair: docs/dicom-corpus.md).
    func testPlanesOfOneSeriesAreSeparateVolumes() throws {
        let scan = DicomReader.scan(DicomFixtures.root.appendingPathComponent("two-planes"))
        XCTAssertEqual(scan.series.count, 2)
        XCTAssertEqual(scan.series.map(\.shape), [[16, 16, 1], [16, 16, 1]])
        XCTAssertEqual(Set(scan.series.map { URL(fileURLWithPath: $0.reference.files[0]).lastPathComponent }),
                       ["sagittal.dcm", "coronal.dcm"])
        for series in scan.series {
            XCTAssertEqual(series.warnings.first, "series split into 2 volumes by orientation or image size")
            XCTAssertEqual(series.volume.count, 1, "a plane is not a repeat")
        }
    }

    func testIdenticalPositionsAcrossTransferSyntaxesAreDuplicates() throws {
        let names = ["MR_small.dcm", "MR_small_RLE.dcm", "MR_small_bigendian.dcm"]
        let scan = DicomReader.scan(files: names.map { DicomFixtures.path("syntaxes/" + $0) })
        let series = try XCTUnwrap(scan.series.first)
        XCTAssertEqual(series.shape, [64, 64, 1])
        XCTAssertEqual(series.warnings.first, "2 slice(s) duplicate another slice's position and were left out: "
                       + DicomFixtures.path("syntaxes/MR_small_RLE.dcm") + ", " + DicomFixtures.path("syntaxes/MR_small_bigendian.dcm"))
    }

    func testColourGivesAClearErrorNamingTheFile() {
        let rgb = DicomFixtures.path("syntaxes/SC_rgb_small_odd.dcm")
        let scan = DicomReader.scan(files: [rgb])
        XCTAssertEqual(scan.series.count, 0)
        XCTAssertEqual(scan.skipped.map(\.description), [
            "\(rgb): error: colour images are not supported (SamplesPerPixel 3, PhotometricInterpretation RGB)",
        ])
        XCTAssertEqual(scan.skipped.map(\.kind), [.unsupported])
    }

    /// Truncated, malformed and non-DICOM files are skipped with a reason; the good files in the same scan are read.
    func testBadFilesNeverStopTheFolderScan() throws {
        let scan = DicomReader.scan(DicomFixtures.root)
        let reasons = Dictionary(uniqueKeysWithValues: scan.skipped.map { (($0.path as NSString).lastPathComponent, $0.reason) })
        XCTAssertEqual(reasons["MR_truncated.dcm"], "truncated or malformed DICOM: I/O suspension or premature end of stream")
        XCTAssertEqual(reasons["rtplan_truncated.dcm"], "truncated or malformed DICOM: Invalid stream")
        XCTAssertEqual(reasons["not-dicom.txt"], "not a DICOM file (no DICM preamble, and it does not parse as a bare "
                       + "DICOM dataset: I/O suspension or premature end of stream)")
        XCTAssertEqual(reasons["expected.json"]?.hasPrefix("not a DICOM file"), true)
        // The bad-meta CT still reads; the shuffled CT series is intact.
        XCTAssertTrue(scan.series.contains { $0.reference.files.contains(DicomFixtures.path("bad/CTImageStorage_bad_meta.dcm")) })
        XCTAssertTrue(scan.series.contains { $0.shape == [16, 16, 5] })
        let (volumes, failures) = DicomReader.readAll(DicomFixtures.root)
        XCTAssertEqual(volumes.count, scan.series.count)
        XCTAssertEqual(failures.count, scan.skipped.count)
    }

    func testMonochrome1IsInvertedWithinTheStoredRange() throws {
        let series = try XCTUnwrap(DicomReader.scan(files: [DicomFixtures.path("mono1/cr-mono1.dcm")]).series.first)
        XCTAssertTrue(series.slices[0].invert)
        XCTAssertTrue(series.warnings.contains { $0.hasPrefix("no usable ImagePositionPatient") })
    }

    func testEnhancedMultiFrameUsesPerFrameFunctionalGroups() throws {
        let series = try XCTUnwrap(DicomReader.scan(files: [DicomFixtures.path("enhanced/eCT_Supplemental.dcm")]).series.first)
        // Frame 2 lies lower along the normal than frame 1: order comes from positions, not frame numbers.
        XCTAssertEqual(series.reference.frames, [1, 0])
        XCTAssertEqual(series.metadata.sopClassName, "EnhancedCTImageStorage")
        XCTAssertEqual(series.warnings, [])
    }

    /// The sample MR series voxels sit where the NIfTI voxels are: brain1 is LAS (left-handed), and a DICOM stack
    /// ascends along row x column, so the affines agree once the NIfTI slice axis is reversed.
    func testSampleDicomStudyMatchesTheNiftiItWasMadeFrom() throws {
        let folder = DicomFixtures.repository.appendingPathComponent("SampleData/dicom-study/brain1-mr")
        let series = try XCTUnwrap(DicomReader.scan(folder).series.first)
        let nifti = try XCTUnwrap(DicomFixtures.expected["sample-brain1-mr"]?.nifti_affine)
        let nz = Double(series.shape[2] - 1)
        let flipK = Affine(rows: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, -1, nz], [0, 0, 0, 1]])
        let expected = Affine(rows: nifti) * flipK
        for r in 0..<4 { for c in 0..<4 { XCTAssertEqual(series.affine[r, c], expected[r, c], accuracy: 1e-4) } }
        XCTAssertEqual(series.metadata.modality, "MR")
        XCTAssertEqual(series.warnings, [])
    }
}
