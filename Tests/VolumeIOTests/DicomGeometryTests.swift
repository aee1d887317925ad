import XCTest
@testable import VolumeIO

/// The stacking rules on synthetic positions (axial, LPS): every gap is checked, tilt is detected.
final class DicomGeometryTests: XCTestCase {
    let axial = [1.0, 0, 0, 0, 1, 0]

    private func stack(_ z: [Double], x: [Double]? = nil) -> DicomGeometry.Stack {
        let positions: [[Double]] = z.indices.map { [x?[$0] ?? 0, 0, z[$0]] }
        let names = z.indices.map { "s\($0)" }
        return DicomGeometry.stack(positions: positions, orientation: axial, pixelSpacing: [0.5, 0.7],
                                   singleSliceSpacing: nil, tieBreak: names, names: names)!
    }

    func testUniformStackSortsAndBuildsTheAffine() {
        let s = stack([6, 0, 3, 9])
        XCTAssertEqual(s.order, [1, 2, 0, 3])
        XCTAssertEqual(s.warnings, [])
        XCTAssertEqual(s.spacing, 3)
        // Column 0 follows the row direction with the spacing between columns (PixelSpacing[1]).
        XCTAssertEqual(s.affineLPS.column(0), [0.7, 0, 0])
        XCTAssertEqual(s.affineLPS.column(1), [0, 0.5, 0])
        XCTAssertEqual(s.affineLPS.column(2), [0, 0, 3])
        XCTAssertEqual(s.affineLPS.translation, [0, 0, 0])
    }

    func testAnIrregularLastGapIsReported() {
        let s = stack([0, 2, 4, 6, 9])
        XCTAssertEqual(s.spacing, 2)
        XCTAssertEqual(s.warnings.first, "non-uniform slice spacing: 1 of 4 gap(s) differ from 2 mm (range 2–3 mm)")
        XCTAssertEqual(s.warnings.last, "the volume uses a uniform 2 mm step; slices lie up to 1 mm from their grid position")
    }

    func testMissingSliceAndDuplicates() {
        let s = stack([0, 2, 2.001, 6, 8])
        XCTAssertEqual(s.duplicates, [2])
        XCTAssertEqual(s.warnings[0], "1 slice(s) duplicate another slice's position and were left out: s2")
        XCTAssertEqual(s.warnings[1], "missing slices: 1 slice(s) absent in 1 gap(s) of the 2 mm spacing; their places "
                       + "in the volume are left empty (the darkest value), so every slice keeps its position")
        XCTAssertEqual(s.warnings.count, 2)   // no "slices lie up to" warning: every slice is on the grid
        XCTAssertEqual(s.gridIndex, [0, 1, 3, 4])
        XCTAssertEqual(s.affineLPS.column(2), [0, 0, 2])
    }

    /// More slices missing than present (two acquisitions in one series): no empty places, the old warning.
    func testManyMissingSlicesKeepTheUniformStep() {
        let s = stack([0, 2, 4, 20])   // 7 missing, 4 present
        XCTAssertEqual(s.gridIndex, [0, 1, 2, 3])
        XCTAssertEqual(s.warnings.last, "the volume uses a uniform 2 mm step; slices lie up to 14 mm from their grid position")
    }

    func testGantryTiltShearsTheAffine() {
        let s = stack([0, 2, 4], x: [0, 0.2, 0.4])
        XCTAssertTrue(s.warnings[0].hasPrefix("gantry tilt: the slice stack leaves the slice normal by 5.71°"), s.warnings[0])
        XCTAssertEqual(s.affineLPS.column(2)[0], 0.2, accuracy: 1e-12)
        XCTAssertEqual(s.affineLPS.column(2)[2], 2, accuracy: 1e-12)
        XCTAssertEqual(s.spacing, 2, accuracy: 1e-12)
    }

    func testSingleSliceUsesTheGivenThickness() {
        let s = DicomGeometry.stack(positions: [[1, 2, 3]], orientation: axial, pixelSpacing: [1, 1],
                                    singleSliceSpacing: 5, tieBreak: ["a"], names: ["a"])!
        XCTAssertEqual(s.affineLPS.column(2), [0, 0, 5])
        XCTAssertEqual(s.warnings, [])
    }

    func testDegenerateOrientationIsRejected() {
        XCTAssertNil(DicomGeometry.stack(positions: [[0, 0, 0]], orientation: [1, 0, 0, 1, 0, 0], pixelSpacing: [1, 1],
                                         singleSliceSpacing: nil, tieBreak: ["a"], names: ["a"]))
    }
}
