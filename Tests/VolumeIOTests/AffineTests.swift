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
}
