import Diagnostics
import Foundation

/// Why a study (or a run) could not be processed; every case names the file or study and the reason.
public enum PipelineError: UserError, Equatable {
    case unreadable(String, reason: String)
    case noMatchingSeries(study: String, reasons: [String])
    case noSupport(target: String, reason: String)
    case invalidVolume(String, reason: String)
    case writeFailed(String, reason: String)
    /// Something the run needs is missing or busy (the model, the output folder); `file` when it is one.
    case unavailable(String, file: String? = nil, hint: String? = nil)

    public var file: String? {
        switch self {
        case let .unreadable(path, _), let .invalidVolume(path, _), let .writeFailed(path, _): return path
        case let .noMatchingSeries(study, _): return study
        case let .unavailable(_, file, _): return file
        case .noSupport: return nil
        }
    }

    public var problem: String {
        switch self {
        case let .unreadable(_, reason), let .invalidVolume(_, reason): return reason
        case let .noMatchingSeries(_, reasons):
            return "no series matches the selection rules" + (reasons.isEmpty ? "" : " (\(reasons.joined(separator: "; ")))")
        case let .noSupport(target, reason): return "target '\(target)': \(reason)"
        case let .writeFailed(_, reason): return "cannot write: \(reason)"
        case let .unavailable(what, _, _): return what
        }
    }

    public var hint: String? {
        switch self {
        case .noMatchingSeries: return "see the series `universeg inspect` lists, and the pipeline's inputs.series rules"
        case .noSupport: return "support examples must show the target's label values in at least one slice"
        case let .unavailable(_, _, hint): return hint
        default: return nil
        }
    }
}
