import Foundation
import VolumeIO

/// What the job graph's stages hand each other: each stage takes the previous stage's type and returns its own,
/// so a stage cannot run without what it needs, and each drops what later stages do not.
///
///     AdmittedStudy ─read─▶ ReadStudy ─prepare─▶ SlicedStudy ─infer─▶ InferredStudy ─assemble─▶ AssembledStudy ─write─▶ StudyOutcome

/// A study on its way through the graph: what every stage after `read` knows of it.
struct StudyInFlight: Sendable {
    var input: StudyInput
    var started: Date
    var series: SeriesCandidate
    var image: Volume<Float>
    /// How the image maps to model slices and back along the pipeline's axis; computed once, in `read`.
    var mapping: SliceMapping
    var timings = StudyReport.Timings()
    var warnings: [String] = []
    /// Per target, the slices the network was least sure about (`SliceConfidence`), set in `infer`.
    var leastConfident: [String: [SliceConfidence.Slice]] = [:]
}

/// One way of cutting the study into slices: the pipeline's axis, or with `fuse_axes` each of the three.
/// `pools`: per target, the support examples cut in the same plane.
struct StudyView: Sendable {
    var mapping: SliceMapping
    var pools: [String: [SupportExample]]
}

/// Read: the chosen series' image and its views (the first along the pipeline's axis, `study.mapping`).
struct ReadStudy: Sendable {
    var study: StudyInFlight
    var views: [StudyView]
}

/// Prepared: the image cut into normalised model slices, view by view.
struct SlicedStudy: Sendable {
    var study: StudyInFlight
    var views: [(view: StudyView, slices: ModelSlices)]
}

/// Inferred: per view and target, a probability map per model slice, and the support examples used
/// ("source:slice").
struct InferredStudy: Sendable {
    var study: StudyInFlight
    var probabilities: [(mapping: SliceMapping, byTarget: [String: [ModelSlice]])]
    var supportUsed: [String: [String]]
}

/// Assembled: the label map on the native grid, and per target the native probabilities when they are written.
struct AssembledStudy: Sendable {
    var study: StudyInFlight
    var labels: Volume<Int32>
    var native: [String: Volume<Float>]
    var supportUsed: [String: [String]]
}

/// Any stage's value: enough to report the study's end.
protocol StageValue: Sendable {
    var input: StudyInput { get }
    var started: Date { get }
}

/// A study admitted to the graph, before `read`.
struct AdmittedStudy: StageValue {
    var input: StudyInput
    var started = Date()
}

/// The values after `read`, which carry the study along.
protocol CarriesStudy: StageValue {
    var study: StudyInFlight { get }
}

extension CarriesStudy {
    var input: StudyInput { study.input }
    var started: Date { study.started }
}

extension ReadStudy: CarriesStudy {}
extension SlicedStudy: CarriesStudy {}
extension InferredStudy: CarriesStudy {}
extension AssembledStudy: CarriesStudy {}
