import Foundation
import SegPipeline

/// SIGINT and SIGTERM for `run` and `watch`: the first stops new studies from starting and lets those in progress
/// finish and be written (a service manager restarting `watch` loses no work); a second stops at once. Either way
/// nothing is left half-written: outputs are staged and renamed together.
///
/// `@unchecked Sendable`: `sources` is set once in `init` and only kept alive; dispatch sources are thread-safe.
final class GracefulStop: @unchecked Sendable {
    private let flag = StopFlag()
    private let sources: [any DispatchSourceSignal]

    /// Starts listening; `onFirst` runs once, on the first signal.
    init(onFirst: @escaping @Sendable () -> Void) {
        let flag = self.flag
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)   // the dispatch source sees the signal; the default action would end the process
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if flag.raise() { exit(128 + number) }
                onFirst()
            }
            source.resume()
            return source
        }
    }

    var isRequested: Bool { flag.isRaised }
}
