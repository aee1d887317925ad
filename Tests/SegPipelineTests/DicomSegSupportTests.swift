import Foundation
import Testing
import VolumeIO
@testable import SegPipeline

/// Support pairs from a DICOM series and a DICOM SEG referencing it: SEGs written by this tool (DicomSegWriter)
/// and by highdicom (Tests/VolumeIOTests/Fixtures/dicom/seg/brain1-mr-highdicom-seg.dcm), over SampleData's
/// brain1 MR series.
@Suite(.serialized) struct DicomSegSupportTests {
    static let series = SampleDataEndToEndTests.sampleData.appendingPathComponent("dicom-study/brain1-mr")
    static let highdicomSeg = SampleDataEndToEndTests.repo
        .appendingPathComponent("Tests/VolumeIOTests/Fixtures/dicom/seg/brain1-mr-highdicom-seg.dcm")

    /// The pattern make_highdicom_seg.py writes: (segment, slices, rows, columns), inclusive.
    static let boxes: [(Int32, ClosedRange<Int>, ClosedRange<Int>, ClosedRange<Int>)] = [
        (1, 10...14, 100...139, 80...149),
        (2, 12...13, 60...79, 120...159),
    ]

    /// The boxes as a label map on the series' volume (i = column, j = row, k = slice along the normal).
    static func boxLabels(on image: Volume<Float>) -> Volume<Int32> {
        var labels = image.withVoxels([Int32](repeating: 0, count: image.count))
        for (value, slices, rows, columns) in boxes {
            for k in slices { for j in rows { for i in columns { labels[i, j, k] = value } } }
        }
        return labels
    }

