import Foundation
import VolumeIO

/// A batch over every study in the input folder (`universeg run`), or over one shard's part of them: skips what
/// the ledgers say is done, streams the rest through the job graph, then writes the summary page (for a shard, the
/// whole run's, merged from every shard's records).
public struct BatchRun: Sendable {
    public var graph: JobGraph
    /// Redo studies the ledger lists as done.
    public var force: Bool
    /// Asked before each study starts: true stops starting studies; those in progress finish and are written.
    public var shouldStop: @Sendable () -> Bool

    /// `graph.shard` set makes this run one shard of a split run.
    public init(graph: JobGraph, force: Bool = false, shouldStop: @escaping @Sendable () -> Bool = { false }) {
        self.graph = graph
        self.force = force
        self.shouldStop = shouldStop
    }

    public struct Result: Sendable {
        public var outcomes: [StudyOutcome]
        public var peakInFlight: Int
        public var failed: Int { outcomes.filter { $0.status == .failed }.count }
        public var done: Int { outcomes.filter { $0.status == .done }.count }
        public var skipped: Int { outcomes.filter { $0.status == .skipped }.count }
        /// Studies that were due but not started because the run was asked to stop.
        public var notStarted: Int
        /// What was sent to `outputs.send` after the studies were written; nil when the pipeline sends nothing or
        /// the run was stopped (the next run sends it).
        public var delivery: Delivery.Report? = nil
    }

    public struct PlanItem: Sendable {
        public var study: StudyInput
        /// Set when the study is skipped: why.
        public var skipReason: String?
        /// Set when the study cannot be told apart from another one (see `StudyDiscovery.conflicts`); it fails
        /// without being read.
        public var conflict: String?
        /// Why the study is processed ("new", "its input files changed", "--force", ...).
        public var runReason: String
    }

    /// What a run would do with each study, without reading any voxels: process it (and why), or skip it (and why).
    public func plan() throws -> [PlanItem] {
        try Self.plan(spec: graph.spec, force: force, model: graph.segmenter.modelDescription, shard: graph.shard)
    }

    /// What a run of `spec` with `model` (nil: not known, not compared) would do with each study (of `shard`'s
    /// part, when given); needs no engine and reads no image.
    public static func plan(spec: PipelineSpec, force: Bool, model: String?, shard: Shard? = nil) throws -> [PlanItem] {
        let studies = try StudyDiscovery.studies(for: spec)
        let ledger = Ledger(outputFolder: spec.outputs.folder)
        let entries = ledger.entries()
        // Over every study, so a clash with a study of another shard is still found.
        let conflicts = StudyDiscovery.conflicts(studies, naming: spec.outputs.naming)
        return studies.filter { shard?.owns($0.name) ?? true }.map { study in
            if let conflict = conflicts[study.location] {
                return PlanItem(study: study, skipReason: nil, conflict: conflict, runReason: "")
            }
            if force { return PlanItem(study: study, skipReason: nil, runReason: "--force") }
            let d = ledger.decision(for: study, pipelineFingerprint: spec.fingerprint, model: model, entries: entries,
                                    outputFolder: spec.outputs.folder)
            return PlanItem(study: study, skipReason: d.skip, runReason: d.reason)
        }
    }

    /// For each study that would be processed, the series the selection rules pick, or why none matches
    /// (reads headers only).
    public static func describeSeries(_ study: StudyInput, spec: PipelineSpec) -> String {
        do {
            let selection = SeriesSelection.choose(try JobGraph.candidates(of: study, spec: spec), spec.inputs.series)
            guard let series = selection.chosen.first else {
                return "no matching series" + (selection.rejections.isEmpty ? "" : ": " + selection.rejections.joined(separator: "; "))
            }
            let mapping = SliceMapping(shape: series.shape, affine: series.affine,
                                       options: spec.preprocessing.slicingOptions)
            return "series \(series.id) (\(series.description)), \(series.shape.map(String.init).joined(separator: "x")) "
                + "\(series.affine.orientation), \(mapping.sliceCount) \(mapping.plane.rawValue) slices"
        } catch {
            return "cannot read its headers: \(JobGraph.describe(error))"
        }
    }

    public func run() async throws -> Result {
        let spec = graph.spec
        let lock = try OutputFolderLock(spec.outputs.folder, scope: graph.shard.map { .shard($0) } ?? .whole) {
            OutputHygiene.removeStaleTemporaries(in: spec.outputs.folder)
        }
        defer { withExtendedLifetime(lock) {} }
        let plan = try plan()
        if let shard = graph.shard {
            let everyStudy = try StudyDiscovery.studies(for: spec).map(\.name)
            try ShardPlan(pipeline: spec.name, pipelineFingerprint: spec.fingerprint, shard: shard.index,
                          shardCount: shard.count, studies: everyStudy, startedAt: Clock.timestamp(),
                          host: ProcessInfo.processInfo.hostName).write(to: spec.outputs.folder)
        }
        let skipped = plan.filter { $0.skipReason != nil }.map {
            StudyOutcome(study: $0.study, status: .skipped, reason: $0.skipReason)
        }
        let conflicting = plan.compactMap { item in
            item.conflict.map { StudyOutcome(study: item.study, status: .failed, reason: $0, stage: .discover) }
        }
        graph.events(.planned(total: plan.count, skipped: skipped.count))
        for outcome in skipped + conflicting { graph.events(.finished(outcome)) }

        let source = BoundedChannel<StudyInput>(capacity: 1)
        let collected = OutcomeLog()
        let todo = plan.filter { $0.skipReason == nil && $0.conflict == nil }.map(\.study)
        let shouldStop = self.shouldStop
        async let feeding: Void = {
            for study in todo where !shouldStop() { await source.send(study) }
            await source.finish()
        }()
        let peak = await graph.process(source, shouldStop: shouldStop) { await collected.add($0) }
        await feeding
        // Studies dropped by a stop are left out: they were not processed, and a rerun does them.
        let processed = (await collected.all).filter { $0.reason != JobGraph.stoppedReason }
        let outcomes = skipped + conflicting + processed
        if spec.outputs.summary {
            if graph.shard != nil {
                try RunSummary.collect(spec: spec).write(to: spec.outputs.folder)
            } else {
                try SummaryWriter.write(spec: spec, outcomes: outcomes)
            }
        }
        var result = Result(outcomes: outcomes, peakInFlight: peak, notStarted: todo.count - processed.count)
        if !(spec.outputs.send.isEmpty && spec.outputs.stow.isEmpty), !shouldStop() {
            // Every committed SEG a destination lacks: this run's and earlier ones' ("written, not delivered").
            let delivery = Delivery(spec: spec, shard: graph.shard)
            result.delivery = try await BlockingLane(label: "deliver").run { delivery.deliver() }
        }
        return result
    }
}

actor OutcomeLog {
    private(set) var all: [StudyOutcome] = []
    func add(_ outcome: StudyOutcome) { all.append(outcome) }
}

enum OutputHygiene {
    /// Removes `.tmp-*` files that a killed run left behind (the temporary names of StagedFiles and AtomicFile); nothing else is touched.
    static func removeStaleTemporaries(in folder: URL) {
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return }
        while let relative = walker.nextObject() as? String {
            if (relative as NSString).lastPathComponent.hasPrefix(".tmp-") {
                try? FileManager.default.removeItem(at: folder.appendingPathComponent(relative))
            }
        }
    }
}
