import Foundation
import Testing
import VolumeIO
@testable import SegPipeline

/// NRRD, MetaImage and MGH studies go through a whole run: found by name, read, segmented, and written back in their
/// own format and geometry beside the NIfTI label map. Support pairs may be in those formats too.
@Suite struct NativeFormatRunTests {
    /// The test study's voxels as a hand-written NRRD in RAS space (short, raw), so the output must keep that space.
    static func writeNrrd(_ url: URL, image: Volume<Float>) throws {
        let a = image.affine
        let directions = (0..<3).map { axis in "(\((0..<3).map { "\(a[$0, axis])" }.joined(separator: ",")))" }
        let header = """
            NRRD0004
            type: short
            dimension: 3
            space: right-anterior-superior
            sizes: \(image.shape.map(String.init).joined(separator: " "))
            space directions: \(directions.joined(separator: " "))
            kinds: domain domain domain
            endian: little
            encoding: raw
            space origin: (\(a[0, 3]),\(a[1, 3]),\(a[2, 3]))


            """
        var data = Data(header.utf8)
        for v in image.voxels { withUnsafeBytes(of: Int16(v).littleEndian) { data.append(contentsOf: $0) } }
        try data.write(to: url)
    }

    @Test func studiesInEachFormatGetTheirLabelMapInTheirOwnFormat() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = root.appendingPathComponent("inputs"), support = root.appendingPathComponent("support")
        try FileManager.default.createDirectory(at: inputs.appendingPathComponent("m1"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: support, withIntermediateDirectories: true)
        let image = TestStudy.image(shape: [12, 10, 6])
        let integers = image.withVoxels(image.voxels.map { Int32($0) })
        try Self.writeNrrd(inputs.appendingPathComponent("n1.nrrd"), image: image)
        try MetaImageWriter.write(integers, to: inputs.appendingPathComponent("m1/m1.mha"))
        try MghWriter.write(integers, to: inputs.appendingPathComponent("g1.mgz"))
        // Support: one NIfTI pair and one MetaImage image with an MGZ label.
        try writeFakeSupport(support, name: "a")
        try MetaImageWriter.write(integers, to: support.appendingPathComponent("c_image.mha"))
        try MghWriter.write(integers.withVoxels(integers.voxels.map { $0 > 50 ? 1 : 0 }), to: support.appendingPathComponent("c_label.mgz"))
        #expect(try LabelledPair.scan(support).map(\.name) == ["a", "c"])

        let spec = fakeSpec(root: root, writers: [.nifti, .native, .report])
        #expect(OutputSpec(folder: root).writers == [.nifti, .native, .report, .qc])
        let result = try await BatchRun(graph: JobGraph(spec: spec, segmenter: FakeSegmenter())).run()
        #expect(result.done == 3 && result.failed == 0)

        let out = spec.outputs.folder
        let cases: [(study: String, file: String, format: SeriesFormat)] = [
            ("n1", "n1/n1.seg.nrrd", .nrrd), ("m1", "m1/m1_seg.mha", .metaImage), ("g1", "g1/g1_seg.mgz", .mgh),
        ]
        for (study, file, format) in cases {
            let report = try JSONDecoder().decode(StudyReport.self, from: Data(contentsOf: out.appendingPathComponent("\(study)/\(study)_report.json")))
            #expect(report.format == format)
            #expect(report.outputs.contains(file) && report.outputs.contains("\(study)/\(study)_seg.nii.gz"))
            #expect(report.targets.map(\.voxels) == [6 * 5 * 4])
            let native = try VolumeFile.readLabels(out.appendingPathComponent(file))
            let nifti = try NiftiReader.readLabels(out.appendingPathComponent("\(study)/\(study)_seg.nii.gz"))
            #expect(native.voxels == nifti.voxels)
            #expect(native.voxels.filter { $0 == 1 }.count == 120)
            let source = try VolumeFile.readHeader(inputs.appendingPathComponent(study == "m1" ? "m1/m1.mha" : (study == "n1" ? "n1.nrrd" : "g1.mgz")))
            #expect(native.affine == source.affine && native.shape == source.shape)
        }
        // The segmentation keeps the study's RAS space and names its segment as 3D Slicer reads it.
        let seg = try NrrdReader.readHeader(out.appendingPathComponent("n1/n1.seg.nrrd"))
        #expect(seg.spatial.space == .rightAnteriorSuperior)
        #expect(seg.keyValues["Segment0_Name"] == "cube" && seg.keyValues["Segment0_LabelValue"] == "1")
        #expect(seg.keyValues["Segment0_Extent"] == "3 8 2 6 1 4")
    }

    @Test func formatSelectsTheStudyFiles() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let study = root.appendingPathComponent("s")
        try FileManager.default.createDirectory(at: study, withIntermediateDirectories: true)
        let image = TestStudy.image(shape: [4, 4, 2])
        try Self.writeNrrd(study.appendingPathComponent("ct.nrrd"), image: image)
        try writeFakeVolume(study.appendingPathComponent("t1.nii.gz"), shape: [4, 4, 2])
        try NrrdSegmentationWriter.write(image.withVoxels(image.voxels.map { _ in Int32(0) }), segments: [],
                                         to: study.appendingPathComponent("ct.seg.nrrd"))
        try MghWriter.write(image.withVoxels(image.voxels.map { Int32($0) }), to: study.appendingPathComponent("x_label.mgz"))
        let input = StudyDiscovery.stamp(study, name: "s", isFolder: true)
        #expect(StudyDiscovery.imageFiles(of: input, pattern: "*").map(\.lastPathComponent) == ["ct.nrrd", "t1.nii.gz"])
        #expect(StudyDiscovery.imageFiles(of: input, pattern: "*", format: .nrrd).map(\.lastPathComponent) == ["ct.nrrd"])
        #expect(StudyDiscovery.imageFiles(of: input, pattern: "*", format: .mgh).isEmpty)
        var spec = fakeSpec(root: root)
        spec.inputs.format = .nrrd
        let candidates = try JobGraph.candidates(of: input, spec: spec)
        #expect(candidates.map(\.format) == [.nrrd] && candidates.map(\.id) == ["ct"])
        // Top-level single files: self-contained formats are studies, detached headers are not.
        for name in ["a.nrrd", "b.mha", "c.mgz", "d.nhdr", "e.mhd", "f.raw"] {
            try Data().write(to: root.appendingPathComponent(name))
        }
        let names = try StudyDiscovery.studies(InputSpec(folder: root)).map(\.name)
        #expect(names == ["a", "b", "c", "s"])
    }

    @Test func definitionsNameTheFormatsAndTheNativeWriter() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("inputs"), withIntermediateDirectories: true)
        try writeFakeSupport(root.appendingPathComponent("lib"), name: "a")
        for format in ["nrrd", "metaimage", "mgh"] {
            let yaml = """
                inputs: {folder: inputs, format: \(format)}
                support: {library: lib}
                targets: [{name: t, value: 1, labels: 1}]
                outputs: {folder: out, writers: [native, dicom-seg]}
                """
            let (spec, diagnostics) = PipelineSpecParser.check(yaml, file: "p.yaml", baseFolder: root)
            #expect(spec == nil)
            #expect(diagnostics.map(\.description) == ["p.yaml:4:42: error: writer 'dicom-seg' needs DICOM inputs, but inputs.format is \(format)"])
            let (valid, none) = PipelineSpecParser.check(yaml.replacingOccurrences(of: ", dicom-seg", with: ""), file: "p.yaml", baseFolder: root)
            #expect(none == [] && valid?.outputs.writers == [.native] && valid?.inputs.format.rawValue == format)
        }
    }
}
