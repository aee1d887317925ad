import ArgumentParser
import Foundation
import SegPipeline

/// `universeg support check|add`: checks a support library, or adds one pair to it. The rules are
/// `PairCheck`/`SupportCheck` and `SupportAdd` (SegPipeline); these commands only parse and print.
struct SupportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "support",
        abstract: "Check a support library, or add an image + label pair to one.",
        subcommands: [SupportCheckCommand.self, SupportAddCommand.self])
}

struct SupportCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "List each pair of a support library with its labels, annotated slices and problems.",
        discussion: """
            For each pair: the labels with their voxel counts and volumes, slices per voxel axis (annotated, \
            holding labels), the field of view, and problems. Unusable: image and label on different grids or \
            orientations, labelled voxels outside the image, an empty label map, annotated slices beyond the \
            volume, a file that cannot be read. Warnings: labels on slices not declared annotated, annotated \
            slices holding no label, a pair repeating another's image.
            Exit status: 0 every pair is usable, 1 a pair is unusable or the folder is not a library.
            """)

    @Argument(help: "The support library folder.")
    var library: String

    @Flag(help: "Print the check as JSON.")
    var json = false

    func run() throws {
        let check: SupportCheck
        do { check = try SupportCheck.run(URL(fileURLWithPath: library)) } catch {
            printError(error)
            throw ExitCode.failure
        }
        print(json ? check.jsonText() : check.text())
        if !check.usable { throw ExitCode.failure }
    }
}

struct SupportAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Copy (or link) an image + label pair into a support library under its naming.",
        discussion: """
            Writes LIBRARY/NAME_image.nii.gz and LIBRARY/NAME_label.nii.gz (the inputs' own extensions), and \
            NAME_annotated.yaml when only some slices were annotated (--slices or --labelled-slices). The library \
            folder is created when missing. Refused, with nothing written: a name already in the library (nothing \
            is overwritten), a pair that `support check` finds unusable (image and label on different grids, empty \
            label, slices beyond the volume), an image the library already holds.
            Exit status: 0 added, 1 refused (one line naming the file and the reason).
            """)

    @Argument(help: "The support library folder.")
    var library: String

    @Option(help: "The image (.nii or .nii.gz).")
    var image: String

    @Option(help: "Its label map, on the image's grid (.nii or .nii.gz).")
    var label: String

    @Option(help: "The pair's name (default: the image's file name without extension and '_image').")
    var name: String?

    @Option(help: "Only these slices were annotated, e.g. 12,18,30-34 (0-based indices along --axis, as stored in the file).")
    var slices: String?

    @Flag(help: "Only the slices holding any label were annotated (along --axis).")
    var labelledSlices = false

    @Option(help: "The axis of --slices or --labelled-slices: axial, coronal, sagittal, or voxel axis 0, 1, 2.")
    var axis = "axial"

    @Flag(help: "Link to the files (symbolic links, absolute paths) instead of copying them.")
    var link = false

    func validate() throws {
        if slices != nil && labelledSlices { throw ValidationError("give --slices or --labelled-slices, not both") }
        if AnnotationAxis(parsing: axis) == nil {
            throw ValidationError("--axis '\(axis)' is neither axial, coronal, sagittal nor 0, 1, 2")
        }
        if let slices, SliceList.parse(slices) == nil {
            throw ValidationError("--slices '\(slices)' is not a list of slice indices such as 12,18,30-34")
        }
    }

    func run() throws {
        let along = AnnotationAxis(parsing: axis)!
        let annotation: Annotation = slices.flatMap(SliceList.parse).map { .slices(along, $0) }
            ?? (labelledSlices ? .labelled(along) : .all)
        let request = SupportAdd.Request(library: URL(fileURLWithPath: library), image: URL(fileURLWithPath: image),
                                         label: URL(fileURLWithPath: label), name: name, annotation: annotation, link: link)
        do {
            let (pair, check) = try SupportAdd.add(request)
            print("added \(pair.name) to \(library)")
            print(SupportCheck.pairLines(check).joined(separator: "\n"))
        } catch {
            printError(error)
            throw ExitCode.failure
        }
    }
}

/// How `support check` prints.
extension SupportCheck {
    func jsonText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    func text() -> String {
        let unusable = pairs.filter { !$0.usable }.count
        var lines = ["\(library): \(pairs.count) pair(s), \(unusable) unusable"]
        for pair in pairs {
            lines.append("")
            lines += Self.pairLines(pair)
        }
        return lines.joined(separator: "\n")
    }

    static func pairLines(_ pair: PairCheck) -> [String] {
        let number = { (x: Double) in String(format: "%g", (x * 1000).rounded() / 1000) }
        var lines = ["\(pair.name): \(pair.usable ? "usable" : "UNUSABLE")"]
        lines.append("  image:      \(pair.image)")
        lines.append("  label:      \(pair.label)")
        if !pair.shape.isEmpty {
            lines.append("  grid:       \(pair.shape.map(String.init).joined(separator: " x ")) voxels, "
                         + "\(pair.spacing.map(number).joined(separator: " x ")) mm, \(pair.orientation)")
            lines.append("  field of view: \(pair.fieldOfView.map(number).joined(separator: " x ")) mm")
        }
        let labels = pair.labels.map { "\($0.value): \($0.voxels) voxels (\(String(format: "%.2f", $0.millilitres)) mL)" }
        lines.append("  labels:     \(labels.isEmpty ? "none" : labels.joined(separator: ", "))")
        lines.append("  annotated:  \(pair.annotation)\(pair.sidecar.map { " (from \(URL(fileURLWithPath: $0).lastPathComponent))" } ?? "")")
        for axis in pair.axes {
            lines.append("  axis \(axis.axis) (\(axis.plane)): \(axis.slices) slices, \(axis.annotated) annotated, "
                         + "\(axis.labelled) holding labels")
        }
        if let sparse = pair.annotatedSlices {
            lines.append("  annotated slices along axis \(sparse.axis): \(SliceList.text(sparse.indices))")
        }
        for problem in pair.problems { lines.append("  \(problem.severity.rawValue): \(problem.message)") }
        return lines
    }
}
