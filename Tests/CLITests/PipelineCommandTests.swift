import Foundation
import Testing

/// Runs the built `universeg` binary, as a user would, and checks output and exit status.
@Suite struct PipelineCommandTests {
    static var binary: URL { UniverSegBinary.url }
    static let repo = UniverSegBinary.repository

    /// Runs the binary off the cooperative pool (a child process blocks its caller's thread).
    func execute(_ arguments: [String], in folder: URL = repo) async throws -> (status: Int32, out: String, err: String) {
        try await EngineCLIFixtures.blocking { try UniverSegBinary.run(arguments, in: folder) }
    }

    /// For audit trails: the same version string every report records.
    @Test func versionIsPrinted() async throws {
        let result = try await execute(["--version"])
        #expect(result.status == 0)
        #expect(result.out.hasPrefix("universeg ") && result.out.hasSuffix("\n") && result.out.split(separator: "\n").count == 1)
    }

    @Test func validateAcceptsTheShippedNiftiPipeline() async throws {
        let result = try await execute(["validate", "Pipelines/brain-lesion-nifti.yaml"])
        #expect(result.status == 0)
        #expect(result.out == "Pipelines/brain-lesion-nifti.yaml: ok: pipeline 'brain-lesion-nifti', 1 target (lesion), writers nifti, probabilities, report, qc\n")
    }

    @Test func validateAcceptsTheShippedTissueDicomPipeline() async throws {
        let result = try await execute(["validate", "Pipelines/tissue-dicom.yaml"])
        #expect(result.status == 0)
        #expect(result.out == "Pipelines/tissue-dicom.yaml: ok: pipeline 'tissue-dicom', 2 targets (tissue-class-6, tissue-class-5), writers nifti, dicom-seg, probabilities, report, qc\n")
    }

    @Test func validatePrintsEveryErrorCompilerStyleAndExits2() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clitest-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("in"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try """
            inputs: {folder: in}
            targets:
              - {name: a, value: 1, labels: 1}
            outptus:
              folder: out
              writers: [nifit]
            """.write(to: folder.appendingPathComponent("pipeline.yaml"), atomically: true, encoding: .utf8)
        let result = try await execute(["validate", "pipeline.yaml"], in: folder)
        #expect(result.status == 2)
        #expect(result.out == "")
        #expect(result.err == """
            pipeline.yaml:3:5: error: target 'a' has no support library
                  - {name: a, value: 1, labels: 1}
                    ^
                hint: add 'support: FOLDER' to the target or 'support: {library: FOLDER}' to the pipeline
            pipeline.yaml:4:1: error: unknown key 'outptus' in 'pipeline' (did you mean 'outputs'?)
                outptus:
                ^
                hint: the keys of 'pipeline' are version, name, inputs, preprocessing, support, targets, model, outputs, concurrency, watch
            pipeline.yaml:6:13: error: unknown writer 'nifit' (did you mean 'nifti'?)
                  writers: [nifit]
                            ^
                hint: choose from nifti, dicom-seg, native, probabilities, report, qc
            3 errors in pipeline.yaml

            """)
    }

    @Test func runDryRunListsStudiesAndWhy() async throws {
        let result = try await execute(["run", "Pipelines/brain-lesion-nifti.yaml", "--dry-run", "--force"])
        #expect(result.status == 0)
        #expect(result.out.hasPrefix("process  brain2 (--force)"))
        #expect(result.out.contains("1 to process, 0 to skip"))
    }

    /// `watch` refuses a zero bound on studies in memory like `run` (it used to trap with SIGILL).
    @Test func maxInFlightZeroIsAUsageErrorForRunAndWatch() async throws {
        for command in ["run", "watch"] {
            let result = try await execute([command, "Pipelines/brain-lesion-nifti.yaml", "--max-in-flight", "0"])
            #expect(result.status == 64, "\(command): \(result.err)")
            #expect(result.err.contains("--max-in-flight must be at least 1"), "\(command): \(result.err)")
        }
    }

    @Test func badUsageExits64() async throws {
        let result = try await execute(["segment", "--image", "nowhere.nii.gz", "--support", "x", "--label", "1", "--out", "o.nii.gz"])
        #expect(result.status == 64)
        #expect(result.err.contains("--image: no such file or folder: nowhere.nii.gz"))
    }

    /// Bad shards and summaries of nothing are usage errors or "cannot start", named on the first line; a dry run of a shard
    /// lists just its studies.
    @Test func shardedRunsRefuseBadShardsAndSummariesNeedARun() async throws {
        for (arguments, status, message) in [
            (["run", "Pipelines/tissue-nifti.yaml", "--shard", "3/3"], Int32(64), "--shard: shard index 3 is outside 0...2"),
            (["run", "Pipelines/tissue-nifti.yaml", "--shard", "auto"], 64, "--shard: --shard auto needs SLURM_ARRAY_TASK_ID"),
            (["run", "Pipelines/tissue-nifti.yaml", "--shard", "1/x"], 64, "--shard: 'x' in '1/x' is not a shard count"),
            (["slurm", "Pipelines/tissue-nifti.yaml", "--shards", "0"], 64, "--shards must be at least 1"),
            (["summary", "no/such/folder"], 64, "no such file or folder: no/such/folder"),
            (["summary", "Tests"], 3, "no ledger and no shard plan: not the output folder of a run"),
        ] {
            let result = try await execute(arguments)
            #expect(result.status == status, "\(arguments): \(result.err)")
            #expect(result.err.split(separator: "\n").first?.contains(message) == true, "\(arguments): \(result.err)")
        }
        var listed: [String] = []
        for k in 0..<2 {
            let result = try await execute(["run", "Pipelines/tissue-nifti.yaml", "--dry-run", "--shard", "\(k)/2"])
            #expect(result.status == 0, "\(result.err)")
            listed += result.out.split(separator: "\n").filter { $0.hasPrefix("process") || $0.hasPrefix("skip") }.map(String.init)
            #expect(result.out.contains("(shard \(k)/2: the studies FNV-1a-64(name) mod 2 = \(k))"))
        }
        let whole = try await execute(["run", "Pipelines/tissue-nifti.yaml", "--dry-run"])
        #expect(listed.count == whole.out.split(separator: "\n").filter { $0.hasPrefix("process") || $0.hasPrefix("skip") }.count)
    }
}
