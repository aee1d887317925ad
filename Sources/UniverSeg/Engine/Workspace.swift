/// Scratch memory for one forward pass at a time: named float buffers that only ever grow, so repeated queries
/// (hundreds of slices against one support set) allocate nothing after the first.
///
/// Not thread-safe: a workspace is used by one call at a time (the model hands them out from a locked pool).
final class Workspace: @unchecked Sendable {
    private var buffers: [String: (pointer: UnsafeMutablePointer<Float>, capacity: Int)] = [:]

    /// A buffer of at least `count` floats; contents are unspecified. Asking again for the same name with a larger
    /// count invalidates earlier pointers of that name, so each name is fetched once per pass.
    /// - Complexity: O(1) amortised.
    func floats(_ name: String, _ count: Int) -> UnsafeMutablePointer<Float> {
        if let b = buffers[name], b.capacity >= count { return b.pointer }
        if let old = buffers[name] { old.pointer.deallocate() }
        let capacity = max(count, 16)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity * 4, alignment: 64)
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
