import DicomNetwork
import Foundation
import UniverSeg
import VolumeIO

/// A checked pipeline definition, as read from a YAML file by `PipelineSpecParser`.
///
/// Every path in it is absolute: relative paths in the YAML are resolved against the YAML file's folder.
/// See docs/pipeline-schema.md for the file format.
public struct PipelineSpec: Sendable, Equatable {
    public var name: String
    public var inputs: InputSpec
    public var preprocessing: PreprocessingSpec
    public var support: SupportSpec
    public var targets: [TargetSpec]
    public var model: ModelSpec
    public var outputs: OutputSpec
    public var concurrency: ConcurrencySpec
    public var watch: WatchSpec
    /// A hash of the definition's text: a ledger entry made under another definition does not count as done.
    public var fingerprint: String

    public init(name: String, inputs: InputSpec, preprocessing: PreprocessingSpec = .init(), support: SupportSpec,
                targets: [TargetSpec], model: ModelSpec = .init(), outputs: OutputSpec,
                concurrency: ConcurrencySpec = .init(), watch: WatchSpec, fingerprint: String = "") {
        self.name = name
        self.inputs = inputs
        self.preprocessing = preprocessing
        self.support = support
        self.targets = targets
        self.model = model
        self.outputs = outputs
        self.concurrency = concurrency
        self.watch = watch
        self.fingerprint = fingerprint
    }
}

public enum InputFormat: String, Sendable, CaseIterable {
    case auto, nifti, dicom, nrrd, metaimage, mgh

    /// The volume file format this names, or nil for `auto` and `dicom`.
    public var fileFormat: VolumeFileFormat? {
        switch self {
        case .auto, .dicom: nil
        case .nifti: .nifti
        case .nrrd: .nrrd
        case .metaimage: .metaImage
        case .mgh: .mgh
        }
    }
}

public struct InputSpec: Sendable, Equatable {
    /// The folder whose entries are studies (a sub-folder, or a single volume file, per study).
    public var folder: URL
    /// Shell-style pattern on entry names selecting which entries are studies.
    public var match: String
    public var format: InputFormat
    /// For studies of volume files held in folders: the pattern naming the image file(s) inside a study folder
    /// (only files of a readable format, `VolumeFile`, are considered).
    public var image: String
    public var series: SeriesSelector
    /// A DICOM listener filing received instances into `folder` while `watch` runs; nil: none.
    public var listen: ListenSpec?

    public init(folder: URL, match: String = "*", format: InputFormat = .auto, image: String = "*",
                series: SeriesSelector = .init(), listen: ListenSpec? = nil) {
        self.folder = folder
        self.match = match
        self.format = format
        self.image = image
        self.series = series
        self.listen = listen
    }
}

/// `inputs.listen`: a C-STORE listener feeding the input folder (see docs/dicom-network.md).
public struct ListenSpec: Sendable, Equatable {
    public var port: UInt16
    public var aeTitle: String
    /// Calling AE titles allowed to send; empty allows any.
    public var allowedCallingAETitles: [String]

    public static let defaultAETitle = "UNIVERSEG"

    public init(port: UInt16, aeTitle: String = defaultAETitle, allowedCallingAETitles: [String] = []) {
        self.port = port
        self.aeTitle = aeTitle
        self.allowedCallingAETitles = allowedCallingAETitles
    }
}

/// Rules choosing which series of a study to segment (like MONAI Deploy's series selector). Every rule given must hold.
public struct SeriesSelector: Sendable, Equatable {
    /// DICOM Modality (0008,0060), compared case-insensitively; nil accepts any.
    public var modality: String?
    /// A regular expression searched in SeriesDescription (0008,103E), or the file name for NIfTI; nil accepts any.
    public var description: String?
    /// The plane of the stored slices (from the affine); nil accepts any.
    public var orientation: AnatomicalPlane?
    /// The fewest slices a series may have.
    public var minSlices: Int
    /// Which candidate to take when several match.
    public var pick: SeriesPick
    /// Only volumes with this diffusion b-value (s/mm², within `VolumeRule.bValueTolerance`); nil accepts any.
    public var bValue: Double?
    /// Only volumes with this EchoNumbers (0018,0086); nil accepts any.
    public var echo: Int?
    /// Which volume of a series that repeats its slice positions (DICOM time points, diffusion directions, echoes)
    /// to take, among those `bValue` and `echo` leave.
    public var volume: VolumeRule

    public init(modality: String? = nil, description: String? = nil, orientation: AnatomicalPlane? = nil,
                minSlices: Int = 1, pick: SeriesPick = .mostSlices, bValue: Double? = nil, echo: Int? = nil,
                volume: VolumeRule = .first) {
        self.modality = modality
        self.description = description
        self.orientation = orientation
        self.minSlices = minSlices
        self.pick = pick
        self.bValue = bValue
        self.echo = echo
        self.volume = volume
    }
}

