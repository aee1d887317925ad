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

    /// `outcome` with `report` (the outcome's own, or one read from disk) and the outputs the page links.
    init(_ outcome: StudyOutcome, report: StudyReport?, outputs: [String]) {
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

    /// `outcome` as the summary lists it.
    init(_ outcome: StudyOutcome) {
        self.init(outcome, report: outcome.report, outputs: outcome.outputs)
    }
}

/// Writes index.html and summary.csv; studies skipped as done get their numbers from their reports on disk.
public enum SummaryWriter {
    /// A study's outputs as the page links them: a report that could not be read is not linked.
    static func linkable(_ outputs: [String], report: StudyReport?) -> [String] {
        outputs.filter { report != nil || !$0.hasSuffix("_report.json") }
    }

    public static func write(spec: PipelineSpec, outcomes: [StudyOutcome]) throws {
        let folder = spec.outputs.folder
        // Read only when a study done earlier needs its outputs.
        lazy var ledger = Ledger(outputFolder: folder).entries()
        try write(spec: spec, entries: outcomes.map { outcome in
            guard outcome.report == nil, outcome.status == .skipped, let done = ledger[outcome.study.name] else {
                return SummaryEntry(outcome)
            }
            let report = StudyReport.read(from: done.outputs, in: folder)
            return SummaryEntry(outcome, report: report, outputs: linkable(done.outputs, report: report))
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
