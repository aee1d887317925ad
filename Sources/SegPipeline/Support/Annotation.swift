import Foundation
import VolumeIO
import Yams

/// The axis a sparse annotation's slices are counted along: an anatomical plane (resolved on the label file's own
/// affine to the voxel axis closest to the plane's normal) or a voxel axis of the label file (0, 1, 2 = i, j, k).
public enum AnnotationAxis: Sendable, Equatable, CustomStringConvertible {
    case plane(AnatomicalPlane)
    case voxel(Int)

    /// The label file's voxel axis the slices are stacked along.
    public func voxelAxis(in affine: Affine) -> Int {
        switch self {
        case .voxel(let axis): return axis
        case .plane(let plane): return AxisOrientation(affine).voxelAxis(alongWorldAxis: plane.normalAxis)
        }
    }

    /// `axial`, `coronal`, `sagittal`, or `0`, `1`, `2`; nil for anything else.
    public init?(parsing text: String) {
        if let plane = AnatomicalPlane(rawValue: text.lowercased()) { self = .plane(plane); return }
        guard let axis = Int(text), (0...2).contains(axis) else { return nil }
        self = .voxel(axis)
    }

    public var description: String {
        switch self {
        case .plane(let plane): return plane.rawValue
        case .voxel(let axis): return String(axis)
        }
    }
}

/// Which slices of a pair's label map someone annotated. A slice nobody annotated is not a slice without the
/// structure, so support selection never uses it, neither as a positive nor as a "nothing here" example.
///
/// Declared in a sidecar (`NAME_annotated.yaml` next to the pair, or `library.yaml` for every pair of a folder
/// without its own); without one, every slice is annotated (a label volume is complete, as exported from a viewer).
public enum Annotation: Sendable, Equatable, CustomStringConvertible {
    /// Every slice, along every axis.
    case all
    /// Only the slices along the axis that hold any label value (any structure, not only a target's).
    case labelled(AnnotationAxis)
    /// Only the listed slices (0-based indices along the axis, as stored in the label file), sorted and distinct.
    case slices(AnnotationAxis, [Int])
    /// A DICOM SEG: the slices it has frames on (resolved when the SEG is read, `StudyReader.readSupport`).
    case segFrames

    public var description: String {
        switch self {
        case .all: return "all"
        case .labelled(let axis): return "labelled (\(axis))"
        case .slices(let axis, let indices): return "slices (\(axis)): \(SliceList.text(indices))"
        case .segFrames: return "the SEG's frames"
        }
    }

    /// The annotated slices of `label`, the label map this annotation describes. For `segFrames`, the slices
    /// holding labels along index axis 2 (a SEG's frames lie across it); reading the SEG gives the exact frames,
    /// empty ones included (`StudyReader.readSupport`).
    public func resolved(on label: Volume<Int32>) -> AnnotatedSlices {
        switch self {
        case .all:
            return .all
        case .segFrames:
            return .along(axis: 2, indices: Set(LabelCensus.slicesHoldingLabels(label, axis: 2)))
        case .slices(let axis, let indices):
            return .along(axis: axis.voxelAxis(in: label.affine), indices: Set(indices))
        case .labelled(let axis):
            let a = axis.voxelAxis(in: label.affine)
            return .along(axis: a, indices: Set(LabelCensus.slicesHoldingLabels(label, axis: a)))
        }
    }

    /// The sidecar text `support add` writes for this annotation (`all` needs none).
    public var sidecarText: String {
        switch self {
        case .all, .segFrames:
            return "annotated: all\n"
        case .labelled(let axis):
            return "annotated: labelled\naxis: \(axis)\n"
        case .slices(let axis, let indices):
            return "annotated: slices\naxis: \(axis)\nslices: [\(indices.map(String.init).joined(separator: ", "))]\n"
        }
    }

    /// Sidecar names: `NAME_annotated.yaml` for one pair, `library.yaml` for every pair of the folder.
    public static let pairSidecarSuffix = "_annotated.yaml"
    public static let librarySidecarName = "library.yaml"

