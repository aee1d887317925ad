import Synchronization

/// A flag raised once, read from any thread (a stop request, which the graph asks for synchronously).
public final class StopFlag: Sendable {
    private let raised = Mutex(false)

    public init() {}

    /// Raises the flag; returns whether it was already raised.
    @discardableResult
    public func raise() -> Bool { raised.withLock { was in defer { was = true }; return was } }
    public var isRaised: Bool { raised.withLock { $0 } }
}
