import Foundation
import Testing

/// Resource bombs given to the CLI: each is a one-line error naming the file (or, for a gzip stream longer than
/// its header declares, a normal read of the declared voxels), and the process's peak resident memory stays under
/// `peakLimit`, far below what the file declares or inflates to. The bound is measured on the child with wait4's
/// ru_maxrss (the kernel's high-water mark for that process alone).
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
        ] + ["storage-count-overflows.pt", "view-larger-than-storage.pt", "deep-list-nesting.pt", "dict-inside-itself.pt",
             "absurd-offsets.safetensors", "header-length-huge.safetensors"].map { name in
            Case(arguments: segment + [weightRegressions.appendingPathComponent(name).path], status: 3,
                 says: "\(weightRegressions.appendingPathComponent(name).path): error: cannot load the model")
        }
    }()

    @Test(arguments: cases)
    func bombIsRefusedWithBoundedMemory(_ row: Case) async throws {
        let run = try await EngineCLIFixtures.blocking { try PeakMemoryRun(UniverSegBinary.url.path, row.arguments) }
        #expect(run.status == row.status, "\(run.err)")
        #expect(run.peakKiB < Self.peakLimitKiB, "peak \(run.peakKiB) KiB")
        if row.status != 0 {
            #expect(run.err.split(separator: "\n").count == 1 && run.err.contains(row.says), "\(run.err)")
        }
    }
}

/// Runs a program to its end with posix_spawn and reaps it with wait4, which reports that child's own peak
/// resident memory (Foundation's Process reaps children itself and does not expose it). stdout is discarded.
struct PeakMemoryRun {
    var status: Int32
    var peakKiB: Int
    var err: String

    init(_ path: String, _ arguments: [String]) throws {
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("peak-\(UUID().uuidString).err")
        defer { try? FileManager.default.removeItem(at: errURL) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL) }
        var raw: Int32 = 0
        var usage = rusage()
        while wait4(pid, &raw, 0, &usage) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS by hand (the C macros are not imported); a signal shows as 128 + its number.
        status = (raw & 0x7F) == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
        peakKiB = Int(usage.ru_maxrss)
        err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
    }
}