    /// A library with one subfolder: a copy of the series and `seg` (written by `write` when nil).
    static func library(seg: URL?) throws -> (root: URL, image: Volume<Float>) {
        let root = try temporaryFolder("seg-\(UUID().uuidString)")
        let folder = root.appendingPathComponent("case1")
        try FileManager.default.copyItem(at: series, to: folder)
        let image = try DicomReader.readVolume(try #require(DicomReader.scan(folder).series.first))
        let destination = folder.appendingPathComponent("annotation.dcm")
        if let seg {
            try FileManager.default.copyItem(at: seg, to: destination)
        } else {
            try DicomSegWriter.write(boxLabels(on: image), segments: [DicomSegSegment(value: 1, label: "box"), DicomSegSegment(value: 2, label: "small")], to: destination)
        }
        return (root, image)
    }

    @Test(arguments: ["universeg", "highdicom"])
    func aSegPairReadsOntoItsSeriesWithItsFramesAsAnnotation(_ writer: String) async throws {
        // The DICOM reading and slicing run on a thread of their own (see `blocking`).
        let seg = writer == "highdicom" ? Self.highdicomSeg : nil
        let (root, image) = try await blocking { try Self.library(seg: seg) }
        defer { try? FileManager.default.removeItem(at: root) }
        let pairs = try LabelledPair.scan(root)
        #expect(pairs.map(\.name) == ["case1"])
        let pair = try #require(pairs.first)
        #expect(pair.source == .dicomSeg(seriesInstanceUID: try #require(DicomReader.scan(Self.series).series.first).seriesInstanceUID))
        #expect(pair.annotation == .segFrames)

        let read = try await blocking { try StudyReader.readSupport(pair) }
        #expect(read.label.shape == image.shape && read.label.affine == image.affine)
        #expect(read.label.voxels == Self.boxLabels(on: image).voxels)   // segment numbers, voxel for voxel
        #expect(read.annotated == .along(axis: 2, indices: Set(10...14)))

        // Target labels choose segments by number; only framed slices are examples.
        let box = TargetSpec(name: "box", value: 1, supportLabels: [1]), small = TargetSpec(name: "small", value: 2, supportLabels: [2])
        let pool = SupportPool(targets: [box, small], normalization: .minMax)
        let (boxExamples, smallExamples) = try await blocking {
            (try pool.examples([pair], target: box, plane: .axial), try pool.examples([pair], target: small, plane: .axial))
        }
        #expect(boxExamples.map(\.slice).sorted() == Array(10...14) && boxExamples.allSatisfy { $0.foreground > 0 })
        #expect(smallExamples.map(\.slice).sorted() == Array(10...14))
        #expect(smallExamples.filter { $0.foreground > 0 }.map(\.slice).sorted() == [12, 13])

        let check = try await blocking { try SupportCheck.run(root) }
        #expect(check.usable, "\(check.pairs.map(\.problems))")
        #expect(check.pairs[0].labels.map(\.voxels) == [14000, 1600])
        #expect(check.pairs[0].axes.map(\.annotated) == [0, 0, 5])
    }

    /// The same slices as a NIfTI pair with a sparse sidecar give the same examples: one geometry for both.
    @Test func aSegPairEqualsTheSameAnnotationAsNifti() async throws {
        let (root, image) = try await blocking { try Self.library(seg: nil) }
        let nifti = try temporaryFolder("nifti-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root); try? FileManager.default.removeItem(at: nifti) }
        try NiftiWriter.write(image, to: nifti.appendingPathComponent("case1_image.nii.gz"))
        try NiftiWriter.write(Self.boxLabels(on: image), to: nifti.appendingPathComponent("case1_label.nii.gz"))
        try "annotated: slices\naxis: 2\nslices: [10, 11, 12, 13, 14]\n"
            .write(to: nifti.appendingPathComponent("case1_annotated.yaml"), atomically: true, encoding: .utf8)
        let target = TargetSpec(name: "box", value: 1, supportLabels: [1])
        let pool = SupportPool(targets: [target], normalization: .minMax)
        let (fromSeg, fromNifti) = try await blocking {
            (try pool.examples(LabelledPair.scan(root), target: target, plane: .axial),
             try pool.examples(LabelledPair.scan(nifti), target: target, plane: .axial))
        }
        #expect(fromSeg.count == 5 && fromSeg == fromNifti)
    }

    @Test func aFolderWithoutItsSegOrSeriesIsAnError() async throws {
        let (root, _) = try await blocking { try Self.library(seg: Self.highdicomSeg) }
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("case1")
        // The series without its SEG.
        try FileManager.default.moveItem(at: folder.appendingPathComponent("annotation.dcm"), to: root.appendingPathComponent("annotation.dcm.keep"))
        do { _ = try LabelledPair.scan(root); Issue.record("no error") } catch {
            #expect(error.folder == folder.path && error.reason == "holds no DICOM SEG (1 image series, 0 other file(s))")
        }
        // The SEG without its series.
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            try FileManager.default.removeItem(at: folder.appendingPathComponent(file))
        }
        try FileManager.default.moveItem(at: root.appendingPathComponent("annotation.dcm.keep"), to: folder.appendingPathComponent("annotation.dcm"))
        do { _ = try LabelledPair.scan(root); Issue.record("no error") } catch {
            #expect(error.folder == folder.appendingPathComponent("annotation.dcm").path)
            #expect(error.reason.hasSuffix(", which is not in case1/"))
        }
    }

    /// A pipeline segments a DICOM study with a SEG pair as its support: the SEG the pipeline wrote for brain1
    /// (its own label copied back), filed next to the series. Every support slice used is one the SEG has a frame
    /// on, and those slices get their label back.
    @Test func aPipelineUsesASegPairAsSupport() async throws {
        let out = try temporaryFolder()
        let library = try temporaryFolder("seg-library-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: library) }
        let first = try SampleDataEndToEndTests.copyingSpec("brain-lesion-dicom", library: "from-brain1",
                                                            output: out.appendingPathComponent("first"))
        let made = try #require(try await BatchRun(graph: JobGraph(spec: first, segmenter: SampleDataEndToEndTests.CopySupportSegmenter()))
            .run().outcomes.first)
        let firstSeg = out.appendingPathComponent("first").appendingPathComponent(try #require(made.outputs.first { $0.hasSuffix(".dcm") }))
        let firstLabels = try NiftiReader.readLabels(out.appendingPathComponent("first").appendingPathComponent(try #require(made.outputs.first { $0.hasSuffix(".nii.gz") })))
        try FileManager.default.copyItem(at: Self.series, to: library.appendingPathComponent("brain1"))
        try FileManager.default.copyItem(at: firstSeg, to: library.appendingPathComponent("brain1/brain1-seg.dcm"))

        var spec = first
        spec.support.libraries = [library]
        spec.outputs.folder = out.appendingPathComponent("second")
        let result = try await BatchRun(graph: JobGraph(spec: spec, segmenter: SampleDataEndToEndTests.CopySupportSegmenter())).run()
        let outcome = try #require(result.outcomes.first)
        #expect(result.done == 1, "\(outcome.reason ?? "")")
        let pair = try #require(LabelledPair.scan(library).first)
        let annotated = try await blocking { try StudyReader.readSupport(pair).annotated }
        let framed = try #require({ if case .along(_, let indices) = annotated { return indices } else { return nil } }())
        let used = try #require(outcome.report?.targets.first?.supportUsed)
        #expect(!used.isEmpty && used.allSatisfy { $0.hasPrefix("brain1:") && framed.contains(Int($0.dropFirst(7))!) }, "\(used) \(framed)")
        let labels = try NiftiReader.readLabels(out.appendingPathComponent("second").appendingPathComponent(try #require(outcome.outputs.first { $0.hasSuffix(".nii.gz") })))
        let frame = labels.shape[0] * labels.shape[1]
        let onFramed = { (v: [Int32]) in framed.sorted().flatMap { k in v[(k * frame)..<((k + 1) * frame)] } }
        let dice = SampleDataEndToEndTests.dice(onFramed(labels.voxels), onFramed(firstLabels.voxels))
        #expect(dice > 0.9, "Dice \(dice) on the framed slices \(framed.sorted())")
    }

    /// A target may name SEG segments by SegmentLabel in `labels:` (case-insensitive), as it gives values.
    @Test func targetsChooseSegmentsByNumberOrLabel() async throws {
        let (root, _) = try await blocking { try Self.library(seg: Self.highdicomSeg) }
        defer { try? FileManager.default.removeItem(at: root) }
        let yaml = """
            inputs: {folder: in}
            support: {library: lib}
            targets:
              - {name: by-number, value: 1, labels: [2]}
              - {name: by-name, value: 2, labels: [SMALL]}
            outputs: {folder: out}
            """
        try FileManager.default.createDirectory(at: root.appendingPathComponent("in"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("lib"), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: root.appendingPathComponent("case1"), to: root.appendingPathComponent("lib/case1"))
        let (parsed, diagnostics) = PipelineSpecParser.check(yaml, file: "p.yaml", baseFolder: root)
        let spec = try #require(parsed, "\(diagnostics)")
        #expect(spec.targets.map(\.supportLabels) == [[2], []] && spec.targets.map(\.supportSegmentLabels) == [[], ["SMALL"]])
        let pair = try #require(LabelledPair.scan(root.appendingPathComponent("lib")).first)
        let pool = SupportPool(targets: spec.targets, normalization: .minMax)
        let targets = spec.targets
        let (byNumber, byName) = try await blocking {
            (try pool.examples([pair], target: targets[0], plane: .axial), try pool.examples([pair], target: targets[1], plane: .axial))
        }
        #expect(byName.map(\.mask) == byNumber.map(\.mask) && byName.filter { $0.foreground > 0 }.count == 2)
    }
}
