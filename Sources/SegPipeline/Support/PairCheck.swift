import Diagnostics
import Foundation
import VolumeIO

/// What `universeg support check` finds in one pair: its geometry, labels, annotated slices and problems.
/// A pair with an `unusable` problem would fail or mislead every run that uses it.
public struct PairCheck: Sendable, Codable, Equatable {
    public struct Problem: Sendable, Codable, Equatable {
        public enum Severity: String, Sendable, Codable { case unusable, warning }
        public var severity: Severity
        public var message: String
    }

    public struct LabelCount: Sendable, Codable, Equatable {
        public var value: Int32
        public var voxels: Int
        public var millilitres: Double
    }

    /// Per voxel axis of the label file: its slices, those annotated, and those holding any label.
    public struct AxisSlices: Sendable, Codable, Equatable {
        public var axis: Int
        /// The anatomical plane the axis is closest to being the normal of (axial, coronal, sagittal).
        public var plane: String
        public var slices: Int
        public var annotated: Int
        public var labelled: Int
    }

    public var name: String
    public var image: String
    public var label: String
    public var annotation: String
    public var sidecar: String?
    public var shape: [Int] = []
    public var spacing: [Double] = []
    public var orientation: String = ""
    /// Extent along each voxel axis in millimetres (voxels x spacing).
    public var fieldOfView: [Double] = []
    public var labels: [LabelCount] = []
    public var axes: [AxisSlices] = []
    /// The annotated slice indices, for a sparse annotation (`axis`, `indices`); nil when every slice is.
    public var annotatedSlices: AnnotatedList?
    public var problems: [Problem] = []

    public struct AnnotatedList: Sendable, Codable, Equatable {
        public var axis: Int
        public var indices: [Int]
    }

    public var usable: Bool { !problems.contains { $0.severity == .unusable } }

    /// Checks `pair` against every rule (see `problems(image:label:annotation:)`).
    public static func check(_ pair: LabelledPair) -> PairCheck { checkAndFingerprint(pair).check }

    /// The check, and the image's `ImageFingerprint` when it could be read.
    static func checkAndFingerprint(_ pair: LabelledPair) -> (check: PairCheck, fingerprint: String?) {
        var result = PairCheck(name: pair.name, image: pair.image.path, label: pair.label.path,
                               annotation: pair.annotation.description, sidecar: pair.sidecar?.path)
        let read: SupportVolumes
        do { read = try StudyReader.readSupport(pair) } catch {
            result.problems.append(Problem(severity: .unusable, message: ErrorText.line(error)))
            return (result, nil)
        }
        result.fill(image: read.image, label: read.label, annotation: pair.annotation, annotated: read.annotated)
        return (result, ImageFingerprint.of(read.image))
    }

    mutating func fill(image: Volume<Float>, label: Volume<Int32>, annotation: Annotation, annotated resolved: AnnotatedSlices) {
        shape = image.shape
        spacing = image.spacing
        orientation = image.orientation
        fieldOfView = zip(image.shape, image.spacing).map { Double($0) * $1 }
        let voxelML = abs(label.affine.determinant) / 1000
        labels = LabelCount.of(label, voxelML: voxelML)
        problems = Self.problems(image: image, label: label, annotation: annotation)
        guard label.shape.count == 3 else { return }
        let orientation = AxisOrientation(label.affine)
        axes = (0..<3).map { a in
            let labelled = LabelCensus.slicesHoldingLabels(label, axis: a)
            let annotated: Int
            switch resolved {
            case .all: annotated = label.shape[a]
            case .along(let axis, let indices): annotated = axis == a ? indices.filter { $0 < label.shape[a] }.count : 0
            }
            return AxisSlices(axis: a, plane: AnatomicalPlane(normalAxis: orientation.worldAxis[a]).rawValue,
                              slices: label.shape[a], annotated: annotated, labelled: labelled.count)
        }
        if case .along(let axis, let indices) = resolved { annotatedSlices = AnnotatedList(axis: axis, indices: indices.sorted()) }
    }

