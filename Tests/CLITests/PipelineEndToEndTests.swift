import Foundation
import Testing
import VolumeIO

/// The built `universeg` binary on real files, with small random weights (the engine's `mixed.safetensors`
/// fixture): `segment`, a `run` killed with SIGKILL and resumed, and the error for a missing bundled model.
@Suite(.serialized) struct PipelineEndToEndTests {
    static let repo = PipelineCommandTests.repo
    static let randomWeights = repo.appendingPathComponent("Tests/UniverSegTests/Fixtures/mixed.safetensors")
    static let brain2 = repo.appendingPathComponent("SampleData/nifti-study/brain2/brain2_image.nii.gz")

    static func temporaryFolder(_ name: String = #function) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("clie2e-\(name.filter { $0.isLetter })-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `universeg ARGUMENTS` run off the cooperative pool (these runs take seconds; a blocked pool on 2 cores
    /// stalls other suites' async tests).
    func execute(_ arguments: [String], in folder: URL = PipelineCommandTests.repo) async throws -> (status: Int32, out: String, err: String) {
        try await PipelineCommandTests().execute(arguments, in: folder)
    }

    static var bundledModelPresent: Bool {
        let resources = PipelineCommandTests.binary.deletingLastPathComponent().appendingPathComponent("universeg_UniverSeg.resources")
        return ["default.safetensors", "Resources/default.safetensors"].contains {
            FileManager.default.fileExists(atPath: resources.appendingPathComponent($0).path)
        }
    }

    @Test func segmentWritesTheLabelMapAndReportBesideOutOnTheSourceGrid() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("seg.nii.gz")
        let result = try await execute([
            "segment", "--image", Self.brain2.path, "--support", "SampleData/support/from-brain1", "--label", "1",
            "--out", out.path, "--weights", Self.randomWeights.path, "--support-size", "2", "--quiet"])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("1 done, 0 skipped, 0 failed; label map: \(out.path)"))
        let labels = try NiftiReader.readLabels(out)
        let source = try NiftiReader.readHeader(Self.brain2)
        #expect(labels.shape == source.shape && labels.affine == source.affine)
        for extra in ["seg_report.json", "seg_qc.png"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(extra).path), "\(extra)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("ledger.jsonl").path))
    }

    /// `--out` naming the image, or a place inside the support folder, is refused before any work; nothing changes.
    @Test func segmentRefusesAnOutputOnItsInputs() async throws {
        let before = try Data(contentsOf: Self.brain2)
        for out in [Self.brain2.path, "SampleData/support/from-brain1/seg.nii.gz"] {
            let result = try await execute([
                "segment", "--image", Self.brain2.path, "--support", "SampleData/support/from-brain1", "--label", "1",
                "--out", out, "--weights", Self.randomWeights.path])
            #expect(result.status == 64, "\(out): \(result.err)")
            #expect(result.err.contains("would overwrite or land inside the input"), "\(result.err)")
        }
        #expect(try Data(contentsOf: Self.brain2) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: Self.brain2.deletingLastPathComponent().path) == ["brain2_image.nii.gz"])
        #expect(!FileManager.default.fileExists(atPath: PipelineCommandTests.repo.appendingPathComponent("SampleData/support/from-brain1/seg.nii.gz").path))
    }

    /// A study's warnings are printed under its line, not only written to its report.
    @Test func segmentPrintsTheStudysWarnings() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var image = try NiftiReader.readImage(Self.brain2)
        for j in 0..<image.shape[1] { for i in 0..<image.shape[0] { image[i, j, 0] = 0 } }
        let padded = folder.appendingPathComponent("padded.nii.gz")
        try NiftiWriter.write(image, to: padded)
        let result = try await execute([
            "segment", "--image", padded.path, "--support", "SampleData/support/from-brain1", "--label", "1",
            "--out", folder.appendingPathComponent("seg.nii.gz").path, "--weights", Self.randomWeights.path,
            "--support-size", "2"])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.err.contains("padded: warning: 1 of 23 slices are blank (one intensity throughout) and were left unsegmented"),
                "\(result.err)")
    }

    @Test(.enabled(if: !bundledModelPresent, "this build bundles a default model"))
    func weightsDefaultWithoutABundledModelIsAClearErrorBeforeAnyWork() async throws {
        let result = try await execute(["run", "Pipelines/brain-lesion-nifti.yaml"])
        #expect(result.status == 3)
        #expect(result.err.contains("default.safetensors: error: model.weights is 'default', but this build has no bundled model"),
                "\(result.err)")
        #expect(result.err.contains("\n  hint: give a weights file with --weights FILE"))
    }

    /// Four short studies (6 slices of brain2 each) under folder/studies and a pipeline.yaml writing to folder/out.
    func makeFourStudies(in folder: URL) throws -> (names: [String], study: Volume<Float>) {
        let image = try NiftiReader.readImage(Self.brain2)
        let first = 8, count = 6, plane = image.shape[0] * image.shape[1]
        var affine = image.affine
        for r in 0..<3 { affine[r, 3] += Double(first) * image.affine[r, 2] }
        let cropped = Volume(shape: [image.shape[0], image.shape[1], count], affine: affine,
                             voxels: Array(image.voxels[(first * plane)..<((first + count) * plane)]))
        let names = ["s1", "s2", "s3", "s4"]
        for name in names {
            try NiftiWriter.write(cropped, to: folder.appendingPathComponent("studies/\(name)/\(name)_image.nii.gz"))
        }
        try """
            name: killed
            inputs: {folder: studies, format: nifti}
            support: {library: \(Self.repo.appendingPathComponent("SampleData/support/from-brain1").path), strategy: random}
            targets: [{name: lesion, value: 1, labels: [1]}]
            model: {weights: \(Self.randomWeights.path), support_size: 2, ensemble: 1}
            outputs: {folder: out, writers: [nifti, report, qc]}
            """.write(to: folder.appendingPathComponent("pipeline.yaml"), atomically: true, encoding: .utf8)
        return (names, cropped)
    }

    /// Starts `universeg run pipeline.yaml` in `folder` and waits until the ledger names a finished study.
    func startRunAndWaitForAStudy(in folder: URL, output: Pipe? = nil) async throws -> Process {
        let ledger = folder.appendingPathComponent("out/ledger.jsonl")
        let process = Process()
        process.executableURL = PipelineCommandTests.binary
        process.arguments = ["run", "pipeline.yaml", "--quiet"]
        process.currentDirectoryURL = folder
        process.standardOutput = output ?? FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline,
              ((try? String(contentsOf: ledger, encoding: .utf8)) ?? "").split(separator: "\n").isEmpty {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        return process
    }

    /// SIGTERM (a service manager stopping it) lets the study in progress finish: the run exits 130 saying how many
    /// studies it did not start, writes its summary, and every study it started is complete; a rerun does the rest.
    @Test func aRunAskedToStopFinishesWhatItStartedAndSaysWhatIsLeft() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (names, _) = try makeFourStudies(in: folder)
        let pipe = Pipe()
        let process = try await startRunAndWaitForAStudy(in: folder, output: pipe)
        #expect(process.isRunning, "the run ended before it could be stopped")
        kill(process.processIdentifier, SIGTERM)
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        while process.isRunning { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(process.terminationStatus == 130 && process.terminationReason == .exit, "\(out)")
        #expect(out.contains("; stopped before "), "\(out)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/index.html").path))
        let finished = names.filter {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/\($0)/\($0)_report.json").path)
        }
        #expect(!finished.isEmpty && finished.count < names.count, "\(finished)")
        let leftovers = (FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? [])
            .filter { ($0 as NSString).lastPathComponent.hasPrefix(".tmp-") }
        #expect(leftovers == [])
        let rerun = try await execute(["run", "pipeline.yaml", "--quiet"], in: folder)
        #expect(rerun.status == 0 && rerun.out.hasPrefix("\(names.count - finished.count) done, \(finished.count) skipped"), "\(rerun.out)")
    }

    /// Four short studies (6 slices of brain2 each); the run is killed with SIGKILL once the first is done,
    /// then run again: the finished study is skipped, the rest are done, every output reads back, no temporary
    /// file is left.
    @Test func aRunKilledMidwayResumesAndCompletes() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (names, cropped) = try makeFourStudies(in: folder)
        let process = try await startRunAndWaitForAStudy(in: folder)
        #expect(process.isRunning, "the run ended before it could be killed")
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(process.terminationReason == .uncaughtSignal)
        let written = names.filter {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/\($0)/\($0)_seg.nii.gz").path)
        }
        #expect(written.count < names.count, "killed mid-run")

        let rerun = try await execute(["run", "pipeline.yaml", "--quiet"], in: folder)
        #expect(rerun.status == 0, "\(rerun.err)")
        let skipped = try #require(rerun.out.split(separator: ",").first { $0.hasSuffix(" skipped") })
        #expect(Int(skipped.split(separator: " ")[0]) ?? 0 >= 1, "\(rerun.out)")
        for name in names {
            let labels = try NiftiReader.readLabels(folder.appendingPathComponent("out/\(name)/\(name)_seg.nii.gz"))
            #expect(labels.shape == cropped.shape && labels.affine == cropped.affine)
            let report = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("out/\(name)/\(name)_report.json")))
            #expect((report as? [String: Any])?["study"] as? String == name)
        }
        let leftovers = (FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? [])
            .filter { ($0 as NSString).lastPathComponent.hasPrefix(".tmp-") }
        #expect(leftovers == [])
        let again = try await execute(["run", "pipeline.yaml", "--quiet"], in: folder)
        #expect(again.out.hasPrefix("0 done, 4 skipped, 0 failed"), "\(again.out)")
    }
}
