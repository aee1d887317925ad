import Foundation
import VolumeIO

/// The graph's blocking stages up to the outputs: each takes a job and returns it with its stage's fields filled,
/// and runs on its own lane (see `JobGraph.process`).
extension JobGraph {
    /// The series of a study that the selection rules can choose from (headers only).
    static func candidates(of input: StudyInput, spec: PipelineSpec) throws -> [SeriesCandidate] {
        let images = StudyDiscovery.niftiImages(of: input, pattern: spec.inputs.image)
        let useNifti = spec.inputs.format == .nifti || (spec.inputs.format == .auto && (!input.isFolder || !images.isEmpty))
        if useNifti {
            return try images.map { try StudyReader.niftiSeries($0) }
        }
        return try StudyReader.dicomSeries(in: input.location)
    }

    func read(_ job: Job) throws -> Job {
        var job = job
        let start = Date()
        let selection = SeriesSelection.choose(try Self.candidates(of: job.input, spec: spec), spec.inputs.series)
        guard let series = selection.chosen.first else {
            throw PipelineError.noMatchingSeries(study: job.input.name, reasons: selection.rejections)
        }
        let image = try StudyReader.readImage(series)
        guard image.shape.count == 3, image.shape.allSatisfy({ $0 > 0 }), image.voxels.count == image.count,
              image.affine.inverse != nil else {
            throw PipelineError.invalidVolume(series.files.first?.path ?? job.input.name,
                                              reason: "the image has an empty grid or a singular affine")
        }
        job.series = series
        job.warnings += series.warnings
        if !selection.passedOver.isEmpty {
            let others = selection.passedOver.map { "\($0.id) (\($0.description))" }.joined(separator: ", ")
            job.warnings.append("\(selection.passedOver.count + 1) series match the selection rules; segmented "
                + "\(series.id) (\(series.description)) by pick: \(spec.inputs.series.pick.rawValue), not \(others)")
        }
        let nonFinite = image.voxels.reduce(0) { $1.isFinite ? $0 : $0 + 1 }
        if nonFinite > 0 {
            job.warnings.append("\(nonFinite) voxels are NaN or infinite; they were read as the darkest intensity")
        }
        let mapping = SliceMapping(shape: image.shape, affine: image.affine, source: image.source,
                                   options: spec.preprocessing.slicingOptions)
        job.mapping = mapping
        let ownSupport = spec.support.perStudyFolder.flatMap { job.input.isFolder ? job.input.location.appendingPathComponent($0) : nil }
        for target in spec.targets {
            let libraries = target.libraries.isEmpty ? spec.support.libraries : target.libraries
            let pairs = try SupportLibrary.pairs(libraries: libraries, studyFolder: ownSupport, mode: spec.support.perStudyMode)
            guard !pairs.isEmpty else { throw PipelineError.noSupport(target: target.name, reason: "the support libraries hold no pairs") }
            // Support slices are cut in the query's anatomical plane, so both show the same view.
            job.pools[target.name] = try supportPool.examples(pairs, target: target, plane: mapping.plane)
        }
        job.image = image
        job.timings.readSeconds = Date().timeIntervalSince(start)
        return job
    }

    func prepare(_ job: Job) throws -> Job {
        var job = job
        let start = Date()
        guard let image = job.image else { preconditionFailure("prepare needs a read image") }
        let slices = modelSlices(of: image, options: spec.preprocessing.slicingOptions)
        job.queries = slices.slices.map { ModelSlice(pixels: $0) }
        job.blank = slices.blank
        job.positions = slices.relativePositions
        let blankCount = slices.blank.filter { $0 }.count
        if blankCount > 0 {
            job.warnings.append("\(blankCount) of \(slices.blank.count) slices are blank (one intensity throughout) "
                + "and were left unsegmented")
        }
        job.mapping = slices.mapping
        job.timings.prepareSeconds = Date().timeIntervalSince(start)
        return job
    }

    func infer(_ job: Job) throws -> Job {
        var job = job
        guard let mapping = job.mapping else { preconditionFailure("infer needs the slice mapping") }
        let start = Date()
        let activeCount = job.blank.filter { !$0 }.count
        let total = activeCount * spec.targets.count
        for (t, target) in spec.targets.enumerated() {
            let request = SupportSelector.Request(strategy: spec.support.strategy, size: spec.model.supportSize,
                                                  ensemble: spec.model.ensemble, groups: spec.support.groups,
                                                  seed: spec.model.seed, streamName: [job.input.name, target.name])
            let engineStart = Date()
            let result = try VolumeSegmentation(queries: job.queries, blank: job.blank, positions: job.positions,
                                                pool: job.pools[target.name] ?? [], request: request,
                                                target: target.name, segmenter: segmenter) { done in
                events(.slicesDone(study: job.input.name, done: t * activeCount + done, total: total))
            }
            job.timings.engineSeconds += Date().timeIntervalSince(engineStart)
            job.probabilities[target.name] = result.probabilities
            job.supportUsed[target.name] = result.supportUsed.map { "\($0.source):\($0.slice)" }
            if let note = FieldOfView.mismatch(supportPixelSizes: result.supportUsed.map(\.pixelSize),
                                               studyPixel: mapping.pixelSize, support: "support for '\(target.name)'") {
                job.warnings.append(note)
            }
        }
        job.pools = [:]
        job.queries = []
        job.blank = []
        job.timings.inferSeconds = Date().timeIntervalSince(start)
        return job
    }

    func assemble(_ job: Job) throws -> Job {
        var job = job
        let start = Date()
        guard let image = job.image, let mapping = job.mapping else { preconditionFailure("assemble needs the image") }
        var maps: [(value: Int32, probabilities: [Float])] = []
        for target in spec.targets {
            // Back onto exactly the source grid: same shape, affine and source geometry as the image.
            let native = nativeProbabilities((job.probabilities[target.name] ?? []).map(\.pixels), mapping: mapping)
            job.native[target.name] = native
            maps.append((target.value, native.voxels))
        }
        job.probabilities = [:]
        job.labels = image.withVoxels(LabelMerge.merge(maps, threshold: Float(spec.model.threshold)))
        if !spec.outputs.writers.contains(.probabilities) { job.native = [:] }
        job.timings.assembleSeconds = Date().timeIntervalSince(start)
        return job
    }
}
