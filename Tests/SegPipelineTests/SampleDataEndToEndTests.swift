import Foundation
import Testing
import VolumeIO
@testable import SegPipeline

/// The shipped sample pipelines on SampleData, end to end through the real readers, slicing, engine and writers.
///
/// Two kinds of engine:
/// - the real UniverSeg engine with small random weights (`mixed.safetensors` from the engine's fixtures), which
///   checks mechanics: masks on the source grid, probability maps, DICOM SEG, reports, skip on rerun;
/// - `CopySupportSegmenter`, which answers each query slice with the mask of the support slice at its relative
///   position. With the query's own subject as support, the output must reproduce that subject's label: this checks
///   the geometry of everything around the engine (support slicing in the query's plane, relative positions,
///   canonical order, resampling back to the native grid, DICOM slice order and SEG placement).
@Suite(.serialized) struct SampleDataEndToEndTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL
    static let sampleData = repo.appendingPathComponent("SampleData")
    static let randomWeights = repo.appendingPathComponent("Tests/UniverSegTests/Fixtures/mixed.safetensors")

    /// A shipped pipeline with outputs redirected to `output` and a small support set (test time, not quality).
    static func samplePipeline(_ name: String, output: URL) throws -> PipelineSpec {
        var spec = try PipelineSpecParser.load(repo.appendingPathComponent("Pipelines/\(name).yaml"))
        spec.outputs.folder = output
        spec.model.supportSize = 2
        spec.model.ensemble = 1
        return spec
    }

    static func randomEngine() throws -> UniverSegSegmenter {
        try UniverSegSegmenter.load(weights: randomWeights, threads: ProcessInfo.processInfo.activeProcessorCount)
    }

    static func report(_ url: URL) throws -> StudyReport {
        try JSONDecoder().decode(StudyReport.self, from: Data(contentsOf: url))
    }

    static func temporaries(in folder: URL) -> [String] {
        (FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? [])
            .filter { ($0 as NSString).lastPathComponent.hasPrefix(".tmp-") }
    }

    /// Dice overlap of the nonzero voxels of two equally long label arrays.
    static func dice(_ a: [Int32], _ b: [Int32]) -> Double {
        var both = 0, na = 0, nb = 0
        for (x, y) in zip(a, b) {
            if x != 0 { na += 1 }
            if y != 0 { nb += 1 }
            if x != 0 && y != 0 { both += 1 }
        }
        return na + nb == 0 ? 1 : 2 * Double(both) / Double(na + nb)
    }

    // MARK: Real engine, random weights: mechanics

    @Test func niftiPipelineWritesMasksOnTheSourceGridAndARerunSkips() async throws {
        let out = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let spec = try Self.samplePipeline("brain-lesion-nifti", output: out)
        let graph = JobGraph(spec: spec, segmenter: try Self.randomEngine())
        let result = try await BatchRun(graph: graph).run()
        #expect(result.done == 1 && result.failed == 0)

        let source = Self.sampleData.appendingPathComponent("nifti-study/brain2/brain2_image.nii.gz")
        let sourceHeader = try NiftiReader.readHeader(source)
        let labels = try NiftiReader.readLabels(out.appendingPathComponent("brain2/brain2_seg.nii.gz"))
        let labelHeader = try NiftiReader.readHeader(out.appendingPathComponent("brain2/brain2_seg.nii.gz"))
        // Same grid as the source, to the bit: the writer copies the source's qform and sform.
        #expect(labels.shape == sourceHeader.shape)
        #expect(labels.affine == sourceHeader.affine)
        #expect(labelHeader.qformCode == sourceHeader.qformCode && labelHeader.sformCode == sourceHeader.sformCode)
        #expect(Set(labels.voxels).isSubset(of: [0, 1]))

        let probabilities = try NiftiReader.readImage(out.appendingPathComponent("brain2/brain2_prob-lesion.nii.gz"))
        #expect(probabilities.shape == labels.shape && probabilities.affine == labels.affine)
        #expect(probabilities.voxels.allSatisfy { (0...1).contains($0) })
        // One target: a voxel is labelled exactly where its probability reaches the threshold.
        #expect(zip(probabilities.voxels, labels.voxels).allSatisfy { ($0 >= 0.5) == ($1 == 1) })

        let report = try Self.report(out.appendingPathComponent("brain2/brain2_report.json"))
        #expect(report.study == "brain2" && report.format == .nifti && report.dicom == nil)
        #expect(report.geometry.shape == [256, 256, 23] && report.geometry.orientation == "LAS")
        #expect(report.slicePlane == "axial" && report.sliceAxis == 2 && report.slicesProcessed == 23)
        #expect(report.targets.map(\.voxels) == [labels.voxels.filter { $0 == 1 }.count])
        #expect(report.model.hasPrefix("UniverSeg [8, 12, 16] mixed.safetensors (fnv1a "))
        #expect(report.timings.engineSeconds > 0 && report.timings.engineSeconds <= report.timings.inferSeconds)
        #expect(report.targets[0].supportUsed.allSatisfy { $0.hasPrefix("brain1:") })
        #expect(report.outputs == ["brain2/brain2_seg.nii.gz", "brain2/brain2_seg.ctbl", "brain2/brain2_seg.itksnap.txt",
                                   "brain2/brain2_prob-lesion.nii.gz", "brain2/brain2_qc.png", "brain2/brain2_report.json"])
        // Viewers' colour tables beside the label map, named in the report with the target's colour and codes.
        #expect(report.colorTables == .init(slicer: "brain2/brain2_seg.ctbl", itksnap: "brain2/brain2_seg.itksnap.txt"))
        let slicer = try String(contentsOf: out.appendingPathComponent("brain2/brain2_seg.ctbl"), encoding: .utf8)
        #expect(slicer.split(separator: "\n").last == "1 lesion 255 40 40 255")
        let itksnap = try String(contentsOf: out.appendingPathComponent("brain2/brain2_seg.itksnap.txt"), encoding: .utf8)
        #expect(itksnap.hasSuffix("    1   255   40   40        1  1  1    \"lesion\"\n"))
        #expect(report.targets[0].color == [255, 40, 40] && report.targets[0].code == .tissue)
        #expect(report.targets[0].category == .anatomicalStructure)

        // Statistics against the written label map and the source image, voxel by voxel.
        let image = try NiftiReader.readImage(source)
        let inside = zip(image.voxels, labels.voxels).filter { $0.1 == 1 }.map { Double($0.0) }
        let stats = try #require(report.targets[0].statistics)
        #expect(report.intensityUnits == "source")
        #expect(abs(stats.intensity.mean - inside.reduce(0, +) / Double(inside.count)) < 1e-6 * max(1, abs(stats.intensity.mean)))
        #expect(stats.intensity.min == inside.min() && stats.intensity.max == inside.max())
        #expect(stats.intensity.p5 <= stats.intensity.p50 && stats.intensity.p50 <= stats.intensity.p95)
        let csv = try String(contentsOf: out.appendingPathComponent("summary.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 2 && csv.contains("\nbrain2,brain2_image,lesion,1,SCT,85756007,Tissue,"))
        let png = try Data(contentsOf: out.appendingPathComponent("brain2/brain2_qc.png"))
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("brain2/brain2_qc.png") && html.contains("brain2/brain2_report.json"))
        #expect(Self.temporaries(in: out) == [])

        let rerun = try await BatchRun(graph: graph).run()
        #expect(rerun.skipped == 1 && rerun.done == 0 && rerun.failed == 0)
        // A run that skips every study still lists them: summary.csv is rebuilt from the reports on disk.
        #expect(try String(contentsOf: out.appendingPathComponent("summary.csv"), encoding: .utf8) == csv)
    }

    @Test func dicomPipelineWritesASegThatDecodesOntoTheSourceSeries() async throws {
        let out = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let spec = try Self.samplePipeline("brain-lesion-dicom", output: out)
        let result = try await BatchRun(graph: JobGraph(spec: spec, segmenter: try Self.randomEngine())).run()
        #expect(result.done == 1 && result.failed == 0)
        let outcome = try #require(result.outcomes.first)
        let segPath = try #require(outcome.outputs.first { $0.hasSuffix("_seg.dcm") })
        let niftiPath = try #require(outcome.outputs.first { $0.hasSuffix("_seg.nii.gz") })

        let series = try #require(DicomReader.scan(Self.sampleData.appendingPathComponent("dicom-study/brain1-mr")).series.first)
        let seg = try DicomSegmentation.read(out.appendingPathComponent(segPath))
        #expect(seg.segments.map(\.label) == ["lesion"])
        let decoded = try seg.labelMap(on: series.reference, affine: series.affine)
        let labels = try NiftiReader.readLabels(out.appendingPathComponent(niftiPath))
        // The SEG and the NIfTI label map hold the same mask on the DICOM series' grid.
        #expect(decoded.shape == series.shape && labels.shape == series.shape)
        #expect(zip(labels.affine.values, series.affine.values).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) })
        #expect(decoded.voxels == labels.voxels)
        #expect(labels.voxels.contains(1))

        let report = try Self.report(out.appendingPathComponent(try #require(outcome.outputs.first { $0.hasSuffix("_report.json") })))
        #expect(report.format == .dicom && report.slicesProcessed == 25 && report.slicePlane == "axial")
        #expect(report.inputs.count == 25)
        // The UIDs that find the source and the SEG in a PACS.
        #expect(report.dicom?.studyInstanceUID == series.studyInstanceUID && report.dicom?.seriesInstanceUID == series.seriesInstanceUID)
        #expect(report.dicom?.modality == "MR")
        #expect(report.dicom?.segSeriesInstanceUID == seg.seriesInstanceUID)
        #expect(report.dicom?.segSOPInstanceUID?.hasPrefix("2.25.") == true)
        // The sample pipeline codes its target: the report carries what the SEG's segment says.
        #expect(report.targets[0].code == CodedConcept(scheme: "SCT", value: "52988006", meaning: "Lesion"))
        #expect(report.targets[0].category == CodedConcept(scheme: "SCT", value: "49755003",
                                                           meaning: "Morphologically Altered Structure"))
        #expect(report.targets[0].color == [230, 60, 60])
        #expect(report.intensityUnits == "source")   // MR: no HU
        #expect(report.targets[0].statistics?.intensity.mean.isFinite == true)

        let tool = "/usr/bin/dciodvfy"
        // The SEG must pass dciodvfy; without the tool this test would pass checking nothing, so it is required.
        try #require(FileManager.default.isExecutableFile(atPath: tool), "dciodvfy (Debian dicom3tools) is not installed")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = [out.appendingPathComponent(segPath).path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("Error") } == [], "\(text)")
        #expect(Self.temporaries(in: out) == [])
    }

    /// `weights: default` (nil) is the bundled model; reports name it with a hash of its weights.
    @Test func theBundledModelLoadsAndIsNamedInReports() async throws {
        let segmenter = try await blocking { try UniverSegSegmenter.load(weights: nil, threads: 1) }
        #expect(segmenter.modelDescription.contains("bundled default.safetensors (fnv1a "))
    }

    // MARK: Geometry with a copying engine

    /// Answers each query slice with the mask of the first example of its first support set.
    struct CopySupportSegmenter: Segmenter {
        var modelDescription: String { "copy the support mask" }
        func probabilities(queries: [ModelSlice], supportSets: [[SupportExample]],
                           progress: (Int) -> Void) throws -> [ModelSlice] {
            progress(queries.count)
            return queries.map { _ in ModelSlice(pixels: supportSets[0][0].mask.pixels) }
        }
    }

    /// One query slice per position group and one support example per set: each slice gets the support slice at
    /// the same relative position. With the query's own subject as support, that is the slice's own label.
    static func copyingSpec(_ name: String, library: String, output: URL) throws -> PipelineSpec {
        var spec = try samplePipeline(name, output: output)
        spec.support.libraries = [sampleData.appendingPathComponent("support/\(library)")]
        spec.support.strategy = .position
        spec.support.groups = 1000
        spec.model.supportSize = 1
        spec.outputs.writers = [.nifti, .dicomSeg]
        spec.outputs.summary = false
        return spec
    }

    @Test func niftiStudyWithItsOwnLabelAsSupportGetsThatLabelBack() async throws {
        let out = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let spec = try Self.copyingSpec("brain-lesion-nifti", library: "from-brain2", output: out)
        let result = try await BatchRun(graph: JobGraph(spec: spec, segmenter: CopySupportSegmenter())).run()
        #expect(result.done == 1)
        let truth = try NiftiReader.readLabels(Self.sampleData.appendingPathComponent("support/from-brain2/brain2_label.nii.gz"))
        let labels = try NiftiReader.readLabels(out.appendingPathComponent("brain2/brain2_seg.nii.gz"))
        #expect(labels.shape == truth.shape && labels.affine == truth.affine)
        // 256 voxels become 128 model pixels and back (binary support masks): boundaries move by up to a voxel.
        // Measured Dice 0.930; a slice or an axis out of place gives far less.
        let dice = Self.dice(labels.voxels, truth.voxels)
        #expect(dice > 0.9, "Dice \(dice)")
    }

    @Test func dicomStudyWithItsOwnLabelAsSupportGetsThatLabelBackInTheSeg() async throws {
        let out = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let spec = try Self.copyingSpec("brain-lesion-dicom", library: "from-brain1", output: out)
        let result = try await BatchRun(graph: JobGraph(spec: spec, segmenter: CopySupportSegmenter())).run()
        #expect(result.done == 1)
        let outcome = try #require(result.outcomes.first)
        let series = try #require(DicomReader.scan(Self.sampleData.appendingPathComponent("dicom-study/brain1-mr")).series.first)
        let seg = try DicomSegmentation.read(out.appendingPathComponent(try #require(outcome.outputs.first { $0.hasSuffix(".dcm") })))
        let decoded = try seg.labelMap(on: series.reference, affine: series.affine)
        // The DICOM series stacks its slices in the opposite order to the NIfTI the label belongs to: compare in
        // the canonical (RAS) frame, where both grids must coincide.
        let truth = try NiftiReader.readLabels(Self.sampleData.appendingPathComponent("support/from-brain1/brain1_label.nii.gz"))
        let a = CanonicalFrame(shape: decoded.shape, affine: decoded.affine).reoriented(decoded)
        let b = CanonicalFrame(shape: truth.shape, affine: truth.affine).reoriented(truth)
        #expect(a.shape == b.shape)
        #expect(zip(a.affine.values, b.affine.values).allSatisfy { abs($0 - $1) <= 1e-3 })
        let dice = Self.dice(a.voxels, b.voxels)
        #expect(dice > 0.9, "Dice \(dice)")   // measured 0.955
    }
}
