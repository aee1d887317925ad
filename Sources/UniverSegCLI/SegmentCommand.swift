import ArgumentParser
import Diagnostics
import Foundation
import SegPipeline
import VolumeIO

struct SegmentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Segment one image (NIfTI, NRRD, MetaImage or MGH file, or DICOM folder) with a support folder, without a pipeline file.",
        discussion: """
            Each --label V is one target: support-label value V, written as V in the output label map. \
            --label A+B makes one target from support labels A and B (written as A).
            The report, QC image, probability maps and DICOM SEG go beside --out, with colour tables for 3D Slicer and \
            ITK-SNAP (seg.nii.gz -> seg_report.json, seg.dcm, seg.ctbl, seg.itksnap.txt).
            Exit status: 0 done, 1 the study failed, 3 cannot start.
            """)

    @Option(help: "The image: a NIfTI, NRRD, MetaImage or MGH file, or a folder of DICOM files.")
    var image: String

    @Option(help: "A support folder of NAME_image.nii.gz + NAME_label.nii.gz pairs (repeatable).")
    var support: [String]

    @Option(help: "A support-label value to segment (repeatable; A+B joins labels into one target).")
    var label: [String]

    @Option(help: "Where the label map is written (.nii.gz).")
    var out: String

    @Option(help: "Support examples per set.")
    var supportSize = 16

    @Option(help: "Ensemble members (support sets averaged).")
    var ensemble = 1

    @Option(help: "Probability threshold.")
    var threshold = 0.5

    @Option(help: "Seed for support selection.")
    var seed: UInt64 = 0

    @Option(help: "Slicing axis: auto, axial, coronal, sagittal, i, j or k.")
    var axis = "auto"

    @Option(help: "Intensity normalization, as in a pipeline: percentile, minmax, or e.g. \"{method: window, center: 40, width: 400}\".")
    var normalization = "percentile"

    @Option(help: "Extra outputs beside --out: report, qc, probabilities, dicom-seg, native (the label map in the image's own format: seg.seg.nrrd, seg.mha, seg.mgz) (repeatable).")
    var also: [String] = ["report", "qc"]

    @OptionGroup var wholeVolume: WholeVolumeArguments
    @OptionGroup var engine: EngineOptions
    @OptionGroup var log: LogOptions

    func targets() throws -> [TargetSpec] {
        var targets: [TargetSpec] = []
        for text in label {
            let values = text.split(separator: "+", omittingEmptySubsequences: false).map { Int32($0.trimmingCharacters(in: .whitespaces)) }
            guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw ValidationError("--label \(text): expected a positive label value, or values joined with +")
            }
            let labels = values.map { $0! }
            guard !targets.contains(where: { $0.value == labels[0] }) else {
                throw ValidationError("--label \(labels[0]) is given twice")
            }
            targets.append(TargetSpec(name: "label\(labels.map(String.init).joined(separator: "+"))",
                                      value: labels[0], supportLabels: labels, smoothSlices: wholeVolume.smoothSlices, cleanup: wholeVolume.cleanup))
        }
        return targets
    }

    func validate() throws {
        try PathCheck.existing(image, .fileOrFolder, option: "--image")
        guard !support.isEmpty else { throw ValidationError("give at least one --support folder") }
        for folder in support {
            try PathCheck.existing(folder, .folder, option: "--support")
            let pairs: [LabelledPair]
            do { pairs = try LabelledPair.scan(URL(fileURLWithPath: folder)) } catch {
                throw ValidationError("--support \(error.folder): \(error.problem)")
            }
            guard !pairs.isEmpty else { throw ValidationError("--support \(folder): no NAME_image.nii.gz + NAME_label.nii.gz pairs there") }
        }
        guard !label.isEmpty else { throw ValidationError("give at least one --label") }
        _ = try targets()
        guard NiftiFileName.extension(of: out) != nil else { throw ValidationError("--out must end in .nii.gz or .nii") }
        try PathCheck.outputFile(out, option: "--out")
        let inputs = ([image] + support).map { URL(fileURLWithPath: $0) }
        if let input = InputGuard.input(containing: URL(fileURLWithPath: out), inputs: inputs) {
            throw ValidationError("--out \(out) would overwrite or land inside the input \(input.path); choose another place")
        }
        guard (1...256).contains(supportSize) else { throw ValidationError("--support-size must be from 1 to 256") }
        guard (1...64).contains(ensemble) else { throw ValidationError("--ensemble must be from 1 to 64") }
        guard threshold > 0 && threshold < 1 else { throw ValidationError("--threshold must be between 0 and 1") }
        do { _ = try PipelineSpecParser.normalization(normalization, option: "--normalization") } catch {
            let hint = (error as? PipelineSpecError)?.diagnostics.first?.hint.map { " (\($0))" } ?? ""
            throw ValidationError("--normalization: \(ErrorText.problem(error))\(hint)")
        }
        guard ["auto", "axial", "coronal", "sagittal", "i", "j", "k"].contains(axis) else {
            throw ValidationError("--axis must be auto, axial, coronal, sagittal, i, j or k")
        }
        for extra in also where WriterKind(rawValue: extra) == nil || extra == "nifti" {
            throw ValidationError("--also \(extra): choose report, qc, probabilities, dicom-seg or native")
        }
    }

    func makeSpec() throws -> PipelineSpec {
        let imageURL = URL(fileURLWithPath: image).standardizedFileURL
        let outURL = URL(fileURLWithPath: out).standardizedFileURL
        let slicing: SliceAxis = switch axis {
        case "i": .voxel(0)
        case "j": .voxel(1)
        case "k": .voxel(2)
        case "auto": .acquisition
        default: .plane(AnatomicalPlane(rawValue: axis)!)
        }
        var outputs = OutputSpec(folder: outURL.deletingLastPathComponent(),
                                 writers: [.nifti] + also.compactMap { WriterKind(rawValue: $0) }, summary: false)
        // The label map goes exactly to --out; the other outputs beside it, named after it.
        let fileName = outURL.lastPathComponent
        outputs.naming = NiftiFileName.stem(fileName)
        outputs.suffixes.labelMap = String(fileName.dropFirst(outputs.naming.count))
        outputs.suffixes.dicomSeg = ".dcm"
        (outputs.suffixes.metaImageLabelMap, outputs.suffixes.mghLabelMap) = (".mha", ".mgz")
        outputs.ledger = false
        return PipelineSpec(
            name: "segment", inputs: InputSpec(folder: imageURL.deletingLastPathComponent()),
            preprocessing: PreprocessingSpec(axis: slicing, normalization: try PipelineSpecParser.normalization(normalization, option: "--normalization"),
                                             fuseAxes: wholeVolume.fuseAxes),
            support: SupportSpec(libraries: support.map { URL(fileURLWithPath: $0).standardizedFileURL },
                                 strategy: wholeVolume.strategyValue, perStudyFolder: nil,
                                 groups: wholeVolume.groups),
            targets: try targets(),
            model: ModelSpec(weights: engine.weights.map { URL(fileURLWithPath: $0) }, supportSize: supportSize,
                             ensemble: ensemble, threshold: threshold, seed: seed),
            outputs: outputs,
            watch: WatchSpec(doneFolder: imageURL, failedFolder: imageURL))
    }

    func run() async throws {
        let spec = try makeSpec()
        let reporter = ConsoleReporter(options: log)
        let segmenter = try engine.segmenter(weights: spec.model.weights, pipelineThreads: spec.concurrency.threads,
                                              pipelinePrecision: spec.model.precision)
        let graph = JobGraph(spec: spec, segmenter: segmenter, maxInFlight: 1, events: reporter.handle)
        let outcome = await SingleStudyRun.run(graph, study: URL(fileURLWithPath: image).standardizedFileURL)
        reporter.summary(done: outcome.status == .done ? 1 : 0, skipped: 0, failed: outcome.status == .failed ? 1 : 0,
                         extra: outcome.status == .done ? "; label map: \(out)" : "")
        if outcome.status == .failed { throw PipelineExit.studiesFailed }
    }
}
