import Foundation
import XCTest
@testable import VolumeIO

/// Paths of the committed DICOM fixtures and the expected numbers computed by
/// Tools/geometry_fixtures/make_dicom_fixtures.py (pydicom + numpy).
enum DicomFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/dicom")
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).standardized.path }

    struct Sample: Decodable { var index: [Int]; var value: Double }
    struct Case: Decodable {
        var files: [String]
        var shape: [Int]
        var slice_order: [[Slice]]
        var affine_ras: [[Double]]
        var slice_spacing: Double
        var corners_index: [[Int]]
        var corners_ras: [[Double]]
        var samples: [Sample]
        var min: Double
        var max: Double
        var sum: Double
        var nifti_affine: [[Double]]?
    }
    /// A slice_order entry: [relative path, frame].
    enum Slice: Decodable, Equatable {
        case path(String), frame(Int)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { self = .path(s) } else { self = .frame(try c.decode(Int.self)) }
        }
    }

    static let expected: [String: Case] = {
        let data = try! Data(contentsOf: root.appendingPathComponent("expected.json"))
        return try! JSONDecoder().decode([String: Case].self, from: data)
    }()
}
