import Foundation
import VolumeIO

/// The state of a whole run over one output folder, merged from every shard's ledger: which studies are done,
/// failed or not started, counts per shard, and whole-run figures. `universeg summary` writes it as index.html and
/// summary.json; a shard writes it when it ends, so the folder always shows the latest state.
public struct RunSummary: Codable, Sendable {
    public enum Status: String, Codable, Sendable { case done, failed, notStarted = "not started" }

    public struct Study: Codable, Sendable {
        public var study: String
        /// The shard that owns it (nil when the run is not split).
        public var shard: Int?
        public var status: Status
        /// Why it failed, or why it is not counted as done.
        public var reason: String?
        public var finishedAt: String?
        public var seconds: Double?
        /// Output files, relative to the output folder.
        public var outputs: [String]
    }

    public struct ShardCounts: Codable, Sendable, Equatable {
        public var shard: Int
        public var done = 0, failed = 0, notStarted = 0
    }

    public var pipeline: String
    public var generatedAt: String
    public var shardCount: Int?
    public var studies: [Study]
    public var shards: [ShardCounts]
    public var done: Int, failed: Int, notStarted: Int
    /// Done studies per hour of wall time, from the first done study's start to the last one's end.
    public var studiesPerHour: Double?
    public var medianSecondsPerStudy: Double?
    public var meanSecondsPerStudy: Double?

    /// Every study is done.
    public var complete: Bool { failed == 0 && notStarted == 0 }

    /// The summary of `spec`'s run: every study its input holds, judged by the ledgers as a rerun would (a study
    /// done under another definition, with changed inputs or missing outputs is not done). The split is the one
    /// of the newest shard plan in the folder, if any.
    public static func collect(spec: PipelineSpec) throws -> RunSummary {
        let folder = spec.outputs.folder
        let ledger = Ledger(outputFolder: folder)
        let entries = ledger.entries()
        let count = ShardPlan.latest(in: folder).first?.shardCount
        let studies = try StudyDiscovery.studies(for: spec).map { study -> Study in
            let entry = entries[study.name]
            let decision = ledger.decision(for: study, pipelineFingerprint: spec.fingerprint, model: nil,
                                           entries: entries, outputFolder: folder)
            let status: Status = decision.skip != nil ? .done
                : (entry?.status == .failed && entry?.pipelineFingerprint == spec.fingerprint) ? .failed : .notStarted
            return record(study.name, status: status, entry: entry, count: count,
                          reason: status == .notStarted && entry != nil ? decision.reason : nil, folder: folder)
        }
        return RunSummary(pipeline: spec.name, shardCount: count, studies: studies, folder: folder)
    }

    /// The summary from the output folder alone: the studies the newest split's shard plans name (or, for a run
    /// that was not split, those its ledger names), judged by the ledgers.
    public static func collect(outputFolder folder: URL) throws -> RunSummary {
        let plans = ShardPlan.latest(in: folder)
        let entries = Ledger(outputFolder: folder).entries()
        guard !plans.isEmpty || !entries.isEmpty else {
            throw PipelineError.unavailable("no ledger and no shard plan: not the output folder of a run (give the pipeline, "
                                            + "or the folder its outputs.folder names)", file: folder.path)
        }
        let count = plans.first?.shardCount
        let fingerprints = Set(plans.map(\.pipelineFingerprint))
        let names = plans.isEmpty ? Array(entries.keys) : plans.flatMap(\.studies)
        let studies = Set(names).sorted().map { name -> Study in
            let entry = entries[name]
            var status: Status = entry?.status == .failed ? .failed : entry == nil ? .notStarted : .done
            var reason: String?
            if let entry, !fingerprints.isEmpty, !fingerprints.contains(entry.pipelineFingerprint) {
                (status, reason) = (.notStarted, "the pipeline definition changed")
            } else if status == .done, let missing = entry?.outputs.first(where: {
                !FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
            }) {
                (status, reason) = (.notStarted, "output \(missing) is missing")
            }
            return record(name, status: status, entry: entry, count: count, reason: reason, folder: folder)
        }
        return RunSummary(pipeline: plans.first?.pipeline ?? folder.lastPathComponent, shardCount: count,
                          studies: studies, folder: folder)
    }

