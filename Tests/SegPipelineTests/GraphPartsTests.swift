import Foundation
import Testing
import VolumeIO
@testable import SegPipeline

@Suite struct GraphPartsTests {
    @Test func aFullChannelMakesTheSenderWait() async {
        let channel = BoundedChannel<Int>(capacity: 2)
        let sent = SentCounter()
        let producer = Task {
            for i in 0..<5 { await channel.send(i); await sent.bump() }
            await channel.finish()
        }
        try? await Task.sleep(nanoseconds: 100_000_000)
        #expect(await sent.value == 2)  // the third send waits for room
        #expect(await channel.bufferedCount == 2)
        var received: [Int] = []
        while let value = await channel.next() { received.append(value) }
        await producer.value
        #expect(received == [0, 1, 2, 3, 4])
    }

    actor SentCounter {
        var value = 0
        func bump() { value += 1 }
    }

    @Test func mergeTakesTheMostProbableTargetAboveThreshold() {
        let labels = LabelMerge.merge([(1, [0.9, 0.6, 0.2, 0.5, 0.7]), (2, [0.4, 0.8, 0.3, 0.5, 0.7])], threshold: 0.5)
        #expect(labels == [1, 2, 0, 1, 1])  // ties go to the earlier target
    }

    @Test func normalizationMethods() {
        let voxels: [Float] = (0...100).map(Float.init)
        #expect(IntensityNormalizer.normalize([10, 20, 30], method: .minmax) == [0, 0.5, 1])
        // Tolerance: one Float rounding step (1e-6) on values in 0...1.
        let windowed = IntensityNormalizer.normalize([-100, 40, 240], method: .window(center: 40, width: 400))
        #expect(zip(windowed, [0.15, 0.5, 1] as [Float]).allSatisfy { abs($0 - $1) <= 1e-6 })
        let range = IntensityNormalizer.range(of: voxels, method: .percentile(lower: 10, upper: 90))
        #expect(range.low == 10 && range.high == 90)
        #expect(IntensityNormalizer.normalize([5, 5, .nan], method: .minmax) == [0, 0, 0])
    }

    static func candidate(_ id: String, modality: String?, description: String, slices: Int, affine: Affine = .identity) -> SeriesCandidate {
        SeriesCandidate(id: id, format: .dicom, modality: modality, description: description, shape: [64, 64, slices],
                        affine: affine, files: [])
    }

