import DicomNetwork
import Foundation
import SegPipeline
import Synchronization

/// Shows pipeline progress: a redrawn status line on a terminal (studies, slices, ETA), plain timestamped lines
/// otherwise, JSON lines with --json, and only failures with --quiet. Thread-safe: events come from every stage.
final class ConsoleReporter: Sendable {
    enum Mode { case terminal, plain, json, quiet }

    struct State {
        var total = 0
        var finished = 0
        var skipped = 0
        var failed = 0
        var secondsPerStudy: [Double] = []
        var current: [String: String] = [:]
        var started = Date()
    }

    let mode: Mode
    private let state = Mutex(State())

    init(options: LogOptions) {
        if options.json { mode = .json } else if options.quiet { mode = .quiet }
        else { mode = isatty(STDERR_FILENO) == 1 ? .terminal : .plain }
    }

    func handle(_ event: PipelineEvent) {
        switch mode {
        case .json: json(event)
        case .quiet:
            if case .finished(let outcome) = event, outcome.status == .failed {
                line("\(outcome.study.name): failed in \(outcome.stage?.rawValue ?? "?"): \(outcome.reason ?? "")")
            }
        case .plain, .terminal: text(event)
        }
    }

    private func text(_ event: PipelineEvent) {
        let (message, status): (String?, String) = state.withLock { s in
            var message: String?
            switch event {
            case let .planned(total, skipped):
                s.total += total
                message = "\(total) studies, \(skipped) already done"
            case let .stageStarted(study, stage):
                s.current[study] = stage.rawValue
                if mode == .plain && (stage == .read || stage == .infer) { message = "\(study): \(stage.rawValue)" }
            case let .slicesDone(study, done, total):
                s.current[study] = "infer \(done)/\(total) slices"
            case let .finished(outcome):
                s.current[outcome.study.name] = nil
                s.finished += 1
                switch outcome.status {
                case .skipped:
                    s.skipped += 1
                    if mode == .plain { message = "\(outcome.study.name): skipped: \(outcome.reason ?? "")" }
                case .failed:
                    s.failed += 1
                    message = "\(outcome.study.name): FAILED in \(outcome.stage?.rawValue ?? "?"): \(outcome.reason ?? "")"
                case .done:
                    s.secondsPerStudy.append(outcome.seconds)
                    let volumes = outcome.report?.targets.map { "\($0.name) \(String(format: "%.2f", $0.volumeML)) mL" }
                        .joined(separator: ", ") ?? ""
                    message = "\(outcome.study.name): done in \(String(format: "%.1f", outcome.seconds)) s (\(volumes))"
                    for warning in outcome.report?.warnings ?? [] {
                        message! += "\n\(outcome.study.name): warning: \(warning)"
                    }
                }
            }
            return (message, Self.statusLine(s))
        }
        if let message { line(message) }
        if mode == .terminal { FileHandle.standardError.write(Data("\r\u{1B}[2K\(status)".utf8)) }
    }

    static func statusLine(_ s: State) -> String {
        let processed = s.finished - s.skipped
        let remaining = max(0, s.total - s.finished)
        var eta = ""
        if !s.secondsPerStudy.isEmpty && remaining > 0 {
            // Studies overlap in the graph, so wall time per finished study is the honest rate.
            let perStudy = Date().timeIntervalSince(s.started) / Double(max(1, processed))
            eta = " | ETA \(duration(perStudy * Double(remaining)))"
        }
        let active = s.current.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        return "[\(s.finished)/\(s.total) studies, \(s.failed) failed]\(eta) \(active)"
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }

    private func line(_ message: String) {
        let prefix = mode == .terminal ? "\r\u{1B}[2K" : "\(ISO8601DateFormatter().string(from: Date())) "
        let lines = message.split(separator: "\n", omittingEmptySubsequences: false).map { prefix + $0 + "\n" }
        FileHandle.standardError.write(Data(lines.joined().utf8))
    }

    /// Ends the status line so later output starts on a fresh line.
    func close() {
        if mode == .terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func json(_ event: PipelineEvent) {
        var object: [String: Any] = ["time": ISO8601DateFormatter().string(from: Date())]
        switch event {
        case let .planned(total, skipped): object["event"] = "planned"; object["total"] = total; object["skipped"] = skipped
        case let .stageStarted(study, stage): object["event"] = "stage"; object["study"] = study; object["stage"] = stage.rawValue
        case let .slicesDone(study, done, total):
            object["event"] = "slices"; object["study"] = study; object["done"] = done; object["total"] = total
        case let .finished(outcome):
            object["event"] = "finished"; object["study"] = outcome.study.name; object["status"] = outcome.status.rawValue
            object["seconds"] = outcome.seconds
            if let reason = outcome.reason { object["reason"] = reason }
            if let stage = outcome.stage { object["stage"] = stage.rawValue }
            if !outcome.outputs.isEmpty { object["outputs"] = outcome.outputs }
            if let targets = outcome.report?.targets {
                object["targets"] = targets.map { ["name": $0.name, "voxels": $0.voxels, "volumeML": $0.volumeML] as [String: Any] }
            }
            if let warnings = outcome.report?.warnings, !warnings.isEmpty { object["warnings"] = warnings }
        }
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        }
    }

    /// Each SEG sent (or not) to a PACS: a line per item (failures even with --quiet), or JSON lines.
    func delivery(_ report: Delivery.Report) {
        for item in report.items {
            if mode == .json {
                var object: [String: Any] = ["time": ISO8601DateFormatter().string(from: Date()), "event": "delivery",
                                             "study": item.study, "file": item.file, "destination": item.destination,
                                             "delivered": item.problem == nil]
                if let problem = item.problem { object["problem"] = problem }
                if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                    FileHandle.standardOutput.write(data + Data("\n".utf8))
                }
            } else if let problem = item.problem {
                line("\(item.study): written, not delivered to \(item.destination): \(problem)")
            } else if mode != .quiet {
                line("\(item.study): \(item.file) delivered to \(item.destination)")
            }
        }
    }

    /// A DICOM listener's event: instances filed (not with --quiet), refusals always.
    func listener(_ event: ListenerEvent) {
        if mode == .json {
            let object: [String: Any] = ["time": ISO8601DateFormatter().string(from: Date()), "event": "listener",
                                         "refused": event.refused, "message": event.message]
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                FileHandle.standardOutput.write(data + Data("\n".utf8))
            }
        } else if event.refused || mode != .quiet {
            line("listener: \(event.message)")
        }
    }

    /// One JSON or text line for a command's end.
    func summary(done: Int, skipped: Int, failed: Int, notStarted: Int = 0, extra: String = "") {
        if mode == .json {
            var object: [String: Any] = ["event": "summary", "done": done, "skipped": skipped, "failed": failed]
            if notStarted > 0 { object["notStarted"] = notStarted }
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                FileHandle.standardOutput.write(data + Data("\n".utf8))
            }
        } else {
            close()
            let stopped = notStarted > 0 ? "; stopped before \(notStarted) studies (run again to do them)" : ""
            print("\(done) done, \(skipped) skipped, \(failed) failed\(extra)\(stopped)")
        }
    }
}
