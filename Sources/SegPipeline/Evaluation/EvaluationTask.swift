import Foundation
import VolumeIO
import Yams

/// What `task.yaml` says about a task; every field is optional.
///
///     labels: [1, 2]        # foreground = voxels with any of these values (default: every value > 0)
///     axis: 2               # NIfTI voxel axis 0, 1 or 2 to slice along (default: each volume's acquisition axis)
///     normalize: percentile # as a pipeline's preprocessing.normalization: percentile | minmax |
///                           # {method: percentile, lower: 1, upper: 99} | {method: window, center: 40, width: 400}
public struct EvaluationTaskConfig: Sendable, Equatable {
    public var labels: Set<Int32>?
    public var axis: Int?
    public var normalization: IntensityNormalization

    public init(labels: Set<Int32>? = nil, axis: Int? = nil, normalization: IntensityNormalization = .robust) {
        self.labels = labels
        self.axis = axis
        self.normalization = normalization
    }

    /// How volumes of this task are cut: the same voxel axis for support and query when `axis` is given (their
    /// volumes share orientation), else the acquisition axis of each volume.
    public var slicing: SlicingOptions {
        SlicingOptions(axis: axis.map { .voxel($0) } ?? .acquisition, size: ModelSlice.side, normalization: normalization)
    }

    /// Parses task.yaml text with the pipeline definition's reader, so errors come compiler-style (line, column,
    /// hint) and unknown keys are errors; throws `PipelineSpecError` listing them. `file` names it in errors.
    public static func parse(_ text: String, file: String) throws -> EvaluationTaskConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw PipelineSpecError(diagnostics: [PipelineSpecParser.yamlDiagnostic(error, file: file)], source: text)
        }
        var config = EvaluationTaskConfig()
        guard let root else { return config }
        var r = NodeReader(file: file, baseFolder: URL(fileURLWithPath: file).deletingLastPathComponent())
        if let f = r.fields(root, in: "task.yaml", allowed: ["labels", "axis", "normalize"]) {
            if let node = f["labels"] {
                let values = r.list(node, "labels").compactMap { r.int($0, "labels", in: Int(Int32.min)...Int(Int32.max)) }
                if !values.isEmpty { config.labels = Set(values.map { Int32($0) }) }
            }
            if let node = f["axis"] { config.axis = r.int(node, "axis", in: 0...2) }
            if let node = f["normalize"], let normalization = PipelineSpecParser.readNormalization(node, &r, key: "normalize") {
                config.normalization = normalization
            }
        }
        let errors = r.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty else { throw PipelineSpecError(diagnostics: errors, source: text) }
        return config
    }
}

/// A task folder: `support/` and `query/` of image/label pairs (2D or 3D) and an optional `task.yaml`.
public struct EvaluationTask: Sendable {
    public var folder: URL
    public var config: EvaluationTaskConfig
    public var support: [LabelledPair]
    public var query: [LabelledPair]

    public var name: String { folder.lastPathComponent }

    /// Reads the folder listing and task.yaml (no volumes yet). Errors name the folder or file at fault.
    public static func load(_ folder: URL) throws -> EvaluationTask {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) else {
            throw EvaluationError(folder.path, "no such task folder")
        }
        guard isFolder.boolValue else { throw EvaluationError(folder.path, "is a file, not a task folder") }
        let yaml = folder.appendingPathComponent("task.yaml")
        var config = EvaluationTaskConfig()
        if FileManager.default.fileExists(atPath: yaml.path) {
            let text: String
            switch SmallTextFile.read(yaml) {
            case .success(let read): text = read
            case .failure(let problem): throw EvaluationError(yaml.path, problem.reason)
            }
            config = try EvaluationTaskConfig.parse(text, file: yaml.path)
        }
        return EvaluationTask(folder: folder, config: config,
                              support: try pairs(in: folder.appendingPathComponent("support")),
                              query: try pairs(in: folder.appendingPathComponent("query")))
    }

    /// The pairs of one subfolder, sorted by name; strict, since a volume silently left out would change the score.
    static func pairs(in folder: URL) throws -> [LabelledPair] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw EvaluationError(folder.path, "missing: a task folder needs support/ and query/ folders of NAME_image.nii.gz + NAME_label.nii.gz pairs")
        }
        let pairs: [LabelledPair]
        do { pairs = try LabelledPair.scan(folder) } catch { throw EvaluationError(error.folder, error.reason) }
        guard !pairs.isEmpty else { throw EvaluationError(folder.path, "no NAME_image.nii.gz + NAME_label.nii.gz pairs") }
        return pairs
    }
}
