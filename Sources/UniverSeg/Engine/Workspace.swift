/// Scratch memory for one forward pass at a time: named float buffers that only ever grow, so repeated queries
/// (hundreds of slices against one support set) allocate nothing after the first.
///
/// Two lifetimes, named at each call so the rule is visible where a pointer is taken:
/// - `buffer(_:_:)`: lives for the whole pass (a level's outputs, held until the decoder reads them as skips).
///   Each such name is fetched once per pass, checked in debug builds (the engine's parity tests run there).
/// - `scratch(_:_:)`: lives for one step (a convolution, a block, a decoder level) and is fetched again at the
///   next step, possibly larger, which may move it; its pointer is never held past that step.
///
/// Not thread-safe: a workspace is used by one call at a time (the model hands them out from a locked pool).
final class Workspace: @unchecked Sendable {
    private var buffers: [String: (pointer: UnsafeMutablePointer<Float>, capacity: Int)] = [:]
    /// The `buffer` names fetched since `beginPass()`; kept in debug builds only (see `buffer`).
    private var passNames: Set<String> = []

    /// Starts a pass: every `buffer` name may be fetched once again.
    func beginPass() {
        assert({ passNames.removeAll(keepingCapacity: true); return true }())
    }

    /// A buffer of at least `count` floats that stays put for the rest of the pass; contents are unspecified.
    /// Each name at most once per pass (a second fetch could move it under the first pointer).
    /// - Complexity: O(1) amortised.
    func buffer(_ name: String, _ count: Int) -> UnsafeMutablePointer<Float> {
        assert(passNames.insert(name).inserted, "workspace buffer '\(name)' fetched twice in one pass")
        return storage(name, count)
    }

    /// Scratch of at least `count` floats for one step; contents are unspecified. The pointer is valid until the
    /// next request for the same name, which may move it.
    /// - Complexity: O(1) amortised.
    func scratch(_ name: String, _ count: Int) -> UnsafeMutablePointer<Float> { storage(name, count) }

    private func storage(_ name: String, _ count: Int) -> UnsafeMutablePointer<Float> {
        if let b = buffers[name], b.capacity >= count { return b.pointer }
        if let old = buffers[name] { old.pointer.deallocate() }
        let capacity = max(count, 16)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity * 4, alignment: 64)
        HugePages.advise(raw, byteCount: capacity * 4)
        let pointer = raw.bindMemory(to: Float.self, capacity: capacity)
        buffers[name] = (pointer, capacity)
        return pointer
    }

    /// Bytes held, for diagnostics.
    var byteCount: Int { buffers.values.reduce(0) { $0 + $1.capacity * 4 } }

    deinit {
        for b in buffers.values { b.pointer.deallocate() }
    }
}
