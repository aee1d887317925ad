import Dispatch

/// A value computed on another thread while the caller does other work; `value` waits for it.
final class Concurrent<T: Sendable>: @unchecked Sendable {
    // Written once before `done` is signalled and read only after waiting on it.
    private var result: T?
    private let done = DispatchSemaphore(value: 0)

    init(_ work: @escaping @Sendable () -> T) {
        DispatchQueue.global(qos: .userInitiated).async {
            self.result = work()
            self.done.signal()
        }
    }

    var value: T {
        done.wait()
        done.signal()   // later reads do not block
        return result!
    }
}