    @Test func seriesSelectionAppliesEveryRuleAndSaysWhy() {
        let coronal = Affine(rows: [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]])
        let series = [
            Self.candidate("1", modality: "CT", description: "T1 axial", slices: 40),
            Self.candidate("2", modality: "MR", description: "localizer", slices: 3),
            Self.candidate("3", modality: "MR", description: "T1 post", slices: 30),
            Self.candidate("4", modality: "MR", description: "t1 pre", slices: 50, affine: coronal),
            Self.candidate("5", modality: "MR", description: "T1 3D", slices: 60),
            Self.candidate("6", modality: "MR", description: "T1 thin", slices: 5),
        ]
        let selector = SeriesSelector(modality: "MR", description: "(?i)t1", orientation: .axial, minSlices: 10)
        let outcome = SeriesSelection.choose(series, selector)
        #expect(outcome.chosen.map(\.id) == ["5"])
        #expect(outcome.rejections == [
            "series 1 (T1 axial): modality CT is not MR",
            "series 2 (localizer): description does not match /(?i)t1/",
            "series 4 (t1 pre): slices are coronal, not axial",
            "series 6 (T1 thin): 5 slices, fewer than 10",
        ])
        var first = selector
        first.pick = .first
        #expect(SeriesSelection.choose(series, first).chosen.map(\.id) == ["3"])
    }

    @Test func slicingAxisAndRelativePosition() {
        let las = Affine(rows: [[-0.8, 0, 0, 100], [0, 0.8, 0, -100], [0, 0, 6.5, -50], [0, 0, 0, 1]])
        #expect(Geometry.sliceAxis(.auto, affine: las) == 2)
        #expect(Geometry.sliceAxis(.plane(.sagittal), affine: las) == 0)
        #expect(Geometry.plane(las, sliceAxis: 2) == .axial)
        // Index 0 along i is the patient's right end (x decreasing), so it is position 1 toward R.
        #expect(Geometry.relativePosition(index: 0, count: 5, affine: las, axis: 0) == 1)
        #expect(Geometry.relativePosition(index: 0, count: 5, affine: las, axis: 2) == 0)
    }

    static func example(_ source: String, _ slice: Int, position: Double, foreground: Int) -> SupportExample {
        SupportExample(image: .zero, mask: .zero, source: source, slice: slice, position: position, foreground: foreground)
    }

    @Test func randomSupportDrawsOnlySlicesWithTheLabelAndRepeatsForTheSameSeed() throws {
        let pool = (0..<20).map { Self.example("p", $0, position: Double($0) / 19, foreground: $0 % 2 == 0 ? 10 : 0) }
        let request = SupportSelector.Request(strategy: .random, size: 4, ensemble: 3, groups: 8, seed: 5, streamName: ["s", "t"])
        let plan = try SupportSelector.plan(queries: [.zero, .zero], positions: [0, 1], pool: pool, request, target: "t")
        #expect(plan.count == 1 && plan[0].queries == [0, 1])
        #expect(plan[0].supportSets.count == 3)
        #expect(plan[0].supportSets.allSatisfy { $0.count == 4 && $0.allSatisfy { $0.foreground > 0 } })
        let again = try SupportSelector.plan(queries: [.zero, .zero], positions: [0, 1], pool: pool, request, target: "t")
        #expect(again[0].supportSets.map { $0.map(\.slice) } == plan[0].supportSets.map { $0.map(\.slice) })
        var other = request
        other.streamName = ["another study", "t"]
        let differs = try SupportSelector.plan(queries: [.zero, .zero], positions: [0, 1], pool: pool, other, target: "t")
        #expect(differs[0].supportSets.map { $0.map(\.slice) } != plan[0].supportSets.map { $0.map(\.slice) })
    }

    @Test func positionSupportTakesTheNearestSlicesPerBin() throws {
        let pool = (0..<11).map { Self.example("p", $0, position: Double($0) / 10, foreground: 1) }
        let request = SupportSelector.Request(strategy: .position, size: 3, ensemble: 1, groups: 2, seed: 0, streamName: [])
        let plan = try SupportSelector.plan(queries: [.zero, .zero, .zero, .zero], positions: [0, 0.3, 0.6, 1], pool: pool,
                                            request, target: "t")
        #expect(plan.map(\.queries) == [[0, 1], [2, 3]])
        #expect(plan[0].supportSets[0].map(\.slice).sorted() == [2, 3, 1].sorted())  // nearest to 0.25
        #expect(plan[1].supportSets[0].map(\.slice).sorted() == [7, 8, 6].sorted())  // nearest to 0.75
    }

    @Test func aPoolWithoutTheLabelIsAnError() {
        let pool = [Self.example("p", 0, position: 0, foreground: 0)]
        let request = SupportSelector.Request(strategy: .random, size: 2, ensemble: 1, groups: 1, seed: 0, streamName: [])
        #expect(throws: PipelineError.noSupport(target: "t", reason: "no support slice contains the target's labels")) {
            try SupportSelector.plan(queries: [.zero], positions: [0], pool: pool, request, target: "t")
        }
    }

    @Test func supportLibrariesPairFilesAndAStudyFolderOverrides() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let library = root.appendingPathComponent("lib"), own = root.appendingPathComponent("study/support")
        try writeFakeSupport(library, name: "a")
        try writeFakeSupport(library, name: "b")
        try writeFakeVolume(library.appendingPathComponent("orphan_image.nii.gz"))
        try writeFakeSupport(own, name: "b")
        try writeFakeSupport(own, name: "c")
        #expect(try SupportLibrary.scan(library).map(\.name) == ["a", "b"])
        let added = try SupportLibrary.pairs(libraries: [library], studyFolder: own, mode: .add)
        #expect(added.map(\.name) == ["a", "b", "c"])
        #expect(added[1].image.path.hasPrefix(own.path))  // the study's own 'b' wins
        #expect(try SupportLibrary.pairs(libraries: [library], studyFolder: own, mode: .replace).map(\.name) == ["b", "c"])
        #expect(try SupportLibrary.pairs(libraries: [library], studyFolder: root.appendingPathComponent("none"), mode: .replace).map(\.name) == ["a", "b"])
    }

    @Test func namingPatterns() {
        #expect(NamingPattern.problem(in: "{study}/{series}") == nil)
        #expect(NamingPattern.problem(in: "../{study}") != nil)
        #expect(NamingPattern.problem(in: "{series}") == "'naming' must contain {study}, or every study would write to the same files")
        #expect(NamingPattern.expand("{pipeline}/{study}_{series}", study: "a b", series: "1.2/3", pipeline: "p") == "p/a_b_1.2_3")
    }

    @Test func qcShowsTheFullestSliceAndSpreadsTheRest() {
        var labels = Volume<Int32>(shape: [4, 4, 10], affine: .identity, voxels: [Int32](repeating: 0, count: 160))
        for k in 2...7 { labels[1, 1, k] = 1 }
        for i in 0..<4 { for j in 0..<4 { labels[i, j, 6] = 1 } }
        let slices = QCImage.chooseSlices(labels: labels, axis: 2, count: 3)
        #expect(slices.contains(6) && slices.count == 3 && slices.allSatisfy { (2...7).contains($0) })
        let empty = Volume<Int32>(shape: [4, 4, 10], affine: .identity, voxels: [Int32](repeating: 0, count: 160))
        #expect(QCImage.chooseSlices(labels: empty, axis: 2, count: 4) == [1, 3, 6, 8])
    }
}
