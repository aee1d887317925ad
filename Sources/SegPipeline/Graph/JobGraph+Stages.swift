import Foundation
import VolumeIO

/// The graph's blocking stages up to the outputs, each from one stage type to the next (`StudyStages.swift`),
/// each on its own lane (see `JobGraph.process`).
extension JobGraph {
    /// The series of a study that the selection rules can choose from (headers only).
    static func candidates(of input: StudyInput, spec: PipelineSpec) throws -> [SeriesCandidate] {
        // A folder this user may not list looks empty to discovery; say why instead of "no series matches".
        if input.isFolder, access(input.location.path, R_OK | X_OK) != 0 {
            throw PipelineError.unreadable(input.location.path,
                                           reason: "cannot list the study folder: \(String(cString: strerror(errno)))")
        }
        let format = spec.inputs.format
        let images = StudyDiscovery.imageFiles(of: input, pattern: spec.inputs.image, format: format.fileFormat)
        if format.fileFormat != nil || (format == .auto && (!input.isFolder || !images.isEmpty)) {
            return try images.map { try StudyReader.fileSeries($0) }
        }
        return try StudyReader.dicomSeries(in: input.location)
    }

    func read(_ admitted: AdmittedStudy) throws -> ReadStudy {
        let start = Date()
        let input = admitted.input
        let selection = SeriesSelection.choose(try Self.candidates(of: input, spec: spec), spec.inputs.series)
        guard let series = selection.chosen.first else {
            throw PipelineError.noMatchingSeries(study: input.name, reasons: selection.rejections)
        }
        let image = try StudyReader.readImage(series)
        guard image.shape.count == 3, image.shape.allSatisfy({ $0 > 0 }), image.voxels.count == image.count,
              image.affine.inverse != nil else {
            throw PipelineError.invalidVolume(series.files.first?.path ?? input.name,
                                              reason: "the image has an empty grid or a singular affine")
        }
        let mapping = SliceMapping(shape: image.shape, affine: image.affine, source: image.source,
                                   options: spec.preprocessing.slicingOptions)
        var study = StudyInFlight(input: input, started: admitted.started, series: series, image: image, mapping: mapping)
        study.warnings += series.warnings
        if !selection.passedOver.isEmpty {
            let others = selection.passedOver.map { "\($0.id) (\($0.description))" }.joined(separator: ", ")
            study.warnings.append("\(selection.passedOver.count + 1) series match the selection rules; segmented "
                + "\(series.id) (\(series.description)) by pick: \(spec.inputs.series.pick.rawValue), not \(others)")
        }
        let nonFinite = image.voxels.reduce(0) { $1.isFinite ? $0 : $0 + 1 }
        if nonFinite > 0 {
            study.warnings.append("\(nonFinite) voxels are NaN or infinite; they were read as the darkest intensity")
        }
        let ownSupport = spec.support.perStudyFolder.flatMap { input.isFolder ? input.location.appendingPathComponent($0) : nil }
        var mappings = [mapping]
        if spec.preprocessing.fuseAxes {
            mappings += AnatomicalPlane.allCases.filter { $0 != mapping.plane }.map { plane in
                var options = spec.preprocessing.slicingOptions
                options.axis = .plane(plane)
                return SliceMapping(shape: image.shape, affine: image.affine, source: image.source, options: options)
            }
        }
        var views = mappings.map { StudyView(mapping: $0, pools: [:]) }
        for target in spec.targets {
            let libraries = target.libraries.isEmpty ? spec.support.libraries : target.libraries
            let pairs = try SupportLibrary.pairs(libraries: libraries, studyFolder: ownSupport, mode: spec.support.perStudyMode)
            guard !pairs.isEmpty else { throw PipelineError.noSupport(target: target.name, reason: "the support libraries hold no pairs") }
            // Support slices are cut in the query's anatomical plane, so both show the same view.
            for v in views.indices {
                views[v].pools[target.name] = try supportPool.examples(pairs, target: target, plane: views[v].mapping.plane)
            }
        }
        study.timings.readSeconds = Date().timeIntervalSince(start)
        return ReadStudy(study: study, views: views)
    }

    func prepare(_ read: ReadStudy) -> SlicedStudy {
        var study = read.study
        let start = Date()
        let views = read.views.map { view in
            (view, modelSlices(of: study.image, mapping: view.mapping, normalization: spec.preprocessing.normalization))
        }
        let blank = views[0].1.blank
        let blankCount = blank.filter { $0 }.count
        if blankCount > 0 {
            study.warnings.append("\(blankCount) of \(blank.count) slices are blank (one intensity throughout) "
                + "and were left unsegmented")
        }
        study.timings.prepareSeconds = Date().timeIntervalSince(start)
        return SlicedStudy(study: study, views: views)
    }