    /// Parses a sidecar (`file` names it in errors). Keys: `annotated` (all | labelled | slices), `axis` (axial,
    /// coronal, sagittal or 0, 1, 2; required unless `all`), `slices` (a list of 0-based indices; only with
    /// `annotated: slices`, and only in a pair's own sidecar). Unknown keys are errors.
    public static func parse(_ text: String, file: String, perPair: Bool) throws -> Annotation {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw PipelineSpecError(diagnostics: [PipelineSpecParser.yamlDiagnostic(error, file: file)], source: text)
        }
        var r = NodeReader(file: file, baseFolder: URL(fileURLWithPath: file).deletingLastPathComponent())
        var result: Annotation?
        let context = URL(fileURLWithPath: file).lastPathComponent
        if let root, let f = r.fields(root, in: context, allowed: ["annotated", "axis", "slices"], required: ["annotated"]),
           let kindNode = f["annotated"], let kind = r.choice(kindNode, "annotated", Kind.self) {
            var axis: AnnotationAxis?
            if let node = f["axis"] {
                let text = r.string(node, "axis") ?? ""
                axis = AnnotationAxis(parsing: text)
                if axis == nil { r.error(node, "axis '\(text)' is neither a plane nor a voxel axis",
                                         hint: "axial, coronal, sagittal, or 0, 1, 2 (voxel axis i, j, k of the label file)") }
            } else if kind != .all {
                r.error(kindNode, "annotated: \(kind.rawValue) needs an axis",
                        hint: "add 'axis: axial' (or coronal, sagittal, 0, 1, 2): the axis the annotated slices are stacked along")
            }
            var indices: [Int] = []
            if let node = f["slices"] {
                if kind != .slices {
                    r.error(node, "slices are listed only with 'annotated: slices'")
                } else if !perPair {
                    r.error(node, "slices are per pair", hint: "list them in NAME\(pairSidecarSuffix) next to the pair")
                } else {
                    indices = r.list(node, "slices").compactMap { r.int($0, "a slice index", in: 0...Int(Int32.max)) }
                    if indices.isEmpty { r.error(node, "no slice is listed", hint: "list the annotated slices, e.g. [12, 18, 24]") }
                }
            } else if kind == .slices {
                r.error(kindNode, "annotated: slices needs a 'slices' list", hint: "e.g. slices: [12, 18, 24]")
            }
            switch (kind, axis) {
            case (.all, _): result = .all
            case (.labelled, let axis?): result = .labelled(axis)
            case (.slices, let axis?): result = .slices(axis, Array(Set(indices)).sorted())
            default: break
            }
        } else if root == nil {
            r.error(nil, "the sidecar is empty", hint: "write e.g. 'annotated: labelled' and 'axis: axial'")
        }
        let errors = r.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty, let result else { throw PipelineSpecError(diagnostics: errors, source: text) }
        return result
    }

    enum Kind: String, CaseIterable { case all, labelled, slices }
}

/// An annotation resolved on its label map: every slice, or these indices along one voxel axis.
public enum AnnotatedSlices: Sendable, Equatable {
    case all
    case along(axis: Int, indices: Set<Int>)

    /// Whether slice `index` along voxel axis `axis` of the label file is wholly annotated. A slice across the
    /// annotated ones (another axis) is annotated only on a few lines, so it is not.
    public func contains(axis: Int, index: Int) -> Bool {
        switch self {
        case .all: return true
        case .along(let a, let indices): return a == axis && indices.contains(index)
        }
    }
}

/// Slice lists as people type them: `12,18,30-34`.
public enum SliceList {
    /// The sorted, distinct indices of `text`; nil when a part is not an index or an increasing range.
    public static func parse(_ text: String) -> [Int]? {
        var result = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.trimmingCharacters(in: .whitespaces).split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let low = Int(bounds[0]), low >= 0,
                  let high = bounds.count == 2 ? Int(bounds[1]) : low, high >= low else { return nil }
            result.formUnion(low...high)
        }
        return result.sorted()
    }

    /// `12, 18, 30-34`: runs of consecutive indices shortened.
    public static func text(_ indices: [Int]) -> String {
        var parts: [String] = [], i = 0
        let sorted = Array(Set(indices)).sorted()
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(j > i ? "\(sorted[i])-\(sorted[j])" : "\(sorted[i])")
            i = j + 1
        }
        return parts.joined(separator: ", ")
    }
}

/// Counts over a label map.
enum LabelCensus {
    /// Indices along voxel axis `axis` of the slices holding any non-zero label.
    static func slicesHoldingLabels(_ label: Volume<Int32>, axis: Int) -> [Int] {
        var holds = [Bool](repeating: false, count: label.shape[axis])
        let (nx, ny) = (label.shape[0], label.shape[1])
        for (n, value) in label.voxels.enumerated() where value != 0 {
            let index = [n % nx, (n / nx) % ny, n / (nx * ny)]
            holds[index[axis]] = true
        }
        return holds.indices.filter { holds[$0] }
    }

    /// Voxels per non-zero label value.
    static func voxelCounts(_ label: Volume<Int32>) -> [Int32: Int] {
        var counts: [Int32: Int] = [:]
        for value in label.voxels where value != 0 { counts[value, default: 0] += 1 }
        return counts
    }
}
