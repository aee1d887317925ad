import Foundation
import Testing

/// Resource bombs given to the CLI: each is a one-line error naming the file (or, for a gzip stream longer than
/// its header declares, a normal read of the declared voxels), and the process's peak resident memory stays under
/// `peakLimit`, far below what the file declares or inflates to. The bound is measured on the child by GNU time
/// (`time` in scripts/install-deps.sh; the suite says so and returns where it is missing).
@Suite struct ResourceBombTests {
    /// 100 MiB: `universeg --version` peaks near 35 MiB on Linux; the bombs declare 256 MiB to 4 GiB and more.
    static let peakLimitKiB = 100 * 1024
    static let repo = UniverSegBinary.repository
    static let volumeRegressions = repo.appendingPathComponent("Tests/VolumeIOTests/Fixtures/regressions")
    static let weightRegressions = repo.appendingPathComponent("Tests/UniverSegTests/Fixtures/regressions/weights")

    struct Case: CustomTestStringConvertible, Sendable {
        var arguments: [String]
        var status: Int32
        var says: String
        var testDescription: String { arguments.map { ($0 as NSString).lastPathComponent }.joined(separator: " ") }
    }

    static let cases: [Case] = {
        let nifti = volumeRegressions.appendingPathComponent("nifti").path, dicom = volumeRegressions.appendingPathComponent("dicom").path
        let segment = ["segment", "--image", repo.appendingPathComponent("SampleData/nifti-study/brain2/brain2_image.nii.gz").path,
                       "--support", repo.appendingPathComponent("SampleData/support/from-brain1").path, "--label", "1",
                       "--out", FileManager.default.temporaryDirectory.appendingPathComponent("bomb-\(UUID().uuidString.prefix(6)).nii.gz").path,
                       "--weights"]
        return [
            Case(arguments: ["inspect", "\(nifti)/inflates-256MiB-beyond-declared.nii.gz"], status: 0, says: ""),
            Case(arguments: ["inspect", "\(nifti)/declares-4GiB-in-59-bytes.nii.gz"], status: 1, says: "no readable volume"),
            Case(arguments: ["inspect", "\(nifti)/declares-2e18-voxels.nii"], status: 1, says: "no readable volume"),
            Case(arguments: ["inspect", "\(dicom)/huge-pixel.dcm"], status: 1, says: "no readable volume"),
            Case(arguments: ["inspect", "\(dicom)/huge-rows.dcm"], status: 1, says: "no readable volume"),
            Case(arguments: ["inspect", "\(dicom)/huge-text.dcm"], status: 1, says: "no readable volume"),
            Case(arguments: ["inspect", "\(dicom)/deflate-3GB-element-before-pixels.dcm"], status: 1, says: "no readable volume"),
        ] + ["storage-count-overflows.pt", "view-larger-than-storage.pt", "deep-list-nesting.pt", "dict-inside-itself.pt",
             "absurd-offsets.safetensors", "header-length-huge.safetensors"].map { name in
            Case(arguments: segment + [weightRegressions.appendingPathComponent(name).path], status: 3,
                 says: "\(weightRegressions.appendingPathComponent(name).path): error: cannot load the model")
        }
    }()

    @Test(arguments: cases)
    func bombIsRefusedWithBoundedMemory(_ row: Case) async throws {
        guard FileManager.default.isExecutableFile(atPath: PeakMemoryRun.time) else {
            print("skipped: \(PeakMemoryRun.time) is missing (install GNU time: scripts/install-deps.sh)")
            return
        }
        let run = try await EngineCLIFixtures.blocking { try PeakMemoryRun(UniverSegBinary.url.path, row.arguments) }
        #expect(run.status == row.status, "\(run.err)")
        #expect(run.peakKiB < Self.peakLimitKiB, "peak \(run.peakKiB) KiB")
        if row.status != 0 {
            #expect(run.err.split(separator: "\n").count == 1 && run.err.contains(row.says), "\(run.err)")
        }
    }
}

/// Runs a program under GNU time and reads the peak resident memory it reports (%M, KiB). Not measured here with
/// wait4: a child started by this (large) test process carries the parent's high-water mark into its own
/// ru_maxrss across exec; GNU time forks a small copy of itself first, so the figure is the program's own.
struct PeakMemoryRun {
    static let time = "/usr/bin/time"
    var status: Int32
    var peakKiB: Int
    var err: String

    init(_ path: String, _ arguments: [String]) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("peak-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let errURL = scratch.appendingPathComponent("err"), peakURL = scratch.appendingPathComponent("peak")
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.time)
        process.arguments = ["-f", "%M", "-o", peakURL.path, path] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        status = process.terminationStatus
        err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        // The last line: GNU time writes "Command exited with non-zero status N" before the figure.
        let report = (try? String(contentsOf: peakURL, encoding: .utf8)) ?? ""
        peakKiB = Int(report.split(separator: "\n").last ?? "") ?? Int.max
    }
}
