import XCTest
@testable import VolumeIO

final class AffineTests: XCTestCase {
    func testInverseRoundTripsAnObliqueAffine() {
        let a = Affine(rows: [[0.9, -0.2, 0.1, 10], [0.3, 1.8, 0.05, -20], [0.0, 0.1, 2.5, 30], [0, 0, 0, 1]])
        let p = [3.0, -7.5, 11.25]
        let back = a.inverse!.apply(a.apply(p))
        for (x, y) in zip(back, p) { XCTAssertEqual(x, y, accuracy: 1e-12) }
    }

    func testDocExampleAndOrientation() {
        let a = Affine(rows: [[2, 0, 0, 10], [0, 2, 0, 20], [0, 0, 3, 30], [0, 0, 0, 1]])
        XCTAssertEqual(a.apply([1, 1, 1]), [12, 22, 33])
        XCTAssertEqual(a.orientation, "RAS")
        XCTAssertEqual(a.flippingLPSAndRAS.orientation, "LPS")
        XCTAssertEqual(a.spacing, [2, 2, 3])
        XCTAssertNil(Affine(linear: [1, 0, 0, 0, 0, 0, 0, 0, 1], translation: [0, 0, 0]).inverse)
    }

    /// Singularity is judged relative to the scale of the columns (`Matrix3.singularityTolerance`), so tiny voxels
    /// invert and nearly dependent columns do not, whatever the units.
    func testSingularityDoesNotDependOnTheScale() throws {
        let tiny = Affine(linear: [1e-5, 0, 0, 0, 1e-5, 0, 0, 0, 2e-5], translation: [1, 2, 3])
        let p = [3.0, 4.0, 5.0]
        assertClose(try XCTUnwrap(tiny.inverse).apply(tiny.apply(p)), p, 1e-9)
        let flat = Affine(linear: [100, 100, 0, 0, 1e-13, 0, 0, 0, 100], translation: [0, 0, 0])
        XCTAssertNil(flat.inverse)
        XCTAssertNil(Matrix3.inverse([1, 2, 3, 2, 4, 6, 0, 0, 1]))
        XCTAssertEqual(Matrix3.inverse([2, 0, 0, 0, 4, 0, 0, 0, 8]), [0.5, 0, 0, 0, 0.25, 0, 0, 0, 0.125])
        XCTAssertNil(Matrix3.inverse([.infinity, 0, 0, 0, 1, 0, 0, 0, 1]))
    }
}
