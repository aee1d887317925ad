import Foundation
import XCTest
@testable import VolumeIO

/// Paths of the committed fixtures and the numbers nibabel computed for them (Tools/geometry_fixtures).
/// Every test target finds its fixtures the same way: in the source tree, from `#filePath` (never through a
/// resource bundle), so one target can read another's fixtures and SampleData alike.
enum Fixtures {
    static let nifti = DicomFixtures.repository.appendingPathComponent("Tests/VolumeIOTests/Fixtures/nifti")

    static func url(_ name: String) -> URL { nifti.appendingPathComponent(name) }

    struct Corner: Decodable { var ijk: [Int]; var xyz: [Double] }
    struct Sample: Decodable { var ijk: [Int]; var value: Double }

    /// One file's entry of expected.json (see make_nifti_fixtures.py `expected_for`).
    struct Expected: Decodable {
        var version: Int
        var shape: [Int]
        var volumes: Int
        var sample_volume: Int
        var datatype: Int
        var affine: [[Double]]
        var transform: String
        var axcodes: String
        var corners: [Corner]
        var samples: [Sample]
        var qform_code: Int
        var sform_code: Int
        var pixdim: [Double]
        var quatern: [Double]
        var srow: [Double]
        var scaling: [Double]?
        var sum: Double
        var nonzero: Int
        var percentiles: [Double]
    }

    static let expected: [String: Expected] = {
        let data = try! Data(contentsOf: url("expected.json"))
        return try! JSONDecoder().decode([String: Expected].self, from: data)
    }()

    /// A fresh empty folder for outputs, removed at the end of the test.
    static func temporaryFolder(_ test: XCTestCase) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("volumeio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }
}

/// Asserts `a ≈ b` elementwise within `tolerance` (absolute).
func assertClose(_ a: [Double], _ b: [Double], _ tolerance: Double, _ message: @autoclosure () -> String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, message(), file: file, line: line)
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThanOrEqual(worst, tolerance, "\(message()): \(a) vs \(b)", file: file, line: line)
}
