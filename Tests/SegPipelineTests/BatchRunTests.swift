import Foundation
import Testing
import VolumeIO
@testable import SegPipeline

@Suite struct BatchRunTests {
    /// root/inputs/<name>/<name>_image.nii.gz for each name, and a support library of two pairs.
    func makeStudies(_ root: URL, names: [String]) throws {
        for name in names {
            try writeFakeVolume(root.appendingPathComponent("inputs/\(name)/\(name)_image.nii.gz"))
        }
        try writeFakeSupport(root.appendingPathComponent("support"), name: "a")
        try writeFakeSupport(root.appendingPathComponent("support"), name: "b", shape: [16, 12, 8])
    }

    @Test func segmentsEveryStudyAndWritesReportsQCAndSummary() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try makeStudies(root, names: ["s1", "s2", "s3"])
        let spec = fakeSpec(root: root)
        let result = try await BatchRun(graph: JobGraph(spec: spec, segmenter: FakeSegmenter())).run()

        #expect(result.done == 3 && result.failed == 0 && result.skipped == 0)
        let out = spec.outputs.folder
        for name in ["s1", "s2", "s3"] {
            let data = try Data(contentsOf: out.appendingPathComponent("\(name)/\(name)_report.json"))
            let report = try JSONDecoder().decode(StudyReport.self, from: data)
            #expect(report.study == name)
            #expect(report.geometry.shape == [12, 10, 6])
            #expect(report.sliceAxis == 2)  // 3 mm is the thickest spacing
            #expect(report.slicesProcessed == 6)
            // The fake engine returns the normalized image: the bright cube (6 x 5 x 4 voxels) is the mask.
            #expect(report.targets.map(\.voxels) == [6 * 5 * 4])
            #expect(abs(report.targets[0].volumeML - 120 * 12 / 1000) < 1e-9)
            #expect(!report.targets[0].supportUsed.isEmpty)
            #expect(report.outputs.contains("\(name)/\(name)_seg.nii.gz"))
            let png = try Data(contentsOf: out.appendingPathComponent("\(name)/\(name)_qc.png"))
            #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        }
        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("s1/s1_qc.png") && html.contains("s3/s3_report.json"))
        // No temporary file is left anywhere.
        let leftovers = FileManager.default.enumerator(atPath: out.path)?.allObjects.compactMap { $0 as? String }
            .filter { ($0 as NSString).lastPathComponent.hasPrefix(".tmp-") }
        #expect(leftovers == [])
    }

    /// A bright speck far from the cube: kept without clean-up, gone with `largest_component`; the report counts
    /// what was written.
    @Test func targetCleanupKeepsTheLargestComponent() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try makeStudies(root, names: [])
        var image = TestStudy.image(shape: [12, 10, 6])
        image[0, 0, 0] = 100
        let study = root.appendingPathComponent("inputs/s/s_image.nii.gz")
        try FileManager.default.createDirectory(at: study.deletingLastPathComponent(), withIntermediateDirectories: true)
        try NiftiWriter.write(image, to: study)
        for largest in [false, true] {
            var spec = fakeSpec(root: root, writers: [.nifti, .report])
            spec.outputs.folder = root.appendingPathComponent("out-\(largest)")
            spec.targets[0].cleanup = MaskCleanup(largestComponent: largest)
            let result = try await BatchRun(graph: JobGraph(spec: spec, segmenter: FakeSegmenter())).run()
            #expect(result.done == 1)
            let labels = try NiftiReader.readLabels(spec.outputs.folder.appendingPathComponent("s/s_seg.nii.gz"))
            let expected: Int = largest ? 120 : 121   // the 6 x 5 x 4 cube, with or without the speck
            let speck: Int32 = largest ? 0 : 1
            #expect(labels[0, 0, 0] == speck)
            #expect(labels.voxels.filter { $0 == 1 }.count == expected)
            let report = try JSONDecoder().decode(StudyReport.self, from: Data(contentsOf: spec.outputs.folder.appendingPathComponent("s/s_report.json")))
            #expect(report.targets.map(\.voxels) == [expected])
            #expect(report.targets.map(\.postprocess) == [largest ? "largest component" : nil])
        }
    }

    /// A bright voxel on one slice only: kept as it is, gone once each slice is averaged with its neighbours
    /// (threshold 0.6: the speck's smoothed probability is about 0.5, the cube's at least 0.75).
    @Test func sliceSmoothingDropsAShapeOnASingleSlice() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try makeStudies(root, names: [])
        var image = TestStudy.image(shape: [16, 12, 6])   // the cube: i 4..<12, j 3..<9, k 1...4
        for i in 1...2 { for j in 9...10 { image[i, j, 2] = 100 } }
        let study = root.appendingPathComponent("inputs/s/s_image.nii.gz")
        try FileManager.default.createDirectory(at: study.deletingLastPathComponent(), withIntermediateDirectories: true)
        try NiftiWriter.write(image, to: study)
        for smooth in [false, true] {
            var spec = fakeSpec(root: root, writers: [.nifti])
            spec.outputs.folder = root.appendingPathComponent("out-\(smooth)")
            spec.model.threshold = 0.6
            spec.targets[0].smoothSlices = smooth
            let result = try await BatchRun(graph: JobGraph(spec: spec, segmenter: FakeSegmenter())).run()
            #expect(result.done == 1)
            let labels = try NiftiReader.readLabels(spec.outputs.folder.appendingPathComponent("s/s_seg.nii.gz"))
            let speck: Int32 = smooth ? 0 : 1
            #expect(labels[1, 9, 2] == speck && labels[2, 10, 2] == speck)
            #expect(labels[8, 6, 2] == 1)   // inside the cube either way
        }
    }

    /// With `fuse_axes`, the slices along each of the three axes go through the engine (the ones through the cube:
    /// the others are blank, 6 + 5 + 4 of the 12 x 10 x 6 study) and the averaged maps give the same cube as one
    /// axis does.
    @Test func fusedAxesSegmentAlongAllThreeAndAgreeOnTheCube() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try makeStudies(root, names: ["s"])
        var maps: [[Int32]] = []
        for fuse in [false, true] {
            var spec = fakeSpec(root: root, writers: [.nifti, .report])
            spec.outputs.folder = root.appendingPathComponent("out-\(fuse)")
            spec.preprocessing.fuseAxes = fuse
            let segmenter = FakeSegmenter()
            let result = try await BatchRun(graph: JobGraph(spec: spec, segmenter: segmenter)).run()
            #expect(result.done == 1)
            #expect(segmenter.queriesSeen.withLock { $0 } == (fuse ? 6 + 5 + 4 : 4))
            let report = try JSONDecoder().decode(StudyReport.self, from: Data(contentsOf: spec.outputs.folder.appendingPathComponent("s/s_report.json")))
            #expect(report.fusedAxes == (fuse ? true : nil))
            maps.append(try NiftiReader.readLabels(spec.outputs.folder.appendingPathComponent("s/s_seg.nii.gz")).voxels)
        }
        #expect(maps[0] == maps[1] && maps[0].filter { $0 == 1 }.count == 6 * 5 * 4)
    }

    @Test func rerunSkipsFinishedStudiesAndForceRedoesThem() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try makeStudies(root, names: ["s1", "s2"])
        let spec = fakeSpec(root: root)
        let segmenter = FakeSegmenter()
        let graph = JobGraph(spec: spec, segmenter: segmenter)
        _ = try await BatchRun(graph: graph).run()
        let callsAfterFirst = segmenter.calls.withLock { $0 }

        let second = try await BatchRun(graph: graph).run()
        #expect(second.skipped == 2 && second.done == 0)
        #expect(segmenter.calls.withLock { $0 } == callsAfterFirst)
        // The summary still shows the skipped studies' numbers, read back from their reports.
        let html = try String(contentsOf: spec.outputs.folder.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("cube: 1.44 mL (120)"))

        let forced = try await BatchRun(graph: graph, force: true).run()
        #expect(forced.done == 2 && forced.skipped == 0)
    }

    @Test func changedInputOrDefinitionOrMissingOutputIsProcessedAgain() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try makeStudies(root, names: ["s1", "s2", "s3"])
        let spec = fakeSpec(root: root)
        _ = try await BatchRun(graph: JobGraph(spec: spec, segmenter: FakeSegmenter())).run()

        try writeFakeVolume(root.appendingPathComponent("inputs/s1/s1_image.nii.gz"), shape: [12, 10, 7])
        try FileManager.default.removeItem(at: spec.outputs.folder.appendingPathComponent("s2/s2_qc.png"))
        let plan = try BatchRun(graph: JobGraph(spec: spec, segmenter: FakeSegmenter())).plan()
        #expect(plan.map { $0.skipReason == nil } == [true, true, false])
        // Other weights: the finished study is done again.
        let otherModel = try BatchRun.plan(spec: spec, force: false, model: "UniverSeg other weights")
        #expect(otherModel.map(\.runReason) == ["the model changed", "the model changed", "the model changed"])

        var changed = spec
        changed.fingerprint = "spec-2"
        let replan = try BatchRun(graph: JobGraph(spec: changed, segmenter: FakeSegmenter())).plan()
        #expect(replan.allSatisfy { $0.skipReason == nil })
    }

    @Test func aCorruptStudyFailsAloneAndIsRecorded() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try makeStudies(root, names: ["a1", "a3"])
        let bad = root.appendingPathComponent("inputs/a2/a2_image.nii.gz")
        try FileManager.default.createDirectory(at: bad.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("garbage".utf8).write(to: bad)
        let spec = fakeSpec(root: root)
        let result = try await BatchRun(graph: JobGraph(spec: spec, segmenter: FakeSegmenter())).run()

        #expect(result.done == 2 && result.failed == 1)
        let failure = try #require(result.outcomes.first { $0.status == .failed })
        #expect(failure.study.name == "a2")
        #expect(failure.stage == .read)
        #expect(failure.reason?.contains("a2_image.nii.gz: error: unreadable NIfTI header") == true)
        let ledger = Ledger(outputFolder: spec.outputs.folder).entries()
        #expect(ledger["a2"]?.status == .failed)
        #expect(ledger["a1"]?.status == .done && ledger["a3"]?.status == .done)
        // Nothing was written for the failed study, and a rerun retries it (failures are not skipped).
        #expect(!FileManager.default.fileExists(atPath: spec.outputs.folder.appendingPathComponent("a2").path))
        let plan = try BatchRun(graph: JobGraph(spec: spec, segmenter: FakeSegmenter())).plan()
        #expect(plan.filter { $0.skipReason == nil }.map(\.study.name) == ["a2"])
    }

    /// Slices with one intensity throughout (here the first and last: value 10 everywhere, outside the cube) never
    /// reach the engine, which would draw shapes on them; NaN voxels are reported. Both show in the report.
    @Test func blankSlicesAreLeftUnsegmentedAndNonFiniteVoxelsAreReported() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try makeStudies(root, names: ["b1"])
        var image = TestStudy.image(shape: [12, 10, 6])
        image.voxels[0] = .nan
        image.voxels[1] = .infinity
        try NiftiWriter.write(image, to: root.appendingPathComponent("inputs/b1/b1_image.nii.gz"))
        let segmenter = FakeSegmenter()
        let result = try await BatchRun(graph: JobGraph(spec: fakeSpec(root: root), segmenter: segmenter)).run()

        let report = try #require(result.outcomes.first?.report)
        #expect(report.slicesProcessed == 6)
        #expect(segmenter.queriesSeen.withLock { $0 } == 4)
        #expect(report.warnings.contains("2 of 6 slices are blank (one intensity throughout) and were left unsegmented"))
        #expect(report.warnings.contains("2 voxels are NaN or infinite; they were read as the darkest intensity"))
        #expect(report.targets.map(\.voxels) == [6 * 5 * 4])
    }

    /// Studies that cannot be told apart ("a" and "a.nii.gz" are both study "a"; "x y" and "x_y" both write x_y/x_y)
    /// fail without being read, naming each other; the other studies are done.
    @Test func studiesThatWouldShareOutputsFailAndTheOthersRun() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try makeStudies(root, names: ["a", "x y", "x_y", "ok"])
        try writeFakeVolume(root.appendingPathComponent("inputs/a.nii.gz"))
        let spec = fakeSpec(root: root)
        let segmenter = FakeSegmenter()
        let plan = try BatchRun(graph: JobGraph(spec: spec, segmenter: segmenter)).plan()
        #expect(plan.filter { $0.conflict == nil }.map(\.study.name) == ["ok"])
        let result = try await BatchRun(graph: JobGraph(spec: spec, segmenter: segmenter)).run()

        #expect(result.done == 1 && result.failed == 4)
        let reasons = Dictionary(uniqueKeysWithValues: result.outcomes.filter { $0.status == .failed }
            .map { ($0.study.location.lastPathComponent, $0.reason ?? "") })
        #expect(reasons["a"] == "'a' and 'a.nii.gz' are both study 'a'; rename one of them (none of them is processed)")
        #expect(reasons["a.nii.gz"] == reasons["a"])
        #expect(reasons["x y"] == "'x y' and 'x_y' would write the same outputs (x_y/x_y); rename one of them (none of them is processed)")
        #expect(segmenter.calls.withLock { $0 } == 1)
        let written = try FileManager.default.contentsOfDirectory(atPath: spec.outputs.folder.path).filter { !$0.hasSuffix(".html") && !$0.hasSuffix(".jsonl") && !$0.hasPrefix(".") }
        #expect(written.sorted() == ["ok", "summary.csv"])
        #expect(Ledger(outputFolder: spec.outputs.folder).entries().keys.sorted() == ["ok"])
    }

    /// A study folder with two images that both pass the selection rules: the pick rule chooses, and the report
    /// says which one was passed over.
    @Test func aSeriesPassedOverIsNamedInTheWarnings() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try makeStudies(root, names: ["two"])
        try writeFakeVolume(root.appendingPathComponent("inputs/two/t2_image.nii.gz"), shape: [12, 10, 8])
        let result = try await BatchRun(graph: JobGraph(spec: fakeSpec(root: root), segmenter: FakeSegmenter())).run()

        let report = try #require(result.outcomes.first?.report)
        #expect(report.series == "t2_image" && report.slicesProcessed == 8)
        #expect(report.warnings.contains("2 series match the selection rules; segmented t2_image (t2_image.nii.gz) by "
            + "pick: most-slices, not two_image (two_image.nii.gz)"))
    }

    /// A destination that names an input (here `segment --out` set to the study's own image) fails the study in
    /// write without touching the input.
    @Test func anOutputThatWouldOverwriteAnInputFailsAndTheInputStaysWhole() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try makeStudies(root, names: ["in"])
        let image = root.appendingPathComponent("inputs/in/in_image.nii.gz")
        let before = try Data(contentsOf: image)
        var spec = fakeSpec(root: root)
        spec.outputs.folder = image.deletingLastPathComponent()
        spec.outputs.naming = "in_image"
        spec.outputs.suffixes.labelMap = ".nii.gz"
        spec.outputs.ledger = false
        spec.outputs.summary = false
        let failure = await SingleStudyRun.run(JobGraph(spec: spec, segmenter: FakeSegmenter()), study: image.deletingLastPathComponent())

        #expect(failure.status == .failed && failure.stage == .write)
        #expect(failure.reason == "\(image.path): error: cannot write: refusing to write over the input \(root.appendingPathComponent("inputs/in").path)")
        #expect(try Data(contentsOf: image) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: image.deletingLastPathComponent().path) == ["in_image.nii.gz"])
    }

    /// A second run on the same output folder while the first is still running refuses to start, naming the
    /// holder; once the first has ended, the folder is free again.
    @Test func aSecondRunOnTheSameOutputFolderWaitsItsTurn() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try makeStudies(root, names: ["l1", "l2"])
        let spec = fakeSpec(root: root)
        let slow = FakeSegmenter(delay: 1.0)
        async let first = BatchRun(graph: JobGraph(spec: spec, segmenter: slow)).run()
        while slow.calls.withLock({ $0 }) == 0 { try await Task.sleep(nanoseconds: 20_000_000) }
        do {
            _ = try await BatchRun(graph: JobGraph(spec: spec, segmenter: FakeSegmenter())).run()
            Issue.record("the second run started")
        } catch let error as PipelineError {
            #expect(error.description.hasPrefix("\(spec.outputs.folder.path): error: in use by another universeg run (pid \(getpid()) on \(ProcessInfo.processInfo.hostName), since "),
                    "\(error)")
            #expect(error.hint == "wait for it to end or use another output folder")
        }
        #expect(try await first.done == 2)
        #expect(try await BatchRun(graph: JobGraph(spec: spec, segmenter: FakeSegmenter()), force: true).run().done == 2)
    }

    /// An output that cannot be put in place fails the study with its path, and none of the study's other outputs
    /// appear (they are staged and renamed together); the other studies are written.
    @Test func aStudyWhoseOutputCannotBeWrittenLeavesNoneOfItsOutputs() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try makeStudies(root, names: ["w1", "w2"])
        let spec = fakeSpec(root: root)
        let blocker = spec.outputs.folder.appendingPathComponent("w1/w1_report.json")
        try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: true)
        let result = try await BatchRun(graph: JobGraph(spec: spec, segmenter: FakeSegmenter())).run()

        #expect(result.done == 1 && result.failed == 1)
        let failure = try #require(result.outcomes.first { $0.status == .failed })
        #expect(failure.study.name == "w1" && failure.stage == .write)
        #expect(failure.reason?.contains("w1_report.json is a folder") == true)
        let left = try FileManager.default.contentsOfDirectory(atPath: blocker.deletingLastPathComponent().path)
        #expect(left == ["w1_report.json"])   // the blocking folder only: no label map, QC image or temporary
        #expect(FileManager.default.fileExists(atPath: spec.outputs.folder.appendingPathComponent("w2/w2_seg.nii.gz").path))
    }

    @Test func studiesInFlightStayBoundedHoweverManyAreQueued() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try makeStudies(root, names: (0..<100).map { "q\($0)" })
        let spec = fakeSpec(root: root, writers: [.nifti])
        let graph = JobGraph(spec: spec, segmenter: FakeSegmenter(delay: 0.01), maxInFlight: 2)
        let result = try await BatchRun(graph: graph).run()
        #expect(result.done == 100)
        #expect(result.peakInFlight == 2)
    }

    @Test func aLeftoverTemporaryFromAKilledRunIsRemovedAndTheRunCompletes() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try makeStudies(root, names: ["k1", "k2"])
        let spec = fakeSpec(root: root)
        // What kill -9 during a write leaves: a temporary beside the target, and no ledger line for the study.
        let out = spec.outputs.folder.appendingPathComponent("k1")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("half".utf8).write(to: out.appendingPathComponent(".tmp-1234abcd-k1_seg.nii.gz"))
        let result = try await BatchRun(graph: JobGraph(spec: spec, segmenter: FakeSegmenter())).run()
        #expect(result.done == 2)
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(".tmp-1234abcd-k1_seg.nii.gz").path))
    }

    /// Studies linked into the input folder (a symbolic link per image) are read through the link and stamped
    /// with the target's size and time.
    @Test func aSymlinkedStudyIsSegmented() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try makeStudies(root, names: [])
        let original = root.appendingPathComponent("elsewhere/image.nii.gz")
        try writeFakeVolume(original)
        let link = root.appendingPathComponent("inputs/linked/linked_image.nii.gz")
        try FileManager.default.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: original)
        let result = try await BatchRun(graph: JobGraph(spec: fakeSpec(root: root), segmenter: FakeSegmenter())).run()
        #expect(result.done == 1, "\(result.outcomes.map { $0.reason ?? "" })")
        let size = try FileManager.default.attributesOfItem(atPath: original.path)[.size] as? Int
        #expect(result.outcomes.first?.study.files.map(\.size) == [Int64(size ?? -1)])
    }

    @Test func aTornLedgerLineIsIgnored() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let ledger = Ledger(outputFolder: root)
        try ledger.append(LedgerEntry(study: "x", status: .done, inputFingerprint: "1", pipelineFingerprint: "p",
                                      outputs: [], reason: nil, finishedAt: "t"))
        let handle = try FileHandle(forWritingTo: ledger.url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"study\":\"y\",\"sta".utf8))
        try handle.close()
        #expect(Array(ledger.entries().keys) == ["x"])
        try ledger.append(LedgerEntry(study: "z", status: .done, inputFingerprint: "1", pipelineFingerprint: "p",
                                      outputs: [], reason: nil, finishedAt: "t"))
        #expect(ledger.entries().keys.sorted() == ["x", "z"])
    }
}
