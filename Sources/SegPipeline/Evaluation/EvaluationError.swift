import Diagnostics

/// Why `infer` or `evaluate` cannot go on: one line naming the file or folder and the reason, like compiler
/// output (`path: error: reason`), the style of `VolumeIOError` and `UniverSegError`.
public struct EvaluationError: UserError, Equatable {
    public let path: String
    public let reason: String

    public init(_ path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }

    public var file: String? { path }
    public var problem: String { reason }
}