/// Which volume of a multi-volume DICOM series to segment, in the series' volume order (docs/pipeline-schema.md:
/// temporal position, acquisition number, b-value, gradient direction, echo number, trigger time).
public enum VolumeRule: Sendable, Equatable {
    case first
    case last
    /// The n-th volume, 1-based.
    case number(Int)

    /// b-values are whole numbers in practice; scanners store e.g. 995 or 1005 for a nominal 1000 only on some
    /// vendors, which this tolerance does not cover on purpose (give the stored value).
    public static let bValueTolerance = 0.5
}

public enum SeriesPick: String, Sendable, CaseIterable {
    /// The matching series with the most slices.
    case mostSlices = "most-slices"
    /// The first matching series in name order.
    case first
}

/// How studies and support examples become model slices (VolumeIO's slicing options, without the size).
public struct PreprocessingSpec: Sendable, Equatable {
    /// `auto` in the YAML is `.acquisition` (the thickest-spaced voxel axis).
    public var axis: SliceAxis
    public var normalization: IntensityNormalization
    /// Segment along all three anatomical planes and average the probabilities on the native grid (3x the engine
    /// work or more); `axis` still names the plane of the QC picture and the report.
    public var fuseAxes: Bool

    public init(axis: SliceAxis = .acquisition, normalization: IntensityNormalization = .robust, fuseAxes: Bool = false) {
        self.axis = axis
        self.normalization = normalization
        self.fuseAxes = fuseAxes
    }

    /// The options the query volume is sliced with.
    public var slicingOptions: SlicingOptions {
        SlicingOptions(axis: axis, size: ModelSlice.side, normalization: normalization)
    }
}

public enum SupportStrategy: String, Sendable, CaseIterable {
    /// Seeded random slices that contain the target's labels.
    case random
    /// For each query slice, support slices at the same relative position along the slicing axis.
    case position
    /// For each query slice, the support slices whose images look most alike (normalized cross-correlation).
    case similarity
    /// Like `position`, with each support volume's positions aligned to the study's by image similarity first, so
    /// support covering another stretch of the body (a lower half for an upper half) still meets the right level.
    case aligned
}

public enum PerStudySupportMode: String, Sendable, CaseIterable {
    /// A study's own support/ examples join the library's.
    case add
    /// A study's own support/ examples replace the library's.
    case replace
}

public struct SupportSpec: Sendable, Equatable {
    /// Folders of NAME_image.nii.gz + NAME_label.nii.gz pairs.
    public var libraries: [URL]
    public var strategy: SupportStrategy
    /// The name of a study's own support folder (inside the study folder), or nil to ignore such folders.
    public var perStudyFolder: String?
    public var perStudyMode: PerStudySupportMode
    /// Number of position (or similarity) groups a volume's query slices are split into; each group gets its own
    /// support set, prepared once.
    public var groups: Int

    /// The selection every command uses unless told otherwise (chosen by measurement: MODEL_CARD.md).
    public static let defaultStrategy = SupportStrategy.position
    public static let defaultGroups = 8

    public init(libraries: [URL], strategy: SupportStrategy = defaultStrategy, perStudyFolder: String? = "support",
                perStudyMode: PerStudySupportMode = .add, groups: Int = defaultGroups) {
        self.libraries = libraries
        self.strategy = strategy
        self.perStudyFolder = perStudyFolder
        self.perStudyMode = perStudyMode
        self.groups = groups
    }
}

/// One structure to segment: a binary UniverSeg pass whose result gets `value` in the merged label map.
public struct TargetSpec: Sendable, Equatable {
    public var name: String
    /// The value this target's voxels get in the output label map.
    public var value: Int32
    /// The support-label values that together define this structure (for a DICOM SEG pair: segment numbers).
    public var supportLabels: [Int32]
    /// DICOM SEG segments taken by their SegmentLabel (case-insensitive), besides `supportLabels`; NIfTI pairs
    /// have no segment labels.
    public var supportSegmentLabels: [String] = []
    /// Libraries for this target only, replacing `SupportSpec.libraries` when not empty.
    public var libraries: [URL]
    /// Average each slice's probabilities with its neighbours' before they are mapped back (`SliceSmoothing`).
    public var smoothSlices: Bool
    /// 3D clean-up of this target's mask on the native grid.
    public var cleanup: MaskCleanup
    /// How viewers show it (SEG segment, colour tables, QC outline); nil: the defaults `TargetLegend` documents.
    public var color: DisplayColor?
    /// The structure as a coded concept (SEG Segmented Property Type), and its category.
    public var code: CodedConcept?
    public var category: CodedConcept?

    public init(name: String, value: Int32, supportLabels: [Int32], libraries: [URL] = [], smoothSlices: Bool = false,
                cleanup: MaskCleanup = .none, color: DisplayColor? = nil, code: CodedConcept? = nil,
                category: CodedConcept? = nil) {
        self.smoothSlices = smoothSlices
        self.name = name
        self.value = value
        self.supportLabels = supportLabels
        self.libraries = libraries
        self.cleanup = cleanup
        self.color = color
        self.code = code
        self.category = category
    }
}

