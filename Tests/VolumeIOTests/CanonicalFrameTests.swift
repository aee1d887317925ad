import Foundation
import XCTest
@testable import VolumeIO

final class CanonicalFrameTests: XCTestCase {
    /// The same anatomy stored LAS and LIA becomes exactly the RAS file after reorientation (nibabel made all three).
    func testStorageOrdersReorientToTheSameCanonicalVolume() throws {
        let ras = try NiftiReader.readImage(Fixtures.url("phantom_ras.nii.gz"))
        XCTAssertEqual(ras.orientation, "RAS")
        for name in ["phantom_las.nii.gz", "phantom_lia.nii.gz"] {
            let other = try NiftiReader.readImage(Fixtures.url(name))
            XCTAssertNotEqual(other.voxels, ras.voxels, "\(name) stores a different voxel order")
            let frame = CanonicalFrame(shape: other.shape, affine: other.affine)
            let canonical = frame.reoriented(other)
            XCTAssertEqual(canonical.shape, ras.shape, name)
            XCTAssertEqual(canonical.voxels, ras.voxels, name)
            assertClose(canonical.affine.values, ras.affine.values, 1e-9, name)
        }
    }

    /// reoriented then restored gives back every voxel, the affine and the source, for every 3D fixture.
    func testRestoreInvertsReorientExactly() throws {
        var orientations = Set<String>()
        for (name, expected) in Fixtures.expected where expected.volumes == 1 {
            let image = try NiftiReader.readImage(Fixtures.url(name))
            let frame = CanonicalFrame(shape: image.shape, affine: image.affine)
            let canonical = frame.reoriented(image)
            XCTAssertEqual(canonical.orientation, "RAS", name)
            XCTAssertEqual(canonical.affine.orientation, AxisOrientation.ras.letters, name)
            let back = frame.restored(canonical, like: image)
            XCTAssertEqual(back.voxels, image.voxels, name)
            XCTAssertEqual(back.affine, image.affine, name)
            XCTAssertEqual(back.source, image.source, name)
            // Every voxel keeps its world position.
            for c in [[0, 0, 0], canonical.shape.map { $0 - 1 }, [1, 2, 1].enumerated().map { min($1, canonical.shape[$0] - 1) }] {
                let n = frame.nativeIndex(ofCanonical: c)
                assertClose(canonical.affine.apply(c.map(Double.init)), image.affine.apply(n.map(Double.init)), 1e-9, name)
                XCTAssertEqual(canonical[c[0], c[1], c[2]], image[n[0], n[1], n[2]], name)
            }
            orientations.insert(image.orientation)
        }
        XCTAssertTrue(orientations.isSuperset(of: ["RAS", "LAS", "LPS", "LIA"]), "\(orientations)")
    }

    func testAxisOrientationOfObliqueAffinesMatchesNibabel() {
        // Expected letters from nibabel.aff2axcodes on the same matrices.
        let (c, s) = (cos(-Double.pi / 3), sin(-Double.pi / 3))
        let rotated = Affine(rows: [[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
        XCTAssertEqual(AxisOrientation(rotated).letters, "PRS")
        XCTAssertEqual(AxisOrientation(Affine(rows: [[0, 0, -2, 0], [1, 0, 0, 0], [0, -3, 0, 0], [0, 0, 0, 1]])).letters, "AIL")
        let frame = CanonicalFrame(shape: [4, 5, 6], affine: rotated)
        XCTAssertEqual(frame.canonicalShape, [5, 4, 6])
        XCTAssertEqual(frame.canonicalAffine(native: rotated).orientation, "RAS")
    }
}
