import Foundation

/// Why a study (or a run) could not be processed; every case names the file or study and the reason.
public enum PipelineError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(String, reason: String)
    case noMatchingSeries(study: String, reasons: [String])
    case noSupport(target: String, reason: String)
    case invalidVolume(String, reason: String)
    case writeFailed(String, reason: String)
    case unavailable(String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): \(reason)"
        case let .noMatchingSeries(study, reasons):
            return "\(study): no series matches the selection rules" + (reasons.isEmpty ? "" : " (\(reasons.joined(separator: "; ")))")
        case let .noSupport(target, reason): return "target '\(target)': \(reason)"
        case let .invalidVolume(path, reason): return "\(path): \(reason)"
        case let .writeFailed(path, reason): return "\(path): cannot write: \(reason)"
        case let .unavailable(what): return what
        }
    }
}