    private static func record(_ name: String, status: Status, entry: LedgerEntry?, count: Int?, reason: String?,
                               folder: URL) -> Study {
        let report = status == .done ? entry.flatMap { StudyReport.read(from: $0.outputs, in: folder) } : nil
        return Study(study: name, shard: count.map { Shard.index(of: name, count: $0) }, status: status,
                     reason: status == .failed ? entry?.reason : reason,
                     finishedAt: status == .notStarted ? nil : entry?.finishedAt,
                     seconds: report?.timings.totalSeconds, outputs: status == .done ? entry?.outputs ?? [] : [])
    }

    init(pipeline: String, shardCount: Int?, studies: [Study], folder: URL) {
        self.pipeline = pipeline
        generatedAt = Clock.timestamp()
        self.shardCount = shardCount
        self.studies = studies.sorted { $0.study < $1.study }
        shards = (0..<(shardCount ?? 0)).map { index in
            var counts = ShardCounts(shard: index)
            for study in studies where study.shard == index {
                switch study.status {
                case .done: counts.done += 1
                case .failed: counts.failed += 1
                case .notStarted: counts.notStarted += 1
                }
            }
            return counts
        }
        done = studies.filter { $0.status == .done }.count
        failed = studies.filter { $0.status == .failed }.count
        notStarted = studies.count - done - failed
        let timed = studies.compactMap { study -> (start: Date, end: Date, seconds: Double)? in
            guard study.status == .done, let seconds = study.seconds,
                  let end = study.finishedAt.flatMap(Clock.date) else { return nil }
            return (end.addingTimeInterval(-seconds), end, seconds)
        }
        if let first = timed.map(\.start).min(), let last = timed.map(\.end).max() {
            let wall = max(last.timeIntervalSince(first), 1)
            studiesPerHour = Double(timed.count) * 3600 / wall
            let seconds = timed.map(\.seconds).sorted()
            medianSecondsPerStudy = seconds[seconds.count / 2]
            meanSecondsPerStudy = seconds.reduce(0, +) / Double(seconds.count)
        }
    }

    /// Writes index.html, summary.json and summary.csv into `folder`, each atomically.
    public func write(to folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(self), to: folder.appendingPathComponent("summary.json"))
        var reports: [StudyReport] = []
        let rows = studies.map { study -> RunSummaryPage.Row in
            let report = StudyReport.read(from: study.outputs, in: folder)
            if let report { reports.append(report) }
            return RunSummaryPage.Row(
                study: study.study, status: study.status.rawValue,
                detail: [study.shard.map { "shard \($0)" }, study.reason].compactMap { $0 }.joined(separator: ": "),
                qcImage: study.outputs.first { $0.hasSuffix("_qc.png") },
                report: study.outputs.first { $0.hasSuffix("_report.json") },
                targets: report?.targets.map { ($0.name, $0.volumeML, $0.voxels) } ?? [],
                seconds: study.seconds, annotateNext: report?.annotateNext ?? [])
        }
        let models = Set(reports.map(\.model))
        let html = RunSummaryPage.html(pipeline: pipeline, generatedAt: generatedAt, rows: rows, models: models.sorted(),
                                       notes: notes)
        try AtomicFile.write(Data(html.utf8), to: folder.appendingPathComponent("index.html"))
        try AtomicFile.write(Data(StatisticsTable.csv(reports).utf8),
                             to: folder.appendingPathComponent(OutputSuffixes.statisticsTable))
    }

    /// The lines above the table: per-shard counts and the whole-run figures.
    var notes: [String] {
        var lines: [String] = []
        if let shardCount {
            lines.append("Split into \(shardCount) shards: " + shards.map {
                "shard \($0.shard): \($0.done) done, \($0.failed) failed, \($0.notStarted) not started"
            }.joined(separator: "; ") + ".")
        }
        if let studiesPerHour, let medianSecondsPerStudy, let meanSecondsPerStudy {
            lines.append(String(format: "%.1f studies per hour (wall time from the first done study's start to the last one's end); "
                                + "%.1f s per study (median), %.1f s (mean).", studiesPerHour, medianSecondsPerStudy,
                                meanSecondsPerStudy))
        }
        return lines
    }
}
