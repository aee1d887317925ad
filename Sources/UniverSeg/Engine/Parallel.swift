import Dispatch
import Synchronization

/// A float pointer handed to worker closures. Workers only write disjoint ranges, so sharing it is safe;
/// Swift 6 cannot see that, hence the unchecked conformance (pointers are not Sendable).
struct SharedFloats: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    init(_ base: UnsafeMutablePointer<Float>) { self.base = base }
    init(_ base: UnsafePointer<Float>) { self.base = UnsafeMutablePointer(mutating: base) }
}

enum Parallel {
    /// Runs `body(worker, item)` for every item in 0..<count on up to `threads` workers. Items are handed out
    /// dynamically (the other core may be busy); `worker` is in 0..<threads and lets a worker use its own scratch.
    /// Results never depend on the thread count as long as each item's work is self-contained.
    static func forEach(_ count: Int, threads: Int, _ body: @Sendable (_ worker: Int, _ item: Int) -> Void) {
        let workers = min(threads, count)
        if workers <= 1 {
            for item in 0 ..< count { body(0, item) }
            return
        }
        let next = Counter()
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            while true {
                let item = next.take()
                if item >= count { break }
                body(worker, item)
            }
        }
    }

    private final class Counter: Sendable {
        private let value = Atomic<Int>(0)
        func take() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
    }
}