    /// Every rule a pair must pass, in order. Unusable: image and label on different grids (orientation, shape,
    /// spacing or origin), labelled voxels outside the image, an empty label map, annotated slices outside the
    /// volume. Warnings: labels on slices not declared annotated (never used), annotated slices holding no label.
    public static func problems(image: Volume<Float>, label: Volume<Int32>, annotation: Annotation) -> [Problem] {
        var found: [Problem] = []
        func unusable(_ message: String) { found.append(Problem(severity: .unusable, message: message)) }
        func warning(_ message: String) { found.append(Problem(severity: .warning, message: message)) }
        let grid = SliceMapping(shape: image.shape, affine: image.affine)
        if !grid.matchesGrid(label) {
            let shapes = { (v: [Int]) in v.map(String.init).joined(separator: " x ") }
            if image.orientation != label.orientation {
                unusable("image and label have different orientations (\(image.orientation) vs \(label.orientation))")
            } else if image.shape != label.shape {
                unusable("image and label are on different grids (\(shapes(image.shape)) vs \(shapes(label.shape)) voxels)")
            } else {
                let offset = zip(image.affine.values, label.affine.values).map { abs($0 - $1) }.max() ?? 0
                unusable("image and label are on different grids (their affines differ by up to "
                         + String(format: "%.3g", offset) + " mm)")
            }
            let outside = labelledVoxelsOutside(image: image, label: label)
            if outside > 0 { unusable("\(outside) labelled voxel(s) lie outside the image") }
        }
        if !label.voxels.contains(where: { $0 != 0 }) { unusable("the label map is empty (no voxel holds a label)") }
        guard label.shape.count == 3 else { return found }
        if case .slices(let axisName, let indices) = annotation {
            let axis = axisName.voxelAxis(in: label.affine), count = label.shape[axis]
            let beyond = indices.filter { $0 >= count }
            if !beyond.isEmpty {
                unusable("annotated slice(s) \(SliceList.text(beyond)) are beyond the \(count) slices along axis \(axis)")
            }
            let labelled = Set(LabelCensus.slicesHoldingLabels(label, axis: axis))
            let ignored = labelled.subtracting(indices)
            if !ignored.isEmpty {
                warning("slice(s) \(SliceList.text(Array(ignored))) along axis \(axis) hold labels but are not declared "
                        + "annotated; they are never used")
            }
            if labelled.isDisjoint(with: indices) && !labelled.isEmpty {
                warning("no annotated slice holds a label: the pair gives only \"nothing here\" examples")
            }
        }
        return found
    }

    /// Labelled voxels whose centres fall outside the image's voxel grid (only possible when the grids differ).
    static func labelledVoxelsOutside(image: Volume<Float>, label: Volume<Int32>) -> Int {
        guard label.shape.count == 3, image.shape.count == 3, let toImage = image.affine.inverse else { return 0 }
        let step = toImage * label.affine
        let (nx, ny) = (label.shape[0], label.shape[1])
        var outside = 0
        for (n, value) in label.voxels.enumerated() where value != 0 {
            let p = step.apply([Double(n % nx), Double((n / nx) % ny), Double(n / (nx * ny))])
            if (0..<3).contains(where: { p[$0] < -0.5 || p[$0] > Double(image.shape[$0]) - 0.5 }) { outside += 1 }
        }
        return outside
    }
}

extension PairCheck.LabelCount {
    static func of(_ label: Volume<Int32>, voxelML: Double) -> [PairCheck.LabelCount] {
        LabelCensus.voxelCounts(label).sorted { $0.key < $1.key }.map {
            PairCheck.LabelCount(value: $0.key, voxels: $0.value, millilitres: Double($0.value) * voxelML)
        }
    }
}

/// A whole library checked: every pair, then pairs that repeat another's image.
public struct SupportCheck: Sendable, Codable, Equatable {
    public var library: String
    public var pairs: [PairCheck]

    public var usable: Bool { pairs.allSatisfy(\.usable) }

    /// Checks every pair of `folder` (the folder's own errors, e.g. half a pair, are thrown as `PairFolderError`).
    public static func run(_ folder: URL) throws(PairFolderError) -> SupportCheck {
        let pairs = try LabelledPair.scan(folder)
        var checks: [PairCheck] = []
        var seen: [String: String] = [:]   // image fingerprint -> first pair's name
        for pair in pairs {
            var (check, fingerprint) = PairCheck.checkAndFingerprint(pair)
            if let print = fingerprint {
                if let first = seen[print] {
                    check.problems.append(PairCheck.Problem(severity: .warning, message:
                        "same image as pair \(first) (a duplicate weighs one case twice in support selection)"))
                } else {
                    seen[print] = pair.name
                }
            }
            checks.append(check)
        }
        return SupportCheck(library: folder.path, pairs: checks)
    }
}

/// Voxels, shape and affine of an image, hashed: two files holding the same image (whatever their compression or
/// name) have the same fingerprint.
enum ImageFingerprint {
    static func of(_ pair: LabelledPair) throws -> String {
        of(try StudyReader.readSupport(pair).image)
    }

    static func of(_ image: Volume<Float>) -> String {
        var hash = FNV1a.offsetBasis
        func mix(_ buffer: UnsafeRawBufferPointer) { hash = FNV1a.hash(buffer, basis: hash) }
        image.shape.map { Int64($0) }.withUnsafeBytes(mix)
        image.affine.values.withUnsafeBytes(mix)
        image.voxels.withUnsafeBytes(mix)
        return String(format: "%016llx", hash)
    }
}
