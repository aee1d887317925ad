import Dispatch

/// A serial thread for blocking work (file I/O, the engine), so stages never block Swift's cooperative pool, and
/// CPU-heavy stages do not run side by side: one lane per kind of work.
public struct BlockingLane: Sendable {
    private let queue: DispatchQueue

    public init(label: String) {
        queue = DispatchQueue(label: "universeg.\(label)", qos: .userInitiated)
    }

    /// Runs `work` on the lane's thread and returns its result to the caller's task.
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                do { continuation.resume(returning: try work()) } catch { continuation.resume(throwing: error) }
            }
        }
    }
}
