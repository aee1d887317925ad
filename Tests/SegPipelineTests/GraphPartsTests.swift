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
        await channel.untilSendersWait(1)   // a gate, not a sleep: returns once a send is waiting for room
        #expect(await sent.value == 2)  // the third send is the one waiting
        #expect(await channel.bufferedCount == 2)
        var received: [Int] = []
        while let value = await channel.next() { received.append(value) }
        await producer.value
        #expect(received == [0, 1, 2, 3, 4])
    }

    final class Token: Sendable {}

    /// A received element must not stay referenced by the channel: jobs carry whole volumes, and a channel that kept
    /// consumed jobs made memory grow with the number of studies (60 sample studies: 341 MiB, now 126 MiB).
    @Test func aReceivedElementIsNotKeptAlive() async {
        let channel = BoundedChannel<Token>(capacity: 4)
        weak var first: Token?
        weak var second: Token?
        do {
            let a = Token(), b = Token()
            first = a
            second = b
            await channel.send(a)
            await channel.send(b)
        }
        _ = await channel.next()
        #expect(first == nil && second != nil)
        _ = await channel.next()
        #expect(second == nil)
    }

    actor SentCounter {
        var value = 0
        func bump() { value += 1 }
    }

    @Test func mergeTakesTheMostProbableTargetAboveThreshold() {
        let labels = LabelMerge.merge([(1, [0.9, 0.6, 0.2, 0.5, 0.7]), (2, [0.4, 0.8, 0.3, 0.5, 0.7])], threshold: 0.5)
        #expect(labels == [1, 2, 0, 1, 1])  // ties go to the earlier target
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

    /// A support pair and the same pair stored with k reversed (an LPI-style flip) give the same examples in the
    /// same order with the same positions: slicing goes through VolumeIO's canonical frame.
    @Test func supportSlicesAgreeWhateverTheStorageOrderAndFollowTheQueryPlane() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let shape = [12, 10, 6]
        let image = TestStudy.image(shape: shape)
        var ramp = image.voxels
        for k in 0..<6 { for n in 0..<120 { ramp[k * 120 + n] += Float(k * 7) } }   // slices differ
        let stored = image.withVoxels(ramp)
        let label = stored.withVoxels(ramp.map { $0 > 50 ? Int32(1) : 0 })
        // The flipped copy: voxel k holds the old slice 5 - k, and the affine walks k downward from the old top.
        var flippedAffine = TestStudy.affine
        flippedAffine[2, 2] = -3
        flippedAffine[2, 3] = 15
        func flip<V>(_ v: Volume<V>) -> Volume<V> {
            Volume(shape: shape, affine: flippedAffine, voxels: (0..<6).reversed().flatMap { k in v.voxels[(k * 120)..<((k + 1) * 120)] })
        }
        for (name, pair) in [("a", (stored, label)), ("b", (flip(stored), flip(label)))] {
            try NiftiWriter.write(pair.0, to: root.appendingPathComponent("lib-\(name)/p_image.nii.gz"))
            try NiftiWriter.write(pair.1, to: root.appendingPathComponent("lib-\(name)/p_label.nii.gz"))
        }
        let target = TargetSpec(name: "t", value: 1, supportLabels: [1])
        let pool = SupportPool(targets: [target], normalization: .minMax)
        let a = try pool.examples(LabelledPair.scan(root.appendingPathComponent("lib-a")), target: target, plane: .axial)
        let b = try pool.examples(LabelledPair.scan(root.appendingPathComponent("lib-b")), target: target, plane: .axial)
        #expect(a.count == 6 && b.count == 6)
        #expect(a.map(\.position) == [1, 3, 5, 7, 9, 11].map { Double($0) / 12 })
        #expect(a.map(\.position) == b.map(\.position))
        #expect(a.map(\.image) == b.map(\.image) && a.map(\.mask) == b.map(\.mask))
        #expect(a.map(\.slice) == [0, 1, 2, 3, 4, 5] && b.map(\.slice) == [5, 4, 3, 2, 1, 0])  // as numbered in each file
        #expect(a.allSatisfy { Set($0.mask.pixels).isSubset(of: [0, 1]) })                // binary masks
        #expect(a.map(\.foreground).filter { $0 > 0 }.count == 4)                          // the cube's 4 slices
        // Asked for the query's sagittal plane, the same pair gives one example per voxel along R.
        #expect(try pool.examples(LabelledPair.scan(root.appendingPathComponent("lib-a")), target: target, plane: .sagittal).count == 12)
    }

    /// `watch` runs for days with one pool: an example replaced in the library is read again, not served stale.
    @Test func aReplacedSupportFileIsReadAgain() throws {
        let library = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: library) }
        try writeFakeSupport(library, name: "a")
        let target = TargetSpec(name: "t", value: 1, supportLabels: [1])
        let pool = SupportPool(targets: [target], normalization: .minMax)
        let before = try pool.examples(LabelledPair.scan(library), target: target, plane: .axial)
        #expect(before.count == 6)
        try writeFakeSupport(library, name: "a", shape: [12, 10, 8])
        let after = try pool.examples(LabelledPair.scan(library), target: target, plane: .axial)
        #expect(after.count == 8)
        #expect(pool.cachedCount == 1)   // the new reading replaced the old one
    }

    static func example(_ source: String, _ slice: Int, position: Double, foreground: Int) -> SupportExample {
        SupportExample(image: .zero, mask: .zero, source: source, slice: slice, position: position, foreground: foreground,
                       pixelSize: 1)
    }

    @Test func aSupportFieldOfViewFarFromTheStudysIsNoted() {
        #expect(FieldOfView.mismatch(supportPixelSizes: [1.2, 1.4, 0.9], studyPixel: 1, support: "s") == nil)
        #expect(FieldOfView.mismatch(supportPixelSizes: [3, 0.5, 2.5], studyPixel: 1, support: "support for 'liver'")
            == "support for 'liver' covers 2.50x the study's field of view (2.50 mm vs 1.00 mm per model pixel), so "
            + "anatomy looks 2.50x smaller there than in the study; support cut to a similar field of view matches better")
        #expect(FieldOfView.mismatch(supportPixelSizes: [0.5], studyPixel: 1, support: "s")?.contains("looks 2.00x larger") == true)
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

    @Test func randomSupportUsesEveryLabelledSliceWhenThereAreFewerThanTheSize() throws {
        let pool = (0..<20).map { Self.example("p", $0, position: Double($0) / 19, foreground: $0 < 3 ? 10 : 0) }
        let request = SupportSelector.Request(strategy: .random, size: 16, ensemble: 2, groups: 1, seed: 1, streamName: [])
        let plan = try SupportSelector.plan(queries: [.zero], positions: [0.5], pool: pool, request, target: "t")
        #expect(plan[0].supportSets.map { $0.map(\.slice).sorted() } == [[0, 1, 2], [0, 1, 2]])
    }

    @Test func positionSupportTakesTheNearestSlicesPerBin() throws {
        let pool = (0..<11).map { Self.example("p", $0, position: Double($0) / 10, foreground: 1) }
        let request = SupportSelector.Request(strategy: .position, size: 3, ensemble: 1, groups: 2, seed: 0, streamName: [])
        let plan = try SupportSelector.plan(queries: [.zero, .zero, .zero, .zero], positions: [0.1, 0.35, 0.6, 0.95],
                                            pool: pool, request, target: "t")
        #expect(plan.map(\.queries) == [[0, 1], [2, 3]])
        #expect(plan[0].supportSets[0].map(\.slice).sorted() == [1, 2, 3])  // nearest to 0.225, the bin's mean
        #expect(plan[1].supportSets[0].map(\.slice).sorted() == [7, 8, 9])  // nearest to 0.775
    }

    /// Support covering levels 0-9 of a body, a study covering levels 5-9: by relative position the study's first
    /// slice would meet level 0 or 1; aligned by image similarity, each study slice meets its own level.
    @Test func alignedSupportMeetsTheSameLevelWhenTheFieldsOfViewDiffer() throws {
        func level(_ n: Int) -> ModelSlice {   // a bright band whose place and width tell the level
            ModelSlice(pixels: (0..<(128 * 128)).map { p in (p / 128) / 12 == n || (p % 128) / 12 == n ? 1 : 0.1 })
        }
        let pool = (0..<10).map { k in
            SupportExample(image: level(k), mask: .zero, source: "s", slice: k, position: (Double(k) + 0.5) / 10,
                           foreground: 1, pixelSize: 1)
        }
        let queries = (5..<10).map(level), positions = (0..<5).map { (Double($0) + 0.5) / 5 }
        let aligned = try SupportSelector.plan(queries: queries, positions: positions, pool: pool, SupportSelector.Request(
            strategy: .aligned, size: 1, ensemble: 1, groups: 5, seed: 0, streamName: []), target: "t")
        #expect(aligned.map { $0.supportSets[0].map(\.slice) } == [[5], [6], [7], [8], [9]])
        let plain = try SupportSelector.plan(queries: queries, positions: positions, pool: pool, SupportSelector.Request(
            strategy: .position, size: 1, ensemble: 1, groups: 5, seed: 0, streamName: []), target: "t")
        #expect([0, 1].contains(plain[0].supportSets[0][0].slice))
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
        _ = FileManager.default.createFile(atPath: library.appendingPathComponent("README.txt").path, contents: Data())
        try writeFakeSupport(own, name: "b")
        try writeFakeSupport(own, name: "c")
        #expect(try LabelledPair.scan(library).map(\.name) == ["a", "b"])
        let added = try SupportLibrary.pairs(libraries: [library], studyFolder: own, mode: .add)
        #expect(added.map(\.name) == ["a", "b", "c"])
        #expect(added[1].image.path.hasPrefix(own.path))  // the study's own 'b' wins
        #expect(try SupportLibrary.pairs(libraries: [library], studyFolder: own, mode: .replace).map(\.name) == ["b", "c"])
        #expect(try SupportLibrary.pairs(libraries: [library], studyFolder: root.appendingPathComponent("none"), mode: .replace).map(\.name) == ["a", "b"])
    }

    /// A support file left out silently (or picked by listing order) would change every segmentation made with
    /// the library, so an incomplete or ambiguous pair stops the scan with the file's name.
    @Test(arguments: [("orphan_image.nii.gz", "orphan_image.nii.gz has no orphan_label.nii.gz"),
                      ("orphan_label.nii", "orphan_label.nii has no orphan_image.nii.gz"),
                      ("a_image.nii", "two images named a: a_image.nii and a_image.nii.gz"),
                      ("notes.nii.gz", "notes.nii.gz is neither NAME_image nor NAME_label")])
    func incompleteOrAmbiguousPairsAreErrorsNamingTheFile(extra: String, reason: String) throws {
        let library = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: library) }
        try writeFakeSupport(library, name: "a")
        try writeFakeVolume(library.appendingPathComponent(extra))
        #expect(throws: PairFolderError(folder: library.path, reason: reason)) { try LabelledPair.scan(library) }
        #expect(throws: PairFolderError.self) {
            try SupportLibrary.pairs(libraries: [library], studyFolder: nil, mode: .add)
        }
    }

    @Test func pairExtensionsMatchInAnyCase() throws {
        let library = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: library) }
        try writeFakeVolume(library.appendingPathComponent("a_image.nii.gz"))
        try FileManager.default.moveItem(at: library.appendingPathComponent("a_image.nii.gz"),
                                         to: library.appendingPathComponent("a_image.NII.GZ"))
        try writeFakeVolume(library.appendingPathComponent("a_label.nii"))
        try writeFakeVolume(library.appendingPathComponent("B_IMAGE.NII"))
        try writeFakeVolume(library.appendingPathComponent("B_LABEL.NII"))
        let pairs = try LabelledPair.scan(library)
        #expect(pairs.map(\.name) == ["B", "a"])
        #expect(pairs.last?.image.lastPathComponent == "a_image.NII.GZ")
        #expect(NiftiFileName.stem("CT.Nii.Gz") == "CT" && NiftiFileName.extension(of: "x.nii.gzip") == nil)
        #expect(NiftiFileName.stem("pair.HDR") == "pair" && NiftiFileName.stem("pair.hdr.gz") == "pair")

        // A study folder exported by a Windows tool: the image is found by the usual pattern, the label is not.
        let study = library.appendingPathComponent("study")
        try writeFakeVolume(study.appendingPathComponent("T1.nii.gz"))
        try FileManager.default.moveItem(at: study.appendingPathComponent("T1.nii.gz"), to: study.appendingPathComponent("T1.NII.GZ"))
        try writeFakeVolume(study.appendingPathComponent("T1_LABEL.NII"))
        let input = StudyDiscovery.stamp(study, name: "study", isFolder: true)
        #expect(StudyDiscovery.imageFiles(of: input, pattern: "*.nii*").map(\.lastPathComponent) == ["T1.NII.GZ"])
    }

    /// A corrupt slice and a stray file in a DICOM study are named in the series' warnings, not only seen as a gap.
    @Test func filesLeftOutOfEverySeriesAreNamed() throws {
        let study = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: study) }
        let source = SampleDataEndToEndTests.sampleData.appendingPathComponent("dicom-study/brain1-mr")
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: study.appendingPathComponent(name))
        }
        let cut = study.appendingPathComponent("IM0012.dcm")
        try Data(try Data(contentsOf: cut).prefix(600)).write(to: cut)
        try Data("exported by PACS".utf8).write(to: study.appendingPathComponent("notes.txt"))

        let candidates = try StudyReader.dicomSeries(in: study)
        // The dropped slice keeps its empty place, so the volume still has 25 slices.
        #expect(candidates.count == 1 && candidates[0].shape[2] == 25)
        let note = try #require(candidates[0].warnings.first { $0.hasPrefix("2 file(s) in the study are in no image series") })
        #expect(note.contains("IM0012.dcm (") && note.contains("notes.txt ("), "\(note)")
    }

    @Test func aContainerCPUQuotaCapsTheDefaultThreads() {
        #expect(UsableCores.limited(64, quota: "200000 100000\n") == 2)     // docker --cpus 2 (cgroup v2)
        #expect(UsableCores.limited(64, quota: "150000 100000") == 2)       // 1.5 CPUs: rounded up
        #expect(UsableCores.limited(4, quota: "800000 100000") == 4)        // a quota above the visible cores
        #expect(UsableCores.limited(8, quota: "max 100000") == 8)           // no limit (v2)
        #expect(UsableCores.limited(8, quota: "-1 100000") == 8)            // no limit (v1)
        #expect(UsableCores.limited(8, quota: nil) == 8)
        #expect(UsableCores.limited(8, quota: "garbage") == 8)
        #expect(UsableCores.count >= 1)
    }

    @Test func namingPatterns() {
        #expect(NamingPattern.problem(in: "{study}/{series}") == nil)
        #expect(NamingPattern.problem(in: "../{study}") != nil)
        #expect(NamingPattern.problem(in: "{series}") == "'naming' must contain {study}, or every study would write to the same files")
        #expect(NamingPattern.expand("{pipeline}/{study}_{series}", study: "a b", series: "1.2/3", pipeline: "p") == "p/a_b_1.2_3")
    }

    /// The same anatomy stored RAS, LAS (i flipped) and with i and k swapped gives the same picture.
    @Test func qcPictureDoesNotDependOnStorageOrder() {
        let shape = [9, 7, 5]
        let ras = Affine(rows: [[1.5, 0, 0, -6], [0, 2, 0, -7], [0, 0, 3, 2], [0, 0, 0, 1]])
        var image = Volume<Float>(shape: shape, affine: ras, voxels: (0..<315).map { Float(($0 * 37) % 101) })
        var labels = image.withVoxels([Int32](repeating: 0, count: 315))
        for (i, j, k) in [(2, 3, 1), (2, 4, 1), (2, 5, 2), (3, 3, 1), (6, 1, 2), (1, 1, 3), (4, 4, 4)] { labels[i, j, k] = 1 }
        labels[5, 2, 2] = 2
        image[0, 0, 0] = 500
        // LAS: native i runs toward L, so native (i, j, k) holds RAS voxel (8 - i, j, k).
        let las = Affine(rows: [[-1.5, 0, 0, 6], [0, 2, 0, -7], [0, 0, 3, 2], [0, 0, 0, 1]])
        // SAR: native axes (k, j, i) of the RAS grid.
        let sar = Affine(rows: [[0, 0, 1.5, -6], [0, 2, 0, -7], [3, 0, 0, 2], [0, 0, 0, 1]])
        func stored<V>(_ v: Volume<V>, shape: [Int], affine: Affine, _ from: (Int, Int, Int) -> (Int, Int, Int)) -> Volume<V> {
            var out = [V]()
            for k in 0..<shape[2] { for j in 0..<shape[1] { for i in 0..<shape[0] { let r = from(i, j, k); out.append(v[r.0, r.1, r.2]) } } }
            return Volume(shape: shape, affine: affine, voxels: out)
        }
        for plane in AnatomicalPlane.allCases {
            let reference = QCImage.render(image: image, labels: labels, plane: plane, values: [1, 2], panels: 3, panelSide: 40)
            let flipped = QCImage.render(image: stored(image, shape: shape, affine: las) { (8 - $0, $1, $2) },
                                         labels: stored(labels, shape: shape, affine: las) { (8 - $0, $1, $2) },
                                         plane: plane, values: [1, 2], panels: 3, panelSide: 40)
            let swapped = QCImage.render(image: stored(image, shape: [5, 7, 9], affine: sar) { ($2, $1, $0) },
                                         labels: stored(labels, shape: [5, 7, 9], affine: sar) { ($2, $1, $0) },
                                         plane: plane, values: [1, 2], panels: 3, panelSide: 40)
            #expect(reference.rgb.contains(255) && reference.slices.count == 3, "\(plane)")
            for other in [flipped, swapped] {
                #expect(other.width == reference.width && other.height == reference.height, "\(plane)")
                #expect(other.rgb == reference.rgb && other.slices == reference.slices, "\(plane)")
            }
        }
    }

    @Test func qcShowsWhereTheLabelStartsAndEndsAndTheFullestSlice() {
        var labels = Volume<Int32>(shape: [4, 4, 12], affine: .identity, voxels: [Int32](repeating: 0, count: 192))
        for k in 2...7 { labels[1, 1, k] = 1 }
        for i in 0..<4 { for j in 0..<4 { labels[i, j, 6] = 1 } }
        labels[3, 3, 10] = 1   // a stray shape far from the structure
        let frame = CanonicalFrame(shape: labels.shape, affine: .identity)
        let three = QCImage.chooseSlices(labels: labels, frame: frame, axis: 2, count: 3)
        #expect(three == [2, 6, 10])
        let five = QCImage.chooseSlices(labels: labels, frame: frame, axis: 2, count: 5)
        #expect(five.count == 5 && [2, 6, 10].allSatisfy(five.contains) && five.allSatisfy { (2...7).contains($0) || $0 == 10 })
        // Stored upside down (k toward inferior), the same anatomical slices are chosen, counted toward S.
        let flippedAffine = Affine(rows: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, -1, 11], [0, 0, 0, 1]])
        var flipped = labels
        flipped.affine = flippedAffine
        for k in 0..<12 { for j in 0..<4 { for i in 0..<4 { flipped[i, j, k] = labels[i, j, 11 - k] } } }
        #expect(QCImage.chooseSlices(labels: flipped, frame: CanonicalFrame(shape: flipped.shape, affine: flippedAffine),
                                     axis: 2, count: 3) == [2, 6, 10])
        let empty = Volume<Int32>(shape: [4, 4, 10], affine: .identity, voxels: [Int32](repeating: 0, count: 160))
        #expect(QCImage.chooseSlices(labels: empty, frame: CanonicalFrame(shape: empty.shape, affine: .identity), axis: 2, count: 4) == [1, 3, 6, 8])
    }

    @Test func qcStripLightsLabelledSlicesAndTicksTheShownOnes() {
        let strip = QCImage.sliceStrip(area: [0, 5, 0, 0], shown: [1], width: 8, colour: (255, 40, 40))
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(strip.rgb[((y * 8 + x) * 3)..<((y * 8 + x) * 3 + 3)]) }
        #expect(pixel(2, 5) == [255, 40, 40] && pixel(3, 5) == [255, 40, 40])   // slice 1: labelled
        #expect(pixel(0, 5) == [48, 48, 48] && pixel(7, 5) == [48, 48, 48])     // slices 0 and 3: empty
        #expect(pixel(2, 0) == [255, 255, 255] && pixel(0, 0) == [0, 0, 0])     // tick over the shown slice only
    }

    /// The slices to annotate next are ticked under the strip in their target's colour, at the same anatomical
    /// place however the file is stored.
    @Test func qcTicksTheSlicesToAnnotateNext() {
        let strip = QCImage.sliceStrip(area: [0, 5, 0, 0], shown: [1], width: 8, colour: (255, 40, 40),
                                       marks: [(slice: 3, colour: (40, 255, 40))])
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(strip.rgb[((y * 8 + x) * 3)..<((y * 8 + x) * 3 + 3)]) }
        #expect(strip.height == 14)
        #expect(pixel(6, 12) == [40, 255, 40] && pixel(7, 13) == [40, 255, 40])   // slice 3: marked
        #expect(pixel(2, 12) == [0, 0, 0] && pixel(6, 10) == [0, 0, 0])          // others, and the gap row, dark
        #expect(QCImage.sliceStrip(area: [0, 5, 0, 0], shown: [1], width: 8, colour: (255, 40, 40)).height == 10)

        // Native slice 1 of a volume stored with k toward inferior is canonical slice 10 - 1 - 1 = 8 of 10.
        let flippedAffine = Affine(rows: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, -1, 9], [0, 0, 0, 1]])
        let image = Volume<Float>(shape: [4, 4, 10], affine: flippedAffine, voxels: (0..<160).map(Float.init))
        let labels = image.withVoxels([Int32](repeating: 0, count: 160))
        let picture = QCImage.render(image: image, labels: labels, plane: .axial, values: [1], colors: [TargetLegend.palette[1]],
                                     panels: 2, panelSide: 20, annotateNext: [[1]])
        let row = picture.height - 2
        let lit = (0..<picture.width).filter { x in
            let p = (row * picture.width + x) * 3
            return picture.rgb[p] == TargetLegend.palette[1].red && picture.rgb[p + 1] == TargetLegend.palette[1].green
                && picture.rgb[p + 2] == TargetLegend.palette[1].blue
        }
        #expect(!lit.isEmpty && lit.allSatisfy { $0 * 10 / picture.width == 8 }, "\(lit) of \(picture.width)")
    }
}
