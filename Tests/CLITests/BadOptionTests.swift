import Foundation
import Testing

/// Every command with bad option values (zero, negative, huge, empty, not a number, a file where a folder is
/// expected and the reverse, a missing path, an unwritable output): each must exit with the documented status
/// (64 for usage, else the command's own) and print exactly one line on stderr that names the problem; never a
/// trap, a backtrace or a usage dump.
///
/// Paths in the table are placeholders filled per case: $IMG (a NIfTI study image), $SUP (a support folder),
/// $W (a small weights file, fast to load), $S (a scratch folder holding file.txt, the folders folder/,
/// folder.nii.gz/, folder.nii/ and task/, pipelines ok.yaml, out-is-file.yaml and out-is-read-only.yaml, and ro/, a
/// read-only mount point).
@Suite struct BadOptionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var arguments: [String]
        var status: Int32
        /// A fragment the stderr line must contain.
        var says: String
        var testDescription: String { arguments.joined(separator: " ") }
        init(_ arguments: [String], _ status: Int32, _ says: String) {
            (self.arguments, self.status, self.says) = (arguments, status, says)
        }
    }

    static let segment = ["segment", "--image", "$IMG", "--support", "$SUP", "--label", "1", "--out", "$S/seg.nii.gz"]
    static let infer = ["infer", "--query", "$IMG", "--support-images", "$IMG", "--support-labels", "$IMG",
                        "--logits", "$S/logits.nii.gz"]

    static let cases: [Case] = [
        // The root command.
        Case(["bogus"], 64, "Unexpected argument 'bogus'"),
        Case(["--bogus"], 64, "Unknown option '--bogus'"),

        // run, watch and validate: the pipeline argument (2 = the definition cannot be used, as documented).
        Case(["run"], 64, "Missing expected argument '<pipeline>'"),
        Case(["run", ""], 64, "PIPELINE: the path is empty"),
        Case(["run", "$S/nowhere.yaml"], 2, "cannot read the pipeline file: no such file"),
        Case(["run", "$S/folder"], 2, "cannot read the pipeline file: is a folder, not a file"),
        Case(["run", "/dev/zero"], 2, "cannot read the pipeline file: is not a regular file"),
        Case(["watch", ""], 64, "PIPELINE: the path is empty"),
        Case(["watch", "$S/nowhere.yaml"], 2, "no such file"),
        Case(["watch", "$S/folder"], 2, "is a folder, not a file"),
        Case(["validate"], 64, "Missing expected argument '<pipeline>'"),
        Case(["validate", ""], 64, "PIPELINE: the path is empty"),
        Case(["validate", "$S/nowhere.yaml"], 2, "no such file"),
        Case(["validate", "$S/folder"], 2, "is a folder, not a file"),
        Case(["validate", "/dev/zero"], 2, "is not a regular file"),

        // run and watch options.
        Case(["run", "$S/ok.yaml", "--threads", "0"], 64, "--threads must be from 1 to 1024"),
        Case(["run", "$S/ok.yaml", "--threads=-2"], 64, "--threads must be from 1 to 1024"),
        Case(["run", "$S/ok.yaml", "--threads", "-2"], 64, "Missing value for '--threads <threads>'"),
        Case(["run", "$S/ok.yaml", "--threads", "100000"], 64, "--threads must be from 1 to 1024"),
        Case(["run", "$S/ok.yaml", "--threads", "99999999999999999999999"], 64, "The value '99999999999999999999999' is invalid"),
        Case(["run", "$S/ok.yaml", "--threads", "abc"], 64, "The value 'abc' is invalid for '--threads <threads>'"),
        Case(["run", "$S/ok.yaml", "--threads", ""], 64, "The value '' is invalid for '--threads <threads>'"),
        Case(["run", "$S/ok.yaml", "--max-in-flight", "0"], 64, "--max-in-flight must be at least 1"),
        Case(["run", "$S/ok.yaml", "--max-in-flight=-1"], 64, "--max-in-flight must be at least 1"),
        Case(["run", "$S/ok.yaml", "--max-in-flight", "1e3"], 64, "The value '1e3' is invalid"),
        Case(["run", "$S/ok.yaml", "--weights", ""], 64, "--weights: the path is empty"),
        Case(["run", "$S/ok.yaml", "--shard", "3/3"], 64, "--shard: shard index 3 is outside 0...2"),
        Case(["run", "$S/ok.yaml", "--shard", "0/0"], 64, "--shard: the shard count must be at least 1"),
        Case(["run", "$S/ok.yaml", "--shard=-1/3"], 64, "--shard: shard index -1 is outside 0...2"),
        Case(["run", "$S/ok.yaml", "--shard", "one/3"], 64, "--shard: 'one/3' is not K/N, auto/N or auto"),
        Case(["run", "$S/ok.yaml", "--shard", ""], 64, "--shard: '' is not K/N, auto/N or auto"),
        Case(["run", "$S/ok.yaml", "--shard", "auto"], 64, "--shard: --shard auto needs SLURM_ARRAY_TASK_ID"),

        // summary and slurm (3 = no run's records there, as documented).
        Case(["summary"], 64, "Missing expected argument"),
        Case(["summary", "$S/nowhere"], 64, "no such file or folder"),
        Case(["summary", "$S/folder"], 3, "no ledger and no shard plan: not the output folder of a run"),
        Case(["slurm", "$S/ok.yaml"], 64, "Missing expected argument '--shards <shards>'"),
        Case(["slurm", "$S/ok.yaml", "--shards", "0"], 64, "--shards must be at least 1"),
        Case(["slurm", "$S/ok.yaml", "--shards", "two"], 64, "The value 'two' is invalid"),
        Case(["slurm", "$S/ok.yaml", "--shards", "2", "--cpus-per-task", "0"], 64, "--cpus-per-task must be at least 1"),
        Case(["slurm", "$S/ok.yaml", "--shards", "2", "--time", ""], 64, "--time must be one word"),
        Case(["slurm", "$S/ok.yaml", "--shards", "2", "--mem", "4 G"], 64, "--mem must be one word"),
        Case(["run", "$S/ok.yaml", "--weights", "$S/nowhere.pt"], 64, "--weights: no such file"),
        Case(["run", "$S/ok.yaml", "--weights", "$S/folder"], 64, "is a folder, not a file"),
        Case(["run", "$S/ok.yaml", "--weights", "$S/file.txt"], 3, "cannot load the model: unrecognised weights format"),
        Case(["run", "$S/ok.yaml", "--quiet", "--json"], 64, "--quiet and --json cannot be combined"),
        Case(["run", "$S/out-is-file.yaml", "--weights", "$W"], 3, "out-is-file"),
        Case(["run", "$S/out-is-read-only.yaml", "--weights", "$W"], 3, "Read-only file system"),
        Case(["watch", "$S/ok.yaml", "--max-in-flight", "0"], 64, "--max-in-flight must be at least 1"),
        Case(["watch", "$S/ok.yaml", "--threads", "0"], 64, "--threads must be from 1 to 1024"),
        Case(["watch", "$S/ok.yaml", "--weights", "$S/folder"], 64, "is a folder, not a file"),
        Case(["watch", "$S/ok.yaml", "--weights", "$S/file.txt"], 3, "unrecognised weights format"),

        // inspect (a missing path is listed as skipped: exit 1, tested in InspectCommandTests).
        Case(["inspect"], 64, "Missing expected argument '<path>'"),
        Case(["inspect", ""], 64, "PATH: the path is empty"),
        Case(["inspect", "$S/file.txt"], 1, "no readable volume in"),

        // segment.
        Case(segment + ["--image", ""], 64, "--image: the path is empty"),
        Case(segment + ["--image", "$S/nowhere.nii.gz"], 64, "--image: no such file or folder"),
        Case(segment + ["--support", ""], 64, "--support: the path is empty"),
        Case(segment + ["--support", "$S/nowhere"], 64, "--support: no such folder"),
        Case(segment + ["--support", "$IMG"], 64, "is a file, not a folder"),
        Case(segment + ["--support", "$S/folder"], 64, "no NAME_image.nii.gz + NAME_label.nii.gz pairs there"),
        Case(segment + ["--label", "0"], 64, "--label 0: expected a positive label value"),
        Case(segment + ["--label=-1"], 64, "--label -1: expected a positive label value"),
        Case(segment + ["--label", "99999999999"], 64, "--label 99999999999: expected a positive label value"),
        Case(segment + ["--label", "abc"], 64, "--label abc: expected a positive label value"),
        Case(segment + ["--label", ""], 64, "--label : expected a positive label value"),
        Case(segment + ["--label", "1+"], 64, "--label 1+: expected a positive label value"),
        Case(segment + ["--label", "+"], 64, "--label +: expected a positive label value"),
        Case(segment + ["--label", "1"], 64, "--label 1 is given twice"),
        Case(segment + ["--out", ""], 64, "--out must end in .nii.gz or .nii"),
        Case(segment + ["--out", "$S/seg.txt"], 64, "--out must end in .nii.gz or .nii"),
        Case(segment + ["--out", "$S/folder.nii.gz"], 64, "is a folder; give a file name"),
        Case(segment + ["--out", "$S/file.txt/seg.nii.gz"], 64, "file.txt is a file, not a folder"),
        Case(segment + ["--out", "$IMG"], 64, "would overwrite or land inside the input"),
        Case(segment + ["--out", "/proc/seg.nii.gz"], 64, "--out: /proc/seg.nii.gz cannot be written"),
        Case(segment + ["--out", "$S/ro/seg.nii.gz"], 64, "Read-only file system"),
        Case(segment + ["--support-size", "0"], 64, "--support-size must be from 1 to 256"),
        Case(segment + ["--support-size=-4"], 64, "--support-size must be from 1 to 256"),
        Case(segment + ["--support-size", "1000000000"], 64, "--support-size must be from 1 to 256"),
        Case(segment + ["--support-size", "sixteen"], 64, "The value 'sixteen' is invalid"),
        Case(segment + ["--ensemble", "0"], 64, "--ensemble must be from 1 to 64"),
        Case(segment + ["--ensemble", "65"], 64, "--ensemble must be from 1 to 64"),
        Case(segment + ["--threshold", "0"], 64, "--threshold must be between 0 and 1"),
        Case(segment + ["--threshold", "1"], 64, "--threshold must be between 0 and 1"),
        Case(segment + ["--threshold", "nan"], 64, "--threshold must be between 0 and 1"),
        Case(segment + ["--threshold", "inf"], 64, "--threshold must be between 0 and 1"),
        Case(segment + ["--threshold=-0.5"], 64, "--threshold must be between 0 and 1"),
        Case(segment + ["--threshold", "half"], 64, "The value 'half' is invalid"),
        Case(segment + ["--seed=-1"], 64, "The value '-1' is invalid for '--seed <seed>'"),
        Case(segment + ["--seed", "1e30"], 64, "The value '1e30' is invalid"),
        Case(segment + ["--axis", "diagonal"], 64, "--axis must be auto, axial, coronal, sagittal, i, j or k"),
        Case(segment + ["--axis", ""], 64, "--axis must be auto"),
        Case(segment + ["--normalization", "bogus"], 64, "--normalization"),
        Case(segment + ["--normalization", ""], 64, "--normalization"),
        Case(segment + ["--also", "bogus"], 64, "--also bogus: choose report, qc, probabilities, dicom-seg or native"),
        Case(segment + ["--also", "nifti"], 64, "--also nifti: choose"),
        Case(segment + ["--strategy", "bogus"], 64, "--strategy must be one of"),
        Case(segment + ["--groups", "0"], 64, "--groups must be from 1 to 4096"),
        Case(segment + ["--groups", "5000"], 64, "--groups must be from 1 to 4096"),
        Case(segment + ["--min-component-ml=-1"], 64, "--min-component-ml must be 0 or more"),
        Case(segment + ["--min-component-ml", "nan"], 64, "--min-component-ml must be 0 or more"),
        Case(segment + ["--min-component-ml", "inf"], 64, "--min-component-ml must be 0 or more"),
        Case(segment + ["--threads", "0"], 64, "--threads must be from 1 to 1024"),
        Case(segment + ["--weights", "$S/folder"], 64, "is a folder, not a file"),
        Case(segment + ["--quiet", "--json"], 64, "--quiet and --json cannot be combined"),
        Case(["segment", "--image", "$IMG"], 64, "Missing expected argument"),

        // infer (unreadable inputs are status 1, as documented; the rest is usage).
        Case(infer + ["--logits", ""], 64, "--logits must end in .nii.gz or .nii"),
        Case(infer + ["--logits", "$S/logits.raw"], 64, "--logits must end in .nii.gz or .nii"),
        Case(infer + ["--logits", "$S/folder.nii"], 64, "is a folder; give a file name"),
        Case(infer + ["--logits", "$S/file.txt/logits.nii"], 64, "file.txt is a file, not a folder"),
        Case(infer + ["--logits", "$IMG"], 64, "would overwrite the input"),
        Case(infer + ["--logits", "$S/ro/logits.nii"], 64, "Read-only file system"),
        Case(infer + ["--ensemble", "0"], 64, "--ensemble must be from 1 to 64"),
        Case(infer + ["--ensemble", "1000"], 64, "--ensemble must be from 1 to 64"),
        Case(infer + ["--threads", "2000"], 64, "--threads must be from 1 to 1024"),
        Case(infer + ["--query", ""], 64, "--query: the path is empty"),
        Case(infer + ["--support-labels", ""], 64, "--support-labels: the path is empty"),
        Case(infer + ["--query", "$S/nowhere.nii"], 1, "nowhere.nii: error: no such file"),
        Case(infer + ["--query", "$S/folder"], 1, "folder: error: not a regular file"),
        Case(infer + ["--query", "$S/file.txt"], 1, "file.txt: error: unsupported file extension"),

        // evaluate (a task folder that cannot be used is status 1, as documented; the rest is usage).
        Case(["evaluate", ""], 64, "TASK_DIR: the path is empty"),
        Case(["evaluate", "$S/nowhere"], 1, "nowhere: error: no such task folder"),
        Case(["evaluate", "$S/file.txt"], 1, "file.txt: error: is a file, not a task folder"),
        Case(["evaluate", "$S/task"], 1, "error: missing: a task folder needs support/ and query/"),
        Case(["evaluate", "$S/task", "--support-size", "0"], 64, "--support-size must be from 1 to 1024"),
        Case(["evaluate", "$S/task", "--support-size", "100000"], 64, "--support-size must be from 1 to 1024"),
        Case(["evaluate", "$S/task", "--support-size", "4", "--sweep"], 64, "--support-size does not apply to --sweep"),
        Case(["evaluate", "$S/task", "--ensemble", "0"], 64, "--ensemble must be from 1 to 64"),
        Case(["evaluate", "$S/task", "--seed", "x"], 64, "The value 'x' is invalid"),
        Case(["evaluate", "$S/task", "--json", ""], 64, "--json: the path is empty"),
        Case(["evaluate", "$S/task", "--json", "$S/folder"], 64, "is a folder; give a file name"),
        Case(["evaluate", "$S/task", "--json", "$S/file.txt/r.json"], 64, "file.txt is a file, not a folder"),
        Case(["evaluate", "$S/task", "--json", "$S/ro/r.json"], 64, "Read-only file system"),
        Case(["evaluate", "$S/task", "--json", "$S/task/support/r.json"], 64, "would overwrite or land inside the input"),
        Case(["evaluate", "$S/task", "--probabilities", ""], 64, "--probabilities: the path is empty"),
        Case(["evaluate", "$S/task", "--probabilities", "$S/file.txt"], 64, "file.txt is a file, not a folder"),
        Case(["evaluate", "$S/task", "--probabilities", "$S/ro/p"], 64, "Read-only file system"),
        Case(["evaluate", "$S/task", "--probabilities", "$S/p", "--sweep"], 64, "--probabilities does not apply to --sweep"),
        Case(["evaluate", "$S/task", "--groups", "0"], 64, "--groups must be from 1 to 4096"),
        Case(["evaluate", "$S/task", "--threads", "0"], 64, "--threads must be from 1 to 1024"),
        Case(["evaluate", "$S/task", "--weights", "$S/nowhere.pt"], 64, "--weights: no such file"),
    ]

    @Test(arguments: cases)
    func badValueIsOneLineWithTheDocumentedStatus(_ row: Case) async throws {
        let needsReadOnly = row.testDescription.contains("$S/ro/") || row.testDescription.contains("read-only")
        let scratch = try Scratch(mountingReadOnly: needsReadOnly)
        defer { scratch.remove() }
        if needsReadOnly {
            guard scratch.readOnlyMounted else {
                print("skipped (cannot mount a read-only tmpfs here, needs root): \(row.testDescription)")
                return
            }
        }
        let arguments = row.arguments.map(scratch.fill)
        let result = try await EngineCLIFixtures.blocking { try UniverSegBinary.run(arguments, in: scratch.folder) }
        let lines = result.err.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(result.status == row.status, "stderr: \(result.err)")
        #expect(lines.count == 1 && result.err.hasSuffix("\n"), "stderr is not one line: \(result.err)")
        #expect(result.err.contains(scratch.fill(row.says)), "stderr: \(result.err)")
        #expect(!result.err.contains("Fatal error") && !result.err.contains("Backtrace") && !result.err.contains("Usage:"))
    }

    /// The files and folders the table's paths point to.
    struct Scratch {
        let folder: URL
        var readOnlyMounted = false
        static let repository = UniverSegBinary.repository

        init(mountingReadOnly: Bool) throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("bad-options-\(UUID().uuidString.prefix(8))")
            let files = FileManager.default
            for sub in ["folder", "folder.nii.gz", "folder.nii", "task", "ro", "out-file-parent"] {
                try files.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
            }
            try "not a model\n".write(to: folder.appendingPathComponent("file.txt"), atomically: true, encoding: .utf8)
            try "x".write(to: folder.appendingPathComponent("out-file-parent/out-is-file"), atomically: true, encoding: .utf8)
            try Self.pipeline(outputs: folder.appendingPathComponent("out").path)
                .write(to: folder.appendingPathComponent("ok.yaml"), atomically: true, encoding: .utf8)
            try Self.pipeline(outputs: folder.appendingPathComponent("out-file-parent/out-is-file").path)
                .write(to: folder.appendingPathComponent("out-is-file.yaml"), atomically: true, encoding: .utf8)
            try Self.pipeline(outputs: folder.appendingPathComponent("ro/out").path)
                .write(to: folder.appendingPathComponent("out-is-read-only.yaml"), atomically: true, encoding: .utf8)
            if mountingReadOnly { readOnlyMounted = Self.mountReadOnly(folder.appendingPathComponent("ro")) }
        }

        func fill(_ text: String) -> String {
            text.replacingOccurrences(of: "$IMG", with: Self.repository.appendingPathComponent("SampleData/nifti-study/brain2/brain2_image.nii.gz").path)
                .replacingOccurrences(of: "$SUP", with: Self.repository.appendingPathComponent("SampleData/support/from-brain1").path)
                .replacingOccurrences(of: "$W", with: EngineCLIFixtures.smallModel.path)
                .replacingOccurrences(of: "$S", with: folder.path)
        }

        func remove() {
            if readOnlyMounted { _ = Self.command("/bin/umount", [folder.appendingPathComponent("ro").path]) }
            try? FileManager.default.removeItem(at: folder)
        }

        static func pipeline(outputs: String) -> String {
            """
            inputs: {folder: \(repository.appendingPathComponent("SampleData/nifti-study").path), image: "*_image.nii.gz"}
            support: {library: \(repository.appendingPathComponent("SampleData/support/from-brain1").path)}
            targets:
              - {name: lesion, value: 1, labels: [1]}
            outputs: {folder: \(outputs), writers: [nifti]}
            """
        }

        /// A 1 MiB read-only tmpfs; false where mounting is not permitted (not root, or in a container without it).
        static func mountReadOnly(_ folder: URL) -> Bool {
            command("/bin/mount", ["-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", folder.path]) == 0
        }

        static func command(_ path: String, _ arguments: [String]) -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return -1 }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }
}
