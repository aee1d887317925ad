import Foundation
import VolumeIO

/// One study as a run's summary shows it: its row of index.html and its lines of summary.csv, both rendered, and
/// the model that made its outputs. A watch keeps these rather than whole reports, which list every input file
/// (about 11 KB a study), so that a watch running for months stays small and rewrites its summary quickly.
struct SummaryEntry: Sendable {
    var row: RunSummaryPage.RenderedRow
    var statistics: StatisticsTable.StudyRows?
    /// Named on the page when this run made the study's outputs (not for a study skipped as done).
    var model: String?

    /// `outcome` as the summary lists it: its report's numbers, its outputs linked.
    init(_ outcome: StudyOutcome) {
        let report = outcome.report, outputs = outcome.outputs
        row = RunSummaryPage.RenderedRow(RunSummaryPage.Row(
            study: outcome.study.name, status: outcome.status.rawValue,
            detail: outcome.reason.map { (outcome.stage.map { "\($0.rawValue): " } ?? "") + $0 }
                ?? report?.warnings.joined(separator: "; ") ?? "",
            qcImage: outputs.first { $0.hasSuffix("_qc.png") },
            report: outputs.first { $0.hasSuffix("_report.json") },
            targets: report?.targets.map { ($0.name, $0.volumeML, $0.voxels) } ?? [],
            seconds: report?.timings.totalSeconds, annotateNext: report?.annotateNext ?? []))
        statistics = report.map(StatisticsTable.StudyRows.init)
        model = outcome.status == .skipped ? nil : report?.model
    }
}

extension StudyOutcome {
    /// This outcome with the report and outputs of `entry`, a study the ledger lists as done, read from `folder`.
    /// A report that cannot be read is neither summarised nor linked.
    func withReport(of entry: LedgerEntry, in folder: URL) -> StudyOutcome {
        var outcome = self
        let report = StudyReport.read(from: entry.outputs, in: folder)
        outcome.report = report
        outcome.outputs = entry.outputs.filter { report != nil || !$0.hasSuffix("_report.json") }
        return outcome
    }
}

/// Writes index.html and summary.csv; studies skipped as done get their numbers from their reports on disk.
public enum SummaryWriter {
    public static func write(spec: PipelineSpec, outcomes: [StudyOutcome]) throws {
        let folder = spec.outputs.folder
        // Read only when a study done earlier needs its outputs.
        lazy var ledger = Ledger(outputFolder: folder).entries()
        try write(spec: spec, entries: outcomes.map { outcome in
            guard outcome.report == nil, outcome.status == .skipped, let done = ledger[outcome.study.name] else {
                return SummaryEntry(outcome)
            }
            return SummaryEntry(outcome.withReport(of: done, in: folder))
        })
    }

    static func write(spec: PipelineSpec, entries: [SummaryEntry]) throws {
        let folder = spec.outputs.folder
        let html = RunSummaryPage.html(pipeline: spec.name, generatedAt: Clock.timestamp(), rows: entries.map(\.row),
                                       models: Set(entries.compactMap(\.model)).sorted())
        try AtomicFile.write(Data(html.utf8), to: folder.appendingPathComponent("index.html"))
        try AtomicFile.write(Data(StatisticsTable.csv(entries.compactMap(\.statistics)).utf8),
                             to: folder.appendingPathComponent(OutputSuffixes.statisticsTable))
    }
}
