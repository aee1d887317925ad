import ArgumentParser
import SegPipeline

/// How a whole volume is segmented: support selection and post-processing, shared by `segment` and `evaluate`.
struct WholeVolumeArguments: ParsableArguments {
    @Option(help: "Support selection: position, aligned, similarity or random.")
    var strategy: String = SupportSpec.defaultStrategy.rawValue

    @Option(help: "Groups of query slices along the axis that share support sets (position, aligned, similarity).")
    var groups = SupportSpec.defaultGroups

    @Flag(help: "Keep only the largest connected component of each target.")
    var largestComponent = false

    @Option(help: "Drop connected components smaller than this many millilitres.")
    var minComponentMl: Double = 0

    @Flag(help: "Fill cavities inside each target's mask.")
    var fillHoles = false

    @Flag(help: "Average each slice's probabilities with its neighbours' (1, 2, 1) before mapping back.")
    var smoothSlices = false

    @Flag(help: "Segment along all three axes and average the probabilities (3x the engine work or more).")
    var fuseAxes = false

    func validate() throws {
        guard SupportStrategy(rawValue: strategy) != nil else {
            throw ValidationError("--strategy must be one of \(SupportStrategy.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (1...4096).contains(groups) else { throw ValidationError("--groups must be from 1 to 4096") }
        guard minComponentMl >= 0, minComponentMl.isFinite else { throw ValidationError("--min-component-ml must be 0 or more") }
    }

    var strategyValue: SupportStrategy { SupportStrategy(rawValue: strategy)! }

    var cleanup: MaskCleanup {
        MaskCleanup(largestComponent: largestComponent, minComponentML: minComponentMl, fillHoles: fillHoles)
    }
}
