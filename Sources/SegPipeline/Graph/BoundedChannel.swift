/// A first-in first-out queue between two pipeline stages with room for `capacity` items: `send` suspends while it
/// is full (backpressure), `next` suspends while it is empty. After `finish()`, `next` drains what is left, then
/// returns nil. Any number of senders and receivers may use it.
///
/// Invariant: `count <= capacity`; waiting senders exist only while the buffer is full, waiting receivers only
/// while it is empty; slots before `head` are nil, so a received element is never kept alive by the channel (a
/// study's volumes are tens of MB).
public actor BoundedChannel<Element: Sendable> {
    public let capacity: Int
    private var buffer: [Element?] = []
    private var head = 0
    private var finished = false
    private var waitingSenders: [(Element, CheckedContinuation<Void, Never>)] = []
    private var waitingReceivers: [CheckedContinuation<Element?, Never>] = []
    /// Callers of `untilSendersWait`, each with the number of waiting senders it waits for.
    private var senderWatchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []

    public init(capacity: Int) {
        precondition(capacity >= 1, "a channel needs room for at least one item")
        self.capacity = capacity
    }

    private var count: Int { buffer.count - head }

    /// Adds `element`, waiting while the channel is full. Sending after `finish()` is a programming error.
    public func send(_ element: Element) async {
        precondition(!finished, "send after finish")
        if !waitingReceivers.isEmpty {
            waitingReceivers.removeFirst().resume(returning: element)
            return
        }
        if count < capacity {
            buffer.append(element)
            return
        }
        await withCheckedContinuation {
            waitingSenders.append((element, $0))
            let ready = senderWatchers.filter { $0.count <= waitingSenders.count }
            senderWatchers.removeAll { $0.count <= waitingSenders.count }
            for watcher in ready { watcher.continuation.resume() }
        }
    }

    /// Returns once at least `count` senders are waiting for room: lets a test see backpressure happen without
    /// guessing how long it takes.
    func untilSendersWait(_ count: Int) async {
        if waitingSenders.count >= count { return }
        await withCheckedContinuation { senderWatchers.append((count, $0)) }
    }

    /// The oldest element, waiting while the channel is empty; nil once it is finished and drained.
    public func next() async -> Element? {
        if count > 0 {
            let element = buffer[head]!
            buffer[head] = nil
            head += 1
            if head == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 32 && head * 2 > buffer.count {
                buffer.removeFirst(head)
                head = 0
            }
            if !waitingSenders.isEmpty {
                let (pending, sender) = waitingSenders.removeFirst()
                buffer.append(pending)
                sender.resume()
            }
            return element
        }
        if !waitingSenders.isEmpty {  // only with a full buffer; kept for safety
            let (pending, sender) = waitingSenders.removeFirst()
            sender.resume()
            return pending
        }
        if finished { return nil }
        return await withCheckedContinuation { waitingReceivers.append($0) }
    }

    /// No more sends; receivers get what is left, then nil.
    public func finish() {
        finished = true
        for receiver in waitingReceivers { receiver.resume(returning: nil) }
        waitingReceivers.removeAll()
    }

    /// Items waiting in the buffer now (for tests and progress).
    public var bufferedCount: Int { count }
}
