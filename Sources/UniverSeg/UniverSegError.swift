import Diagnostics
import Foundation

/// Everything the engine reports: one line naming the file (for weights) and the reason.
public struct UniverSegError: UserError, Equatable {
    /// The weights file the error is about, when there is one.
    public let file: String?
    public let reason: String

    public init(file: String? = nil, _ reason: String) {
        self.file = file
        self.reason = reason
    }

    public var problem: String { reason }
}

extension UniverSegError: LocalizedError {
    public var errorDescription: String? { description }
}
