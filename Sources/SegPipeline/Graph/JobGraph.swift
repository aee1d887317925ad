import Foundation
import VolumeIO

/// The streaming job graph: read -> prepare (normalize + slice) -> infer -> assemble (resample back + merge) ->
/// write, one task per stage, joined by bounded channels.
///
/// - Memory: at most `maxInFlight` studies are admitted at once (a study holds its permit from read until its
///   outputs are written or it fails), so memory stays flat however many studies are queued.
/// - Cores: every stage's blocking work runs on its own serial lane; only the infer lane is CPU-heavy (the engine
///   uses all cores), so reading the next study overlaps inference without two inferences competing.
/// - Failures: a study that throws in any stage is reported as failed; the others go on.
public struct JobGraph: Sendable {
    public var spec: PipelineSpec
    public var segmenter: any Segmenter
    public var maxInFlight: Int
    public var events: @Sendable (PipelineEvent) -> Void
    let supportPool: SupportPool

    public init(spec: PipelineSpec, segmenter: any Segmenter, maxInFlight: Int = 3,
                events: @escaping @Sendable (PipelineEvent) -> Void = { _ in }) {
        precondition(maxInFlight >= 1)
        self.spec = spec
        self.segmenter = segmenter
        self.maxInFlight = maxInFlight
        self.events = events
        supportPool = SupportPool(targets: spec.targets, normalization: spec.preprocessing.normalization)
    }

    /// A study on its way through the graph; each stage fills some fields and drops what later stages don't need.
    struct Job: Sendable {
        var input: StudyInput
        var started = Date()
        var series: SeriesCandidate?
        var image: Volume<Float>?
        /// How the image maps to model slices (slicing plane, canonical order) and back.
        var mapping: SliceMapping?
        var queries: [ModelSlice] = []
        /// Query slices with one intensity throughout; they stay unsegmented (probability 0).
        var blank: [Bool] = []
        var positions: [Double] = []
        var pools: [String: [SupportExample]] = [:]
        var probabilities: [String: [ModelSlice]] = [:]
        var native: [String: Volume<Float>] = [:]
        var labels: Volume<Int32>?
        var supportUsed: [String: [String]] = [:]
        var timings = StudyReport.Timings()
        var warnings: [String] = []
    }