    func infer(_ sliced: SlicedStudy) throws -> InferredStudy {
        var study = sliced.study
        let start = Date()
        let total = sliced.views.map { $0.slices.blank.filter { !$0 }.count }.reduce(0, +) * spec.targets.count
        var done = 0
        var probabilities: [(mapping: SliceMapping, byTarget: [String: [ModelSlice]])] = []
        var supportUsed: [String: [String]] = [:]
        for (v, (view, slices)) in sliced.views.enumerated() {
            let queries = slices.slices.map(ModelSlice.init)
            var byTarget: [String: [ModelSlice]] = [:]
            for target in spec.targets {
                let request = SupportSelector.Request(strategy: spec.support.strategy, size: spec.model.supportSize,
                                                      ensemble: spec.model.ensemble, groups: spec.support.groups,
                                                      seed: spec.model.seed, streamName: [study.input.name, target.name])
                let engineStart = Date(), before = done
                let result = try VolumeSegmentation(queries: queries, blank: slices.blank, positions: slices.relativePositions,
                                                    pool: view.pools[target.name] ?? [], request: request,
                                                    target: target.name, segmenter: segmenter) { finished in
                    events(.slicesDone(study: study.input.name, done: before + finished, total: total))
                }
                done = before + slices.blank.filter { !$0 }.count
                study.timings.engineSeconds += Date().timeIntervalSince(engineStart)
                byTarget[target.name] = target.smoothSlices
                    ? SliceSmoothing.smoothed(result.probabilities, blank: slices.blank) : result.probabilities
                if v == 0 {
                    study.leastConfident[target.name] = SliceConfidence.leastConfident(
                        byTarget[target.name] ?? [], blank: slices.blank, count: SliceConfidence.reportedCount,
                        nativeSlice: view.mapping.nativeSliceIndex)
                }
                // Other planes' slices are named with their plane: a slice index means nothing without it.
                let plane = v == 0 ? "" : "@\(view.mapping.plane.rawValue)"
                supportUsed[target.name, default: []] += result.supportUsed.map { "\($0.source):\($0.slice)\(plane)" }
                if v == 0, let note = FieldOfView.mismatch(supportPixelSizes: result.supportUsed.map(\.pixelSize),
                                                           studyPixel: study.mapping.pixelSize,
                                                           support: "support for '\(target.name)'") {
                    study.warnings.append(note)
                }
            }
            probabilities.append((view.mapping, byTarget))
        }
        study.timings.inferSeconds = Date().timeIntervalSince(start)
        return InferredStudy(study: study, probabilities: probabilities, supportUsed: supportUsed)
    }

    func assemble(_ inferred: InferredStudy) -> AssembledStudy {
        var study = inferred.study
        let start = Date()
        var maps: [(value: Int32, probabilities: [Float])] = []
        var native: [String: Volume<Float>] = [:]
        for target in spec.targets {
            // Back onto exactly the source grid (same shape, affine and source geometry as the image); with several
            // views, their probabilities averaged there.
            var map = study.image.withVoxels([Float](repeating: 0, count: study.image.count))
            for (mapping, byTarget) in inferred.probabilities {
                let view = nativeProbabilities((byTarget[target.name] ?? []).map(\.pixels), mapping: mapping)
                for i in map.voxels.indices { map.voxels[i] += view.voxels[i] }
            }
            let scale = 1 / Float(inferred.probabilities.count)
            for i in map.voxels.indices { map.voxels[i] *= scale }
            if spec.outputs.writers.contains(.probabilities) { native[target.name] = map }
            maps.append((target.value, map.voxels))
        }
        var labels = LabelMerge.merge(maps, threshold: Float(spec.model.threshold))
        let voxelML = abs(study.image.affine.determinant) / 1000
        for target in spec.targets where !target.cleanup.isNone {
            let mask = target.cleanup.apply(labels.map { $0 == target.value }, shape: study.image.shape, voxelML: voxelML)
            for i in labels.indices where mask[i] != (labels[i] == target.value) {
                // Removed voxels become background; filled holes take the target only where no other target is.
                if !mask[i] { labels[i] = 0 } else if labels[i] == 0 { labels[i] = target.value }
            }
        }
        study.timings.assembleSeconds = Date().timeIntervalSince(start)
        return AssembledStudy(study: study, labels: study.image.withVoxels(labels), native: native,
                              supportUsed: inferred.supportUsed)
    }
}
