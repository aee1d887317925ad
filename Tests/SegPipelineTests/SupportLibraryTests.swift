import Foundation
import Testing
import VolumeIO
@testable import SegPipeline

/// Sparse annotations, `support check` and `support add`, on real NIfTI files (TestStudy's cube volumes and
/// SampleData's support pairs).
@Suite(.serialized) struct SupportLibraryTests {
    static let brain1 = SampleDataEndToEndTests.sampleData.appendingPathComponent("support/from-brain1")
    static let brain2 = SampleDataEndToEndTests.sampleData.appendingPathComponent("support/from-brain2")

    // MARK: sidecars

    @Test func sidecarsParseEachForm() throws {
        #expect(try Annotation.parse("annotated: all\n", file: "a.yaml", perPair: true) == .all)
        #expect(try Annotation.parse("annotated: labelled\naxis: coronal\n", file: "a.yaml", perPair: false)
                == .labelled(.plane(.coronal)))
        #expect(try Annotation.parse("annotated: slices\naxis: 2\nslices: [9, 3, 3]\n", file: "a.yaml", perPair: true)
                == .slices(.voxel(2), [3, 9]))
    }

    @Test func badSidecarsAreErrorsWithTheirPlace() {
        func problem(_ text: String, perPair: Bool = true) -> String? {
            do { _ = try Annotation.parse(text, file: "x_annotated.yaml", perPair: perPair); return nil } catch {
                return (error as? PipelineSpecError).map { "\($0.file ?? ""): \($0.problem)" }
            }
        }
        #expect(problem("annotated: labelled\n") == "x_annotated.yaml:1:12: annotated: labelled needs an axis")
        #expect(problem("annotated: slices\naxis: axial\n")?.hasSuffix("annotated: slices needs a 'slices' list") == true)
        #expect(problem("annotated: slices\naxis: axial\nslices: [1]\n", perPair: false)?.hasSuffix("slices are per pair") == true)
        #expect(problem("annotated: some\n")?.contains("annotated") == true)
        #expect(problem("annotated: all\ncolour: red\n")?.contains("colour") == true)
        #expect(problem("annotated: labelled\naxis: oblique\n")?.hasSuffix("axis 'oblique' is neither a plane nor a voxel axis") == true)
        #expect(problem("annotated: slices\naxis: 2\nslices: [-1]\n") != nil)
    }

    @Test func sliceListsParseAndPrint() {
        #expect(SliceList.parse("12,18,30-34") == [12, 18, 30, 31, 32, 33, 34])
        #expect(SliceList.parse(" 3 , 1") == [1, 3])
        #expect(SliceList.parse("4-2") == nil && SliceList.parse("a") == nil && SliceList.parse("1,,2") == nil
                && SliceList.parse("-1") == nil)
        #expect(SliceList.text([34, 12, 30, 31, 32, 33, 18]) == "12, 18, 30-34")
    }

    @Test func scanReadsPairAndLibrarySidecarsAndRefusesAnOrphan() throws {
        let library = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: library) }
        try writeFakeSupport(library, name: "a")
        try writeFakeSupport(library, name: "b")
        try "annotated: labelled\naxis: axial\n".write(to: library.appendingPathComponent("library.yaml"), atomically: true, encoding: .utf8)
        try "annotated: slices\naxis: 2\nslices: [2]\n".write(to: library.appendingPathComponent("b_annotated.yaml"), atomically: true, encoding: .utf8)
        let pairs = try LabelledPair.scan(library)
        #expect(pairs.map(\.annotation) == [.labelled(.plane(.axial)), .slices(.voxel(2), [2])])
        #expect(pairs.map { $0.sidecar?.lastPathComponent } == ["library.yaml", "b_annotated.yaml"])
        try "annotated: all\n".write(to: library.appendingPathComponent("c_annotated.yaml"), atomically: true, encoding: .utf8)
        #expect(throws: PairFolderError.self) { try LabelledPair.scan(library) }
        do { _ = try LabelledPair.scan(library) } catch { #expect(error.reason.hasPrefix("c_annotated.yaml belongs to no pair")) }
    }

    // MARK: selection never uses an unannotated slice

    /// The cube fills slices 1-4 along k; only slices 2 and 5 are declared annotated. Slices 1, 3 and 4 hold the
    /// structure but nobody annotated them: they must never be examples, neither positive nor empty.
    @Test func aSparsePairContributesOnlyItsAnnotatedSlices() throws {
        let library = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: library) }
        try writeFakeSupport(library, name: "p")
        try "annotated: slices\naxis: axial\nslices: [2, 5]\n".write(to: library.appendingPathComponent("p_annotated.yaml"), atomically: true, encoding: .utf8)
        let target = TargetSpec(name: "t", value: 1, supportLabels: [1])
        let pool = SupportPool(targets: [target], normalization: .minMax)
        let examples = try pool.examples(LabelledPair.scan(library), target: target, plane: .axial)
        #expect(examples.map(\.slice) == [2, 5])
        #expect(examples.map { $0.foreground > 0 } == [true, false])   // one positive, one "nothing here"
        // Every strategy draws only from them.
        let queries = (0..<6).map { k in ModelSlice(pixels: [Float](repeating: Float(k) / 6, count: ModelSlice.side * ModelSlice.side)) }
        for strategy in SupportStrategy.allCases {
            let request = SupportSelector.Request(strategy: strategy, size: 4, ensemble: 2, groups: 3, seed: 1, streamName: ["s"])
            let groups = try SupportSelector.plan(queries: queries, positions: (0..<6).map { (Double($0) + 0.5) / 6 },
                                                  pool: examples, request, target: "t")
            let used = Set(groups.flatMap { $0.supportSets.flatMap { $0.map(\.slice) } })
            #expect(used.isSubset(of: [2, 5]), "\(strategy)")
        }
        // Cut in another plane, every slice crosses unannotated ones: none is used.
        #expect(try pool.examples(LabelledPair.scan(library), target: target, plane: .sagittal).isEmpty)
        // `labelled`: the slices holding labels, the cube's 1-4.
        try "annotated: labelled\naxis: axial\n".write(to: library.appendingPathComponent("p_annotated.yaml"), atomically: true, encoding: .utf8)
        let labelled = try pool.examples(LabelledPair.scan(library), target: target, plane: .axial)
        #expect(labelled.map(\.slice) == [1, 2, 3, 4] && labelled.allSatisfy { $0.foreground > 0 })
        // Without a sidecar every slice is annotated, as before.
        try FileManager.default.removeItem(at: library.appendingPathComponent("p_annotated.yaml"))
        #expect(try pool.examples(LabelledPair.scan(library), target: target, plane: .axial).map(\.slice) == Array(0..<6))
    }

    /// `evaluate` cuts support volumes with `SlicedVolume`: the same rule for its 2D pool and its whole volumes.
    @Test func evaluationSupportHonoursTheAnnotation() throws {
        let library = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: library) }
        try writeFakeSupport(library, name: "p")
        try "annotated: slices\naxis: 2\nslices: [0, 3]\n".write(to: library.appendingPathComponent("p_annotated.yaml"), atomically: true, encoding: .utf8)
        var config = EvaluationTaskConfig()
        config.axis = 2
        let volume = try SlicedVolume.load(try #require(LabelledPair.scan(library).first), config: config)
        #expect(volume.annotated == [true, false, false, true, false, false])
        #expect(volume.foregroundSlices == [3])
        #expect(volume.examples.map(\.slice) == [0, 3])
    }

    // MARK: support check

    @Test func checkReportsASampleLibrary() async throws {
        let check = try await blocking { try SupportCheck.run(Self.brain1) }
        #expect(check.usable && check.pairs.count == 1)
        let pair = check.pairs[0]
        #expect(pair.shape == [256, 256, 25] && pair.orientation == "LAS" && pair.problems.isEmpty)
        #expect(pair.labels.map(\.value) == [1] && pair.labels[0].voxels == 4137)
        #expect(pair.axes.map(\.annotated) == [256, 256, 25] && pair.axes.map(\.labelled) == [47, 63, 7])
        #expect(pair.axes.map(\.plane) == ["sagittal", "coronal", "axial"])
        #expect(abs(pair.fieldOfView[2] - 162.5) < 1e-3)
    }

    @Test func eachRuleIsCheckedOnRealFiles() async throws {
        let library = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: library) }
        let image = TestStudy.image(shape: [12, 10, 6])
        let cube = image.withVoxels(image.voxels.map { $0 > 50 ? Int32(1) : 0 })
        func write(_ name: String, image: Volume<Float>, label: Volume<Int32>) throws {
            try NiftiWriter.write(image, to: library.appendingPathComponent("\(name)_image.nii.gz"))
            try NiftiWriter.write(label, to: library.appendingPathComponent("\(name)_label.nii.gz"))
        }
        try write("good", image: image, label: cube)
        // The same image again, under another name.
        try write("twin", image: image, label: cube)
        // Label stored the other way along x, over the same extent: another orientation, nothing outside.
        var flipped = TestStudy.affine
        flipped[0, 0] = -2
        flipped[0, 3] = 12
        try write("flipped", image: image.withVoxels(image.voxels.map { $0 + 4 }), label: Volume(shape: cube.shape, affine: flipped, voxels: cube.voxels))
        // Label shifted by 30 mm along S (10 slices): every labelled voxel falls beyond the image.
        var shifted = TestStudy.affine
        shifted[2, 3] = 30
        try write("shifted", image: image.withVoxels(image.voxels.map { $0 + 1 }),
                  label: Volume(shape: cube.shape, affine: shifted, voxels: cube.voxels))
        // Empty label.
        try write("empty", image: image.withVoxels(image.voxels.map { $0 + 2 }), label: cube.withVoxels(cube.voxels.map { _ in 0 }))
        // Sparse: slice 9 does not exist, and slices 2-4 hold labels nobody declared.
        try write("sparse", image: image.withVoxels(image.voxels.map { $0 + 3 }), label: cube)
        try "annotated: slices\naxis: axial\nslices: [1, 9]\n".write(to: library.appendingPathComponent("sparse_annotated.yaml"), atomically: true, encoding: .utf8)

        let check = try await blocking { try SupportCheck.run(library) }
        let byName = Dictionary(uniqueKeysWithValues: check.pairs.map { ($0.name, $0) })
        #expect(!check.usable)
        #expect(byName["good"]!.problems.isEmpty && byName["good"]!.usable)
        #expect(byName["twin"]!.usable && byName["twin"]!.problems.map(\.message) ==
                ["same image as pair good (a duplicate weighs one case twice in support selection)"])
        #expect(byName["flipped"]!.problems.map(\.message) == ["image and label have different orientations (RAS vs LAS)"])
        #expect(byName["shifted"]!.problems.map(\.message) == [
            "image and label are on different grids (their affines differ by up to 30 mm)",
            "\(cube.voxels.filter { $0 != 0 }.count) labelled voxel(s) lie outside the image"])
        #expect(byName["empty"]!.problems.map(\.message) == ["the label map is empty (no voxel holds a label)"])
        #expect(byName["sparse"]!.problems.map(\.severity) == [.unusable, .warning])
        #expect(byName["sparse"]!.problems.map(\.message)[0] == "annotated slice(s) 9 are beyond the 6 slices along axis 2")
        #expect(byName["sparse"]!.problems.map(\.message)[1].hasPrefix("slice(s) 2-4 along axis 2 hold labels"))
        #expect(byName["sparse"]!.axes.map(\.annotated) == [0, 0, 1])
        #expect(byName["sparse"]!.annotatedSlices == PairCheck.AnnotatedList(axis: 2, indices: [1, 9]))
        // Shape differences are named as such.
        let small = TestStudy.image(shape: [12, 10, 5])
        #expect(PairCheck.problems(image: image, label: small.withVoxels(small.voxels.map { $0 > 50 ? 1 : 0 }), annotation: .all)
            .map(\.message) == ["image and label are on different grids (12 x 10 x 6 vs 12 x 10 x 5 voxels)"])
    }

    // MARK: support add

    @Test func addCopiesLinksAndNeverOverwrites() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let library = root.appendingPathComponent("lib")
        let image1 = Self.brain1.appendingPathComponent("brain1_image.nii.gz"), label1 = Self.brain1.appendingPathComponent("brain1_label.nii.gz")
        let image2 = Self.brain2.appendingPathComponent("brain2_image.nii.gz"), label2 = Self.brain2.appendingPathComponent("brain2_label.nii.gz")

        let (pair, check) = try await blocking { try SupportAdd.add(.init(library: library, image: image1, label: label1,
                                                                          annotation: .slices(.plane(.axial), [10, 11, 12]))) }
        #expect(pair.name == "brain1" && pair.annotation == .slices(.plane(.axial), [10, 11, 12]))
        #expect(check.usable && check.sidecar == library.appendingPathComponent("brain1_annotated.yaml").path)
        #expect(try Data(contentsOf: pair.image) == Data(contentsOf: image1))   // a copy, byte for byte
        #expect(try String(contentsOf: library.appendingPathComponent("brain1_annotated.yaml"), encoding: .utf8)
                == "annotated: slices\naxis: axial\nslices: [10, 11, 12]\n")

        func refusal(_ request: SupportAdd.Request) async throws -> String? {
            try await blocking {
                do { _ = try SupportAdd.add(request); return nil } catch { return (error as? SupportAddError)?.problem ?? "\(error)" }
            }
        }
        let before = try FileManager.default.contentsOfDirectory(atPath: library.path).sorted()
        #expect(try await refusal(.init(library: library, image: image2, label: label2, name: "brain1")) == "the library already has a pair named brain1")
        #expect(try await refusal(.init(library: library, image: image1, label: label1, name: "again")) == "the library already holds this image as pair brain1")
        #expect(try await refusal(.init(library: library, image: image2, label: label1)) == "image and label are on different grids (256 x 256 x 23 vs 256 x 256 x 25 voxels)")
        #expect(try await refusal(.init(library: library, image: image2, label: label2, annotation: .slices(.plane(.axial), [40]))) ==
                "annotated slice(s) 40 are beyond the 23 slices along axis 2")
        #expect(try await refusal(.init(library: library, image: image2, label: label2, name: "x_label")) == "'x_label' cannot name a pair")
        #expect(try FileManager.default.contentsOfDirectory(atPath: library.path).sorted() == before)   // nothing written

        let linked = try await blocking { try SupportAdd.add(.init(library: library, image: image2, label: label2, link: true)).pair }
        #expect(linked.annotation == .all && linked.sidecar == nil)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: linked.image.path) == image2.path)
        #expect(try LabelledPair.scan(library).map(\.name) == ["brain1", "brain2"])
        #expect(try await blocking { try SupportCheck.run(library) }.usable)
    }
}