    /// Processes studies from `source` until it is finished and drained; `onOutcome` sees each study as it ends
    /// (done or failed), in completion order. Returns the most studies that were in flight at once.
    @discardableResult
    public func process(_ source: BoundedChannel<StudyInput>,
                        onOutcome: @escaping @Sendable (StudyOutcome) async -> Void) async -> Int {
        let depth = spec.concurrency.queueDepth
        let toPrepare = BoundedChannel<Job>(capacity: depth), toInfer = BoundedChannel<Job>(capacity: depth)
        let toAssemble = BoundedChannel<Job>(capacity: depth), toWrite = BoundedChannel<Job>(capacity: depth)
        let slots = AsyncSemaphore(permits: maxInFlight)
        let gauge = InFlightGauge()
        let lanes = (read: BlockingLane(label: "read"), prepare: BlockingLane(label: "prepare"),
                     infer: BlockingLane(label: "infer"), assemble: BlockingLane(label: "assemble"),
                     write: BlockingLane(label: "write"))

        let fail: @Sendable (Job, PipelineStage, any Error) async -> Void = { job, stage, error in
            let outcome = StudyOutcome(study: job.input, status: .failed, reason: Self.describe(error), stage: stage,
                                       seconds: Date().timeIntervalSince(job.started))
            // Recorded so the failure is on disk; a rerun still retries it (only 'done' entries are skipped).
            if spec.outputs.ledger { try? Ledger(outputFolder: spec.outputs.folder).append(LedgerEntry(
                study: job.input.name, status: .failed, inputFingerprint: job.input.fingerprint,
                pipelineFingerprint: spec.fingerprint, outputs: [], reason: "\(stage.rawValue): \(outcome.reason ?? "")",
                finishedAt: Clock.timestamp())) }
            events(.finished(outcome))
            await onOutcome(outcome)
            await gauge.leave()
            await slots.release()
        }

        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while true {
                    await slots.acquire()
                    guard let input = await source.next() else {
                        await slots.release()
                        break
                    }
                    await gauge.enter()
                    let job = Job(input: input)
                    events(.stageStarted(study: input.name, stage: .read))
                    do {
                        await toPrepare.send(try await lanes.read.run { try self.read(job) })
                    } catch {
                        await fail(job, .read, error)
                    }
                }
                await toPrepare.finish()
            }
            group.addTask { await stage(.prepare, from: toPrepare, to: toInfer, lane: lanes.prepare, fail: fail, prepare) }
            group.addTask { await stage(.infer, from: toInfer, to: toAssemble, lane: lanes.infer, fail: fail, infer) }
            group.addTask { await stage(.assemble, from: toAssemble, to: toWrite, lane: lanes.assemble, fail: fail, assemble) }
            group.addTask {
                while let job = await toWrite.next() {
                    events(.stageStarted(study: job.input.name, stage: .write))
                    do {
                        let outcome = try await lanes.write.run { try self.write(job) }
                        events(.finished(outcome))
                        await onOutcome(outcome)
                        await gauge.leave()
                        await slots.release()
                    } catch {
                        await fail(job, .write, error)
                    }
                }
            }
        }
        return await gauge.peak
    }

    private func stage(_ name: PipelineStage, from input: BoundedChannel<Job>, to output: BoundedChannel<Job>,
                       lane: BlockingLane, fail: @Sendable (Job, PipelineStage, any Error) async -> Void,
                       _ work: @escaping @Sendable (Job) throws -> Job) async {
        while let job = await input.next() {
            events(.stageStarted(study: job.input.name, stage: name))
            do {
                await output.send(try await lane.run { try work(job) })
            } catch {
                await fail(job, name, error)
            }
        }
        await output.finish()
    }

    /// The reason alone, for errors whose message would name a file the caller names already.
    static func reason(_ error: any Error) -> String {
        if case .writeFailed(_, let reason)? = error as? VolumeIOError { return reason }
        if let error = error as? VolumeIOError { return error.reason }
        if let error = error as? DicomError { return error.reason }
        return describe(error)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PipelineError { return error.description }
        if error is CocoaError { return error.localizedDescription }
        return String(describing: error)
    }

    // MARK: Stages (blocking; each runs on its lane)

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
        let start = Date()
        let total = job.blank.filter { !$0 }.count * spec.targets.count
        var done = 0
        for target in spec.targets {
            let request = SupportSelector.Request(strategy: spec.support.strategy, size: spec.model.supportSize,
                                                  ensemble: spec.model.ensemble, groups: spec.support.groups,
                                                  seed: spec.model.seed, streamName: [job.input.name, target.name])
            let groups = try SupportSelector.plan(queries: job.queries, positions: job.positions,
                                                  pool: job.pools[target.name] ?? [], request, target: target.name)
            var probabilities = [ModelSlice](repeating: .zero, count: job.queries.count)
            var used: [String] = []
            for var group in groups {
                group.queries.removeAll { job.blank[$0] }
                guard !group.queries.isEmpty else { continue }
                let engineStart = Date()
                let before = done
                let result = try segmenter.probabilities(queries: group.queries.map { job.queries[$0] },
                                                         supportSets: group.supportSets) { finished in
                    done = before + finished
                    events(.slicesDone(study: job.input.name, done: done, total: total))
                }
                job.timings.engineSeconds += Date().timeIntervalSince(engineStart)
                guard result.count == group.queries.count else {
                    throw PipelineError.unavailable("the engine returned \(result.count) slices for \(group.queries.count) queries")
                }
                for (slot, index) in group.queries.enumerated() { probabilities[index] = result[slot] }
                for example in group.supportSets.joined() where !used.contains("\(example.source):\(example.slice)") {
                    used.append("\(example.source):\(example.slice)")
                }
                done = before + group.queries.count
            }
            job.probabilities[target.name] = probabilities
            job.supportUsed[target.name] = used
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

    func write(_ job: Job) throws -> StudyOutcome {
        var job = job
        let start = Date()
        guard let image = job.image, let labels = job.labels, let series = job.series, let mapping = job.mapping else {
            preconditionFailure("write needs the image, labels, series and mapping")
        }
        let folder = spec.outputs.folder
        var stem = NamingPattern.expand(spec.outputs.naming, study: job.input.name, series: series.id, pipeline: spec.name)
        if let file = spec.outputs.labelMapFile {
            stem = NiftiFileName.stem(file.lastPathComponent)
        }
        var outputs: [String] = []
        // Every output is staged and all are renamed into place at the end: a failed write (disk full) leaves
        // none of this attempt's files, and a previous run's outputs whole.
        var files = StagedFiles()
        defer { files.discard() }
        /// Runs `body`, which writes the output to the (temporary) URL it is given.
        func output(_ suffix: String, _ body: (URL) throws -> Void) throws {
            var relative = stem + suffix
            // `segment --out seg.nii.gz`: the label map goes exactly there, its SEG beside it as seg.dcm.
            if let file = spec.outputs.labelMapFile, suffix == "_seg.nii.gz" { relative = file.lastPathComponent }
            if spec.outputs.labelMapFile != nil, suffix == "_seg.dcm" { relative = stem + ".dcm" }
            let url = folder.appendingPathComponent(relative)
            do {
                try files.stage(url, body)
            } catch {
                throw PipelineError.writeFailed(url.path, reason: Self.reason(error))
            }
            outputs.append(relative)
        }
        let writers = spec.outputs.writers
        if writers.contains(.nifti) {
            try output("_seg.nii.gz") { try NiftiWriter.write(labels, to: $0) }
        }
        if writers.contains(.dicomSeg) {
            if series.format == .dicom {
                var options = DicomSegOptions()
                options.seriesDescription = "UniverSeg \(spec.name)"
                options.softwareVersions = ToolInfo.version
                let segments = spec.targets.map { (value: $0.value, name: $0.name) }
                try output("_seg.dcm") { try DicomSegWriter.write(labels, segments: segments, to: $0, options: options) }
            } else {
                job.warnings.append("dicom-seg not written: the study is NIfTI, not DICOM")
            }
        }
        if writers.contains(.probabilities) {
            for target in spec.targets {
                guard let map = job.native[target.name] else { continue }
                try output("_prob-\(target.name).nii.gz") { try NiftiWriter.write(map, to: $0) }
            }
        }
        if writers.contains(.qc) {
            let picture = QCImage.render(image: image, labels: labels, plane: mapping.plane, values: spec.targets.map(\.value))
            let png = PNGEncoder.encode(width: picture.width, height: picture.height, rgb: picture.rgb)
            try output("_qc.png") { try png.write(to: $0) }
        }
        job.timings.writeSeconds = Date().timeIntervalSince(start)
        job.timings.totalSeconds = Date().timeIntervalSince(job.started)
        let report = makeReport(job, image: image, labels: labels, series: series, mapping: mapping,
                                outputs: outputs + (writers.contains(.report) ? [stem + "_report.json"] : []))
        if writers.contains(.report) {
            let data = try report.encoded()
            try output("_report.json") { try data.write(to: $0) }
        }
        do {
            try files.commit()
        } catch {
            throw PipelineError.writeFailed(folder.path, reason: Self.reason(error))
        }
        if spec.outputs.ledger { try Ledger(outputFolder: folder).append(LedgerEntry(
            study: job.input.name, status: .done, inputFingerprint: job.input.fingerprint,
            pipelineFingerprint: spec.fingerprint, outputs: outputs, reason: nil, finishedAt: report.finishedAt,
            model: segmenter.modelDescription)) }
        return StudyOutcome(study: job.input, status: .done, report: report, outputs: outputs,
                            seconds: Date().timeIntervalSince(job.started))
    }

    func makeReport(_ job: Job, image: Volume<Float>, labels: Volume<Int32>, series: SeriesCandidate,
                    mapping: SliceMapping, outputs: [String]) -> StudyReport {
        let axis = mapping.nativeSliceAxis
        let voxelML = image.spacing.reduce(1, *) / 1000
        var counts: [Int32: Int] = [:]
        var slicesWith: [Int32: Set<Int>] = [:]
        for k in 0..<labels.shape[2] { for j in 0..<labels.shape[1] { for i in 0..<labels.shape[0] {
            let value = labels[i, j, k]
            guard value != 0 else { continue }
            counts[value, default: 0] += 1
            slicesWith[value, default: []].insert([i, j, k][axis])
        } } }
        let targets = spec.targets.map { target in
            StudyReport.Target(name: target.name, value: target.value, supportLabels: target.supportLabels,
                               voxels: counts[target.value] ?? 0, volumeML: Double(counts[target.value] ?? 0) * voxelML,
                               slicesWithMask: slicesWith[target.value]?.count ?? 0,
                               supportUsed: job.supportUsed[target.name] ?? [])
        }
        var warnings = job.warnings
        for target in targets where target.voxels == 0 {
            warnings.append("target '\(target.name)' is empty: no voxel reached the threshold \(spec.model.threshold)")
        }
        return StudyReport(
            study: job.input.name, series: series.id, seriesDescription: series.description, format: series.format,
            inputs: series.files.map(\.path), pipeline: spec.name, pipelineFingerprint: spec.fingerprint,
            tool: ToolInfo.version, model: segmenter.modelDescription,
            geometry: .init(shape: image.shape, spacingMM: image.spacing, orientation: image.orientation,
                            affine: image.affine.values),
            sliceAxis: axis, slicePlane: mapping.plane.rawValue, slicesProcessed: mapping.sliceCount, supportStrategy: spec.support.strategy.rawValue,
            supportSize: spec.model.supportSize, ensemble: spec.model.ensemble, threshold: spec.model.threshold,
            seed: spec.model.seed, targets: targets, timings: job.timings, warnings: warnings, outputs: outputs,
            finishedAt: Clock.timestamp())
    }
}
