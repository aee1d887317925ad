import Foundation
import VolumeIO
import Yams

/// What `task.yaml` says about a task; every field is optional.
///
///     labels: [1, 2]        # foreground = voxels with any of these values (default: every value > 0)
///     axis: 2               # NIfTI voxel axis 0, 1 or 2 to slice along (default: each volume's acquisition axis)
///     normalize: percentile # percentile (0.5-99.5) | minmax | {window: [center, width]}
public struct EvaluationTaskConfig: Sendable, Equatable {
    public var labels: Set<Int32>?
    public var axis: Int?
    public var normalization: IntensityNormalization

    /// Side of the square model slices (UniverSeg's 128).
    public static let sliceSize = 128

    public init(labels: Set<Int32>? = nil, axis: Int? = nil, normalization: IntensityNormalization = .robust) {
        self.labels = labels
        self.axis = axis
        self.normalization = normalization
    }

    /// How volumes of this task are cut: the same voxel axis for support and query when `axis` is given (their
    /// volumes share orientation), else the acquisition axis of each volume.
    public var slicing: SlicingOptions {
        SlicingOptions(axis: axis.map { .voxel($0) } ?? .acquisition, size: Self.sliceSize, normalization: normalization)
    }

    /// Parses task.yaml text; `file` names it in errors. Unknown keys are errors, so a typo is not silently ignored.
    public static func parse(_ text: String, file: String) throws -> EvaluationTaskConfig {
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch { throw EvaluationError(file, "not valid YAML: \(error)") }
        guard let root else { return EvaluationTaskConfig() }
        guard let map = root as? [String: Any] else { throw EvaluationError(file, "expected a mapping with labels, axis and normalize") }
        var config = EvaluationTaskConfig()
        for (key, value) in map {
            switch key {
            case "labels":
                let list = (value as? [Any]) ?? [value]
                let values = list.compactMap { ($0 as? Int).flatMap { Int32(exactly: $0) } }
                guard !values.isEmpty, values.count == list.count else {
                    throw EvaluationError(file, "labels: expected a list of integer label values, e.g. [1, 2]")
                }
                config.labels = Set(values)
            case "axis":
                guard let axis = value as? Int, (0...2).contains(axis) else {
                    throw EvaluationError(file, "axis: expected the NIfTI voxel axis 0, 1 or 2")
                }
                config.axis = axis
            case "normalize":
                config.normalization = try parseNormalization(value, file: file)
            default:
                throw EvaluationError(file, "unknown key '\(key)' (expected labels, axis, normalize)")
            }
        }
        return config
    }

    private static func parseNormalization(_ value: Any, file: String) throws -> IntensityNormalization {
        if let name = value as? String {
            switch name {
            case "percentile": return .robust
            case "minmax": return .minMax
            default: break
            }
        } else if let map = value as? [String: Any], map.count == 1, let pair = map["window"] as? [Any], pair.count == 2,
                  let center = number(pair[0]), let width = number(pair[1]), width > 0 {
            return .window(center: center, width: width)
        }
        throw EvaluationError(file, "normalize: expected percentile, minmax or {window: [center, width]} with width > 0")
    }

    private static func number(_ value: Any) -> Double? { (value as? Double) ?? (value as? Int).map(Double.init) }
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
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw EvaluationError(folder.path, "no such task folder")
        }
        let yaml = folder.appendingPathComponent("task.yaml")
        var config = EvaluationTaskConfig()
        if FileManager.default.fileExists(atPath: yaml.path) {
            guard let text = try? String(contentsOf: yaml, encoding: .utf8) else { throw EvaluationError(yaml.path, "cannot read it as UTF-8 text") }
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
