import Foundation
import XCTest
import SegPipeline
@testable import UniverSegCLI

/// `universeg support check|add` print `SupportCheck` and run `SupportAdd` (rules tested in SupportLibraryTests):
/// the text, the JSON, the exit codes and the one-line errors.
final class SupportCommandTests: XCTestCase {
    static let repository = UniverSegBinary.repository
    static let brain1 = repository.appendingPathComponent("SampleData/support/from-brain1")
    static let brain2 = repository.appendingPathComponent("SampleData/support/from-brain2")

    func testCheckPrintsEachPairAndExitsByUsability() throws {
        let text = try UniverSegBinary.run(["support", "check", Self.brain1.path])
        XCTAssertEqual(text.status, 0, text.err)
        XCTAssertEqual(text.out, (try SupportCheck.run(Self.brain1)).text() + "\n")
        XCTAssertTrue(text.out.contains("  labels:     1: 4137 voxels (16.41 mL)\n  annotated:  all\n"
                                        + "  axis 0 (sagittal): 256 slices, 256 annotated, 47 holding labels\n"), text.out)

        let json = try UniverSegBinary.run(["support", "check", Self.brain1.path, "--json"])
        XCTAssertEqual(json.status, 0, json.err)
        XCTAssertEqual(try JSONDecoder().decode(SupportCheck.self, from: Data(json.out.utf8)), try SupportCheck.run(Self.brain1))

        // A library whose pair's image and label disagree: exit 1, the problem on the pair's lines.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("support-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let bad = root.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: bad, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.brain2.appendingPathComponent("brain2_image.nii.gz"), to: bad.appendingPathComponent("x_image.nii.gz"))
        try FileManager.default.copyItem(at: Self.brain1.appendingPathComponent("brain1_label.nii.gz"), to: bad.appendingPathComponent("x_label.nii.gz"))
        let unusable = try UniverSegBinary.run(["support", "check", bad.path])
        XCTAssertEqual(unusable.status, 1)
        XCTAssertTrue(unusable.out.hasPrefix("\(bad.path): 1 pair(s), 1 unusable\n\nx: UNUSABLE\n"), unusable.out)
        XCTAssertTrue(unusable.out.contains("  unusable: image and label are on different grids (256 x 256 x 23 vs 256 x 256 x 25 voxels)"))

        let missing = try UniverSegBinary.run(["support", "check", root.appendingPathComponent("none").path])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.err, "\(root.appendingPathComponent("none").path): error: no such folder\n"
                       + "  hint: a folder of examples holds NAME_image.nii.gz + NAME_label.nii.gz pairs\n")
    }

    func testAddWritesThePairAndItsSidecarAndRefusesClashes() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("support-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let library = root.appendingPathComponent("lib")   // created by `add`; its parent must exist
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let image = Self.brain2.appendingPathComponent("brain2_image.nii.gz").path
        let label = Self.brain2.appendingPathComponent("brain2_label.nii.gz").path
        let added = try UniverSegBinary.run(["support", "add", library.path, "--image", image, "--label", label,
                                             "--slices", "8-10", "--axis", "axial", "--name", "case2"])
        XCTAssertEqual(added.status, 0, added.err)
        XCTAssertTrue(added.out.hasPrefix("added case2 to \(library.path)\ncase2: usable\n"), added.out)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: library.path).sorted(),
                       ["case2_annotated.yaml", "case2_image.nii.gz", "case2_label.nii.gz"])
        XCTAssertEqual(try String(contentsOf: library.appendingPathComponent("case2_annotated.yaml"), encoding: .utf8),
                       "annotated: slices\naxis: axial\nslices: [8, 9, 10]\n")

        let again = try UniverSegBinary.run(["support", "add", library.path, "--image", image, "--label", label, "--name", "case2"])
        XCTAssertEqual(again.status, 1)
        XCTAssertEqual(again.err, "\(library.appendingPathComponent("case2_annotated.yaml").path): error: the library already "
                       + "has a pair named case2\n  hint: give another --name; nothing in a library is overwritten\n")

        let usage = try UniverSegBinary.run(["support", "add", library.path, "--image", image, "--label", label, "--slices", "3-1"])
        XCTAssertEqual(usage.status, 64)
        XCTAssertTrue(usage.err.contains("--slices '3-1' is not a list of slice indices"), usage.err)
    }
}
