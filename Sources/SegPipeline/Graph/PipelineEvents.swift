import Foundation

public enum PipelineStage: String, Sendable, Codable {
    case discover, read, prepare, infer, assemble, write
}

/// How one study ended.
public struct StudyOutcome: Sendable {
    public enum Status: String, Sendable, Codable { case done, failed, skipped }

    public var study: StudyInput
    public var status: Status
    /// Why it failed or was skipped.
    public var reason: String?
    /// The stage that failed.
    public var stage: PipelineStage?
    public var report: StudyReport?
    /// Output files, relative to the output folder.
    public var outputs: [String]
    public var seconds: Double

    public init(study: StudyInput, status: Status, reason: String? = nil, stage: PipelineStage? = nil,
                report: StudyReport? = nil, outputs: [String] = [], seconds: Double = 0) {
        self.study = study
        self.status = status
        self.reason = reason
        self.stage = stage
        self.report = report
        self.outputs = outputs
        self.seconds = seconds
    }
}

/// What the graph tells its observer (progress display, logs, the watcher) as studies move.
public enum PipelineEvent: Sendable {
    /// A batch knows its size: `total` studies, of which `skipped` need no work.
    case planned(total: Int, skipped: Int)
    case stageStarted(study: String, stage: PipelineStage)
    /// Query slices segmented so far for a study, over all targets.
    case slicesDone(study: String, done: Int, total: Int)
    case finished(StudyOutcome)
}

/// Counts studies in flight (admitted and not yet finished) and remembers the most seen at once.
public actor InFlightGauge {
    public private(set) var current = 0
    public private(set) var peak = 0

    public init() {}

    func enter() {
        current += 1
        peak = max(peak, current)
    }

    func leave() { current -= 1 }
}