public struct ModelSpec: Sendable, Equatable {
    /// A weights file (.safetensors or .pt), or nil for the bundled default model.
    public var weights: URL?
    public var supportSize: Int
    /// K: how many support sets are drawn and their predictions averaged.
    public var ensemble: Int
    public var threshold: Double
    public var seed: UInt64
    /// The engine's GEMM arithmetic (`model.precision`): auto (bf16 where the CPU has AVX512-BF16), fp32 or bf16.
    public var precision: Precision

    public init(weights: URL? = nil, supportSize: Int = 16, ensemble: Int = 1, threshold: Double = 0.5, seed: UInt64 = 0,
                precision: Precision = .auto) {
        self.weights = weights
        self.precision = precision
        self.supportSize = supportSize
        self.ensemble = ensemble
        self.threshold = threshold
        self.seed = seed
    }
}

public enum WriterKind: String, Sendable, CaseIterable, Hashable {
    case nifti
    case dicomSeg = "dicom-seg"
    /// The label map in the study's own file format when that is NRRD (a 3D Slicer .seg.nrrd), MetaImage (.mha) or
    /// MGH (.mgz); NIfTI's for a NIfTI study (the `nifti` writer's file, written once); nothing for DICOM, whose
    /// own format is `dicom-seg`.
    case native
    case probabilities
    case report
    case qc
}

public struct OutputSpec: Sendable, Equatable {
    public var folder: URL
    /// The path of a study's outputs below `folder`, without extension, with `{study}`, `{series}`, `{pipeline}`.
    public var naming: String
    public var writers: [WriterKind]
    /// Whether the run writes index.html linking every study's QC image and numbers.
    public var summary: Bool
    /// What follows the expanded `naming` in each output's name.
    public var suffixes = OutputSuffixes()
    /// Whether finished studies are recorded in `folder/ledger.jsonl` (off for one-off `segment`).
    public var ledger: Bool = true
    /// Where each study's DICOM SEG is C-STOREd once its outputs are committed (`outputs.send`); delivery is recorded
    /// per destination in the ledger.
    public var send: [DicomDestination] = []
    /// DICOMweb services each study's DICOM SEG is stored to with STOW-RS (`outputs.stow`), recorded like `send`.
    public var stow: [StowDestination] = []

    public init(folder: URL, naming: String = "{study}/{study}", writers: [WriterKind] = [.nifti, .native, .report, .qc],
                summary: Bool = true) {
        self.folder = folder
        self.naming = naming
        self.writers = writers
        self.summary = summary
    }
}

/// The end of each output's name, after a study's expanded `naming`. Pipelines use the defaults
/// (`brain2/brain2_seg.nii.gz`, `brain2/brain2_report.json`, ...); `segment --out seg.nii.gz` uses naming `seg`
/// with label map `.nii.gz` and SEG `.dcm`, so its outputs are seg.nii.gz, seg.dcm, seg_report.json, ...
public struct OutputSuffixes: Sendable, Equatable {
    public var labelMap = "_seg.nii.gz"
    public var dicomSeg = "_seg.dcm"
    public var report = "_report.json"
    public var qc = "_qc.png"
    /// The run's table of every study's target statistics, in the output folder itself.
    public static let statisticsTable = "summary.csv"
    /// The `native` writer's label maps: 3D Slicer recognises a segmentation by the .seg.nrrd ending.
    public var nrrdLabelMap = ".seg.nrrd"
    public var metaImageLabelMap = "_seg.mha"
    public var mghLabelMap = "_seg.mgz"

    public init() {}

    /// Colour tables beside the label map, named after it: `_seg.nii.gz` gives `_seg.ctbl` (3D Slicer) and
    /// `_seg.itksnap.txt` (ITK-SNAP label descriptions).
    public var slicerColorTable: String { labelMapStem + ".ctbl" }
    public var itksnapLabels: String { labelMapStem + ".itksnap.txt" }

    private var labelMapStem: String {
        for ext in [".nii.gz", ".nii"] where labelMap.lowercased().hasSuffix(ext) { return String(labelMap.dropLast(ext.count)) }
        return labelMap
    }

    public func probabilities(target: String) -> String { "_prob-\(target).nii.gz" }
}

public struct ConcurrencySpec: Sendable, Equatable {
    /// Threads for the engine; nil means every core.
    public var threads: Int?
    /// How many studies may wait between two stages (the bound on the queues).
    public var queueDepth: Int

    public init(threads: Int? = nil, queueDepth: Int = 1) {
        self.threads = threads
        self.queueDepth = queueDepth
    }
}

public struct WatchSpec: Sendable, Equatable {
    /// Seconds a study's files must stay unchanged before it is processed.
    public var settleSeconds: Double
    public var pollSeconds: Double
    public var doneFolder: URL
    public var failedFolder: URL

    public init(settleSeconds: Double = 10, pollSeconds: Double = 2, doneFolder: URL, failedFolder: URL) {
        self.settleSeconds = settleSeconds
        self.pollSeconds = pollSeconds
        self.doneFolder = doneFolder
        self.failedFolder = failedFolder
    }
}
